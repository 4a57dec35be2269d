package main

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
	ctlTimeoutDefault = 10 * time.Second
	ctlTimeoutWait    = 30 * time.Second
)

// ctlCommands lists every `agent ctl` command, one per RPC, in the order
// the usage shows them.
var ctlCommands = []ctlCommand{
	{name: "create", args: "ID TYPE [--rank N] [--params JSON]", summary: "create an actor of TYPE under ID (CreateOrUpdate); prints its state",
		minArgs: 2, maxArgs: 2, timeout: ctlTimeoutDefault, setup: ctlCreate},
	{name: "stop", args: "ID [--reason R]", summary: "ask an actor to stop (Stop); prints its state",
		minArgs: 1, maxArgs: 1, timeout: ctlTimeoutDefault, setup: ctlStop},
	{name: "stopall", args: "[--reason R]", summary: "stop every actor and end the agent (StopAll); prints its exit code and the stopped ids",
		timeout: ctlTimeoutDefault, setup: ctlStopAll},
	{name: "get", args: "ID", summary: "print an actor's state (GetState)",
		minArgs: 1, maxArgs: 1, timeout: ctlTimeoutDefault, setup: ctlGet},
	{name: "keepalive", args: "ID [--ttl D]", summary: "print an actor's state and extend its lease by D (KeepaliveGetState)",
		minArgs: 1, maxArgs: 1, timeout: ctlTimeoutDefault, setup: ctlKeepalive},
	{name: "stream", args: "ID [--rank N]", summary: "print an actor's states as they change, until a terminal one (StreamState)",
		minArgs: 1, maxArgs: 1, setup: ctlStream},
	{name: "rank", args: "ID [--rank N]", summary: "print an actor's status placed at rank N (GetRankStatus)",
		minArgs: 1, maxArgs: 1, timeout: ctlTimeoutDefault, setup: ctlRank},
	{name: "wait", args: "ID --min STATUS [--rank N]", summary: "wait until an actor's status is at least STATUS (WaitRankStatus)",
		minArgs: 1, maxArgs: 1, timeout: ctlTimeoutWait, setup: ctlWait},
	{name: "list", args: "", summary: "list every tracked actor (List)",
		timeout: ctlTimeoutDefault, setup: ctlList},
	{name: "send", args: "ID PAYLOAD_JSON [--wait]", summary: "post a JSON message to an actor (Send); with --wait prints its reply",
		minArgs: 2, maxArgs: 2, timeout: ctlTimeoutDefault, setup: ctlSend},
	{name: "query", args: "[REF]", summary: "introspect the proc, or the actor REF (QueryChild)",
		maxArgs: 1, timeout: ctlTimeoutDefault, setup: ctlQuery},
	{name: "config", args: "", summary: "print the agent's effective configuration (ConfigDump)",
		timeout: ctlTimeoutDefault, setup: ctlConfig},
	{name: "pyspy", args: "dump ACTOR|--pid N [--native] [--native-all] [--nonblocking] [--locals] [--subprocesses]", summary: "print the Python stacks of an actor's process, or of an allowed pid (PySpyDump)",
		minArgs: 1, maxArgs: 2, timeout: ctlTimeoutWait, setup: ctlPySpy},
	{name: "profile", args: "ACTOR|--pid N [--duration D] [--rate HZ] [--format pprof|flamegraph|speedscope|raw] --out FILE", summary: "record a Python profile of an actor's process, or of an allowed pid, into FILE (PySpyProfile)",
		maxArgs: 1, fileOutput: true, setup: ctlProfile},
	{name: "goprofile", args: "NAME [--duration D] [--debug N] --out FILE", summary: "write a Go profile of the agent (heap, goroutine, allocs, block, mutex, threadcreate, cpu) into FILE (GoProfile)",
		minArgs: 1, maxArgs: 1, fileOutput: true, setup: ctlGoProfile},
}

