package ctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"syscall"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// Default request deadlines of the ctl commands.
const (
	timeoutDefault = 10 * time.Second
	timeoutWait    = 30 * time.Second
)

// commands lists every `agent ctl` command, one per RPC, in the order
// the usage shows them.
var commands = []command{
	{name: "create", args: "ID TYPE [--rank N] [--params JSON]", summary: "create an actor of TYPE under ID (CreateOrUpdate); prints its state",
		minArgs: 2, maxArgs: 2, timeout: timeoutDefault, setup: createCmd},
	{name: "stop", args: "ID [--reason R]", summary: "ask an actor to stop (Stop); prints its state",
		minArgs: 1, maxArgs: 1, timeout: timeoutDefault, setup: stopCmd},
	{name: "stopall", args: "[--reason R]", summary: "stop every actor and end the agent (StopAll); prints its exit code and the stopped ids",
		timeout: timeoutDefault, setup: stopAllCmd},
	{name: "get", args: "ID", summary: "print an actor's state (GetState)",
		minArgs: 1, maxArgs: 1, timeout: timeoutDefault, setup: getCmd},
	{name: "keepalive", args: "ID [--ttl D]", summary: "print an actor's state and extend its lease by D (KeepaliveGetState)",
		minArgs: 1, maxArgs: 1, timeout: timeoutDefault, setup: keepaliveCmd},
	{name: "stream", args: "ID [--rank N]", summary: "print an actor's states as they change, until a terminal one (StreamState)",
		minArgs: 1, maxArgs: 1, setup: streamCmd},
	{name: "rank", args: "ID [--rank N]", summary: "print an actor's status placed at rank N (GetRankStatus)",
		minArgs: 1, maxArgs: 1, timeout: timeoutDefault, setup: rankCmd},
	{name: "wait", args: "ID --min STATUS [--rank N]", summary: "wait until an actor's status is at least STATUS (WaitRankStatus)",
		minArgs: 1, maxArgs: 1, timeout: timeoutWait, setup: waitCmd},
	{name: "list", args: "", summary: "list every tracked actor (List)",
		timeout: timeoutDefault, setup: listCmd},
	{name: "send", args: "ID PAYLOAD_JSON [--wait]", summary: "post a JSON message to an actor (Send); with --wait prints its reply",
		minArgs: 2, maxArgs: 2, timeout: timeoutDefault, setup: sendCmd},
	{name: "query", args: "[REF]", summary: "introspect the proc, or the actor REF (QueryChild)",
		maxArgs: 1, timeout: timeoutDefault, setup: queryCmd},
	{name: "config", args: "", summary: "print the agent's effective configuration (ConfigDump)",
		timeout: timeoutDefault, setup: configCmd},
	{name: "mesh", args: "SUBCOMMAND --targets SPEC, a subcommand of\n  create ID TYPE [--params JSON]\n  wait ID --min STATUS\n  stop ID [--reason R]\n  status ID\n  list\n  stopall [--reason R]", summary: "cast a command to every agent of a fleet (a file_sd file, an http_sd URL or host:port list) and print the ranks' merged status",
		minArgs: 1, maxArgs: 3, timeout: timeoutWait, setup: meshCmd},
	{name: "pyspy", args: "dump ACTOR|--pid N [--native] [--native-all] [--nonblocking] [--locals] [--subprocesses]", summary: "print the Python stacks of an actor's process, or of an allowed pid (PySpyDump)",
		minArgs: 1, maxArgs: 2, timeout: timeoutWait, setup: pySpyCmd},
	{name: "profile", args: "ACTOR|--pid N [--duration D] [--rate HZ] [--format pprof|flamegraph|speedscope|raw] --out FILE", summary: "record a Python profile of an actor's process, or of an allowed pid, into FILE (PySpyProfile)",
		maxArgs: 1, fileOutput: true, setup: profileCmd},
	{name: "goprofile", args: "NAME [--duration D] [--debug N] --out FILE", summary: "write a Go profile of the agent (heap, goroutine, allocs, block, mutex, threadcreate, cpu) into FILE (GoProfile)",
		minArgs: 1, maxArgs: 1, fileOutput: true, setup: goProfileCmd},
	{name: "top", args: "[--targets SPEC] [--sort KEY] [--interval D] [--once]", summary: "a live view of the agent's actors, or of a fleet of agents (List, QueryChild, GetState, /metrics); q quits",
		setup: topCmd},
}

// createCmd is `create ID TYPE`.
func createCmd(fs *flag.FlagSet) action {
	rank := fs.Uint64("rank", 0, "the caller's rank for this proc")
	params := fs.String("params", "", "the actor type's parameters, a JSON object")
	return func(ctx context.Context, c *call, args []string) error {
		spec := &procagentv1.ActorSpec{ActorType: args[1]}
		if *params != "" {
			s, err := parseParams(*params)
			if err != nil {
				return err
			}
			spec.Params = s
		}
		res, err := c.client.CreateOrUpdate(ctx, connect.NewRequest(&procagentv1.CreateOrUpdateRequest{Id: args[0], Rank: *rank, Spec: spec}))
		if err != nil {
			return err
		}
		return c.out.state(res.Msg, res.Msg.GetState())
	}
}