// ctlCreate is `create ID TYPE`.
func ctlCreate(fs *flag.FlagSet) ctlAction {
	rank := fs.Uint64("rank", 0, "the caller's rank for this proc")
	params := fs.String("params", "", "the actor type's parameters, a JSON object")
	return func(ctx context.Context, c *ctlCall, args []string) error {
		spec := &procagentv1.ActorSpec{ActorType: args[1]}
		if *params != "" {
			s, err := ctlParseParams(*params)
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

// ctlStop is `stop ID`.
func ctlStop(fs *flag.FlagSet) ctlAction {
	reason := fs.String("reason", "", "why the actor is stopped (default \"stopped by request\")")
	return func(ctx context.Context, c *ctlCall, args []string) error {
		res, err := c.client.Stop(ctx, connect.NewRequest(&procagentv1.StopRequest{Id: args[0], Reason: *reason}))
		if err != nil {
			return err
		}
		return c.out.state(res.Msg, res.Msg.GetState())
	}
}

// ctlStopAll is `stopall`. The agent exits after replying, so a connection
// that ends without a reply is reported but not an error.
func ctlStopAll(fs *flag.FlagSet) ctlAction {
	reason := fs.String("reason", "", "why the actors are stopped (default \"stop all\")")
	return func(ctx context.Context, c *ctlCall, _ []string) error {
		res, err := c.client.StopAll(ctx, connect.NewRequest(&procagentv1.StopAllRequest{Reason: *reason}))
		if err != nil {
			if ctlAgentWentAway(err) {
				fmt.Fprintf(c.stderr, "agent ctl stopall: the agent closed the connection without a reply (it is exiting): %v\n", err)
				return nil
			}
			return err
		}
		return c.out.stopAll(res.Msg)
	}
}

// ctlAgentWentAway reports whether err is a connection that the agent
// closed mid-call, as opposed to one it never accepted.
func ctlAgentWentAway(err error) bool {
	if connect.CodeOf(err) != connect.CodeUnavailable || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// ctlGet is `get ID`.
func ctlGet(*flag.FlagSet) ctlAction {
	return func(ctx context.Context, c *ctlCall, args []string) error {
		res, err := c.client.GetState(ctx, connect.NewRequest(&procagentv1.GetStateRequest{Id: args[0]}))
		if err != nil {
			return err
		}
		return c.out.state(res.Msg, res.Msg.GetState())
	}
}

// ctlKeepalive is `keepalive ID`.
func ctlKeepalive(fs *flag.FlagSet) ctlAction {
	ttl := fs.Duration("ttl", 0, "how long the actor lives without another keepalive; 0 means the agent's orphan_timeout")
	return func(ctx context.Context, c *ctlCall, args []string) error {
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

// ctlStream is `stream ID`: it prints every state until the agent ends the
// stream after a terminal state. A cancelled ctx (Ctrl-C) ends it cleanly;
// a stream that ends before a terminal state (its deadline passed on the
// agent's side first) is an error.
func ctlStream(fs *flag.FlagSet) ctlAction {
	rank := fs.Uint64("rank", 0, "the caller's rank for this proc")
	return func(ctx context.Context, c *ctlCall, args []string) error {
		stream, err := c.client.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: args[0], Rank: *rank}))
		if err != nil {
			return ctlStreamErr(ctx, err)
		}
		defer stream.Close()
		sw := c.out.stateStream()
		last := procagentv1.Status_STATUS_UNSPECIFIED
		for stream.Receive() {
			if err := sw.write(stream.Msg()); err != nil {
				return err
			}
			last = stream.Msg().GetState().GetStatus()
		}
		if err := stream.Err(); err != nil || ctlStreamFinal(last) {
			return ctlStreamErr(ctx, err)
		}
		if _, ok := ctx.Deadline(); ok {
			return ctlStreamErr(ctx, connect.NewError(connect.CodeDeadlineExceeded, errors.New("the stream reached its deadline before a terminal state")))
		}
		return ctlStreamErr(ctx, connect.NewError(connect.CodeUnavailable, errors.New("the agent ended the stream before a terminal state")))
	}
}

// ctlStreamFinal reports whether the agent ends a stream after status: a
// terminal status, or NOT_EXIST for an unknown id.
func ctlStreamFinal(status procagentv1.Status) bool {
	switch status {
	case procagentv1.Status_STATUS_NOT_EXIST, procagentv1.Status_STATUS_STOPPED,
		procagentv1.Status_STATUS_FAILED, procagentv1.Status_STATUS_TIMEOUT:
		return true
	}
	return false
}

// ctlStreamErr drops the error of a stream that ended because ctx was
// cancelled (not timed out).
func ctlStreamErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return err
}

// ctlRank is `rank ID`.
func ctlRank(fs *flag.FlagSet) ctlAction {
	rank := fs.Uint64("rank", 0, "the rank to place the actor's status at")
	return func(ctx context.Context, c *ctlCall, args []string) error {
		res, err := c.client.GetRankStatus(ctx, connect.NewRequest(&procagentv1.GetRankStatusRequest{Id: args[0], Rank: *rank}))
		if err != nil {
			return err
		}
		return c.out.overlay(res.Msg, res.Msg.GetOverlay())
	}
}

// ctlWait is `wait ID --min STATUS`.
func ctlWait(fs *flag.FlagSet) ctlAction {
	rank := fs.Uint64("rank", 0, "the rank to place the actor's status at")
	minStatus := fs.String("min", "", "the status to wait for, e.g. RUNNING or STOPPED (required)")
	return func(ctx context.Context, c *ctlCall, args []string) error {
		if *minStatus == "" {
			return ctlUsagef("--min is required")
		}
		st, err := ctlParseStatus(*minStatus)
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

// ctlList is `list`.
func ctlList(*flag.FlagSet) ctlAction {
	return func(ctx context.Context, c *ctlCall, _ []string) error {
		res, err := c.client.List(ctx, connect.NewRequest(&procagentv1.ListRequest{}))
		if err != nil {
			return err
		}
		return c.out.list(res.Msg)
	}
}

// ctlSend is `send ID PAYLOAD_JSON`.
func ctlSend(fs *flag.FlagSet) ctlAction {
	wait := fs.Bool("wait", false, "wait for the actor's reply and print it")
	return func(ctx context.Context, c *ctlCall, args []string) error {
		payload, err := ctlParseValue(args[1])
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

// ctlQuery is `query [REF]`.
func ctlQuery(*flag.FlagSet) ctlAction {
	return func(ctx context.Context, c *ctlCall, args []string) error {
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

// ctlConfig is `config`.
func ctlConfig(*flag.FlagSet) ctlAction {
	return func(ctx context.Context, c *ctlCall, _ []string) error {
		res, err := c.client.ConfigDump(ctx, connect.NewRequest(&procagentv1.ConfigDumpRequest{}))
		if err != nil {
			return err
		}
		return c.out.config(res.Msg)
	}
}