// stopCmd is `stop ID`.
func stopCmd(fs *flag.FlagSet) action {
	reason := fs.String("reason", "", "why the actor is stopped (default \"stopped by request\")")
	return func(ctx context.Context, c *call, args []string) error {
		res, err := c.client.Stop(ctx, connect.NewRequest(&procagentv1.StopRequest{Id: args[0], Reason: *reason}))
		if err != nil {
			return err
		}
		return c.out.state(res.Msg, res.Msg.GetState())
	}
}

// stopAllCmd is `stopall`. The agent exits after replying, so a connection
// that ends without a reply is reported but not an error.
func stopAllCmd(fs *flag.FlagSet) action {
	reason := fs.String("reason", "", "why the actors are stopped (default \"stop all\")")
	return func(ctx context.Context, c *call, _ []string) error {
		res, err := c.client.StopAll(ctx, connect.NewRequest(&procagentv1.StopAllRequest{Reason: *reason}))
		if err != nil {
			if agentWentAway(err) {
				fmt.Fprintf(c.stderr, "agent ctl stopall: the agent closed the connection without a reply (it is exiting): %v\n", err)
				return nil
			}
			return err
		}
		return c.out.stopAll(res.Msg)
	}
}

// agentWentAway reports whether err is a connection that the agent
// closed mid-call, as opposed to one it never accepted.
func agentWentAway(err error) bool {
	if connect.CodeOf(err) != connect.CodeUnavailable || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// getCmd is `get ID`.
func getCmd(*flag.FlagSet) action {
	return func(ctx context.Context, c *call, args []string) error {
		res, err := c.client.GetState(ctx, connect.NewRequest(&procagentv1.GetStateRequest{Id: args[0]}))
		if err != nil {
			return err
		}
		return c.out.state(res.Msg, res.Msg.GetState())
	}
}

// keepaliveCmd is `keepalive ID`.
func keepaliveCmd(fs *flag.FlagSet) action {
	ttl := fs.Duration("ttl", 0, "how long the actor lives without another keepalive; 0 means the agent's orphan_timeout")
	return func(ctx context.Context, c *call, args []string) error {
		req := &procagentv1.KeepaliveGetStateRequest{Id: args[0]}
		if *ttl != 0 {
			req.Ttl = durationpb.New(*ttl)
		}
		res, err := c.client.KeepaliveGetState(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		return c.out.state(res.Msg, res.Msg.GetState())
	}
}

// rankCmd is `rank ID`.
func rankCmd(fs *flag.FlagSet) action {
	rank := fs.Uint64("rank", 0, "the rank to place the actor's status at")
	return func(ctx context.Context, c *call, args []string) error {
		res, err := c.client.GetRankStatus(ctx, connect.NewRequest(&procagentv1.GetRankStatusRequest{Id: args[0], Rank: *rank}))
		if err != nil {
			return err
		}
		return c.out.overlay(res.Msg, res.Msg.GetOverlay())
	}
}

// waitCmd is `wait ID --min STATUS`.
func waitCmd(fs *flag.FlagSet) action {
	rank := fs.Uint64("rank", 0, "the rank to place the actor's status at")
	minStatus := fs.String("min", "", "the status to wait for, e.g. RUNNING or STOPPED (required)")
	return func(ctx context.Context, c *call, args []string) error {
		if *minStatus == "" {
			return usagef("--min is required")
		}
		st, err := parseStatus(*minStatus)
		if err != nil {
			return err
		}
		res, err := c.client.WaitRankStatus(ctx, connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: args[0], Rank: *rank, MinStatus: st}))
		if err != nil {
			return err
		}
		return c.out.overlay(res.Msg, res.Msg.GetOverlay())
	}
}

// listCmd is `list`.
func listCmd(*flag.FlagSet) action {
	return func(ctx context.Context, c *call, _ []string) error {
		res, err := c.client.List(ctx, connect.NewRequest(&procagentv1.ListRequest{}))
		if err != nil {
			return err
		}
		return c.out.list(res.Msg)
	}
}

// sendCmd is `send ID PAYLOAD_JSON`.
func sendCmd(fs *flag.FlagSet) action {
	wait := fs.Bool("wait", false, "wait for the actor's reply and print it")
	return func(ctx context.Context, c *call, args []string) error {
		payload, err := parseValue(args[1])
		if err != nil {
			return err
		}
		res, err := c.client.Send(ctx, connect.NewRequest(&procagentv1.SendRequest{Id: args[0], Payload: payload, Wait: *wait}))
		if err != nil {
			return err
		}
		return c.out.send(res.Msg, *wait)
	}
}

// queryCmd is `query [REF]`.
func queryCmd(*flag.FlagSet) action {
	return func(ctx context.Context, c *call, args []string) error {
		var ref string
		if len(args) > 0 {
			ref = args[0]
		}
		res, err := c.client.QueryChild(ctx, connect.NewRequest(&procagentv1.QueryChildRequest{Ref: ref}))
		if err != nil {
			return err
		}
		return c.out.query(res.Msg)
	}
}

// configCmd is `config`.
func configCmd(*flag.FlagSet) action {
	return func(ctx context.Context, c *call, _ []string) error {
		res, err := c.client.ConfigDump(ctx, connect.NewRequest(&procagentv1.ConfigDumpRequest{}))
		if err != nil {
			return err
		}
		return c.out.config(res.Msg)
	}
}
