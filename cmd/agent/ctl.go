package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
)

// Exit codes of `agent ctl`.
const (
	ctlExitOK    = 0 // the call succeeded
	ctlExitError = 1 // the RPC failed or the agent could not be reached
	ctlExitUsage = 2 // bad command line
)

// Environment variables `agent ctl` reads; its flags override them.
const (
	ctlEnvAddr  = "PROCAGENT_ADDR"
	ctlEnvToken = "PROCAGENT_TOKEN" //nolint:gosec // G101: the name of a variable, not a credential
)

// ctlDefaultAddr is where `agent ctl` looks for the agent: the default
// listen address of `agent serve`.
const ctlDefaultAddr = "127.0.0.1:9464"

// ctlGlobal holds the flags every ctl command accepts. They may be given
// before the command or among its own flags.
type ctlGlobal struct {
	addr     string
	token    string
	output   string
	protocol string
	timeout  time.Duration
}

// newCtlGlobal returns the global flags' defaults; the address comes from
// the environment when set there.
func newCtlGlobal(getenv func(string) string) *ctlGlobal {
	g := &ctlGlobal{addr: getenv(ctlEnvAddr), output: ctlOutputTable, protocol: ctlProtocolConnect}
	if g.addr == "" {
		g.addr = ctlDefaultAddr
	}
	return g
}

// bind registers the global flags on fs with g's values as defaults. The
// token's environment variable is read after parsing (see finish), so that
// a secret never shows up as a flag default in the usage.
func (g *ctlGlobal) bind(fs *flag.FlagSet) {
	fs.StringVar(&g.addr, "addr", g.addr, "agent address HOST:PORT, or an http:// or https:// URL (env "+ctlEnvAddr+")")
	fs.StringVar(&g.token, "token", g.token, "bearer token sent as the Authorization header (env "+ctlEnvToken+")")
	fs.StringVar(&g.output, "o", g.output, "output format: table or json")
	fs.StringVar(&g.protocol, "protocol", g.protocol, "RPC protocol: connect, grpc or grpcweb")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "request deadline, 0 for none (default 30s for wait and pyspy dump, none for stream, the duration plus 30s for profile and goprofile cpu, 10s for the others)")
}

// finish validates the parsed global flags and fills the token from the
// environment when no flag gave it.
func (g *ctlGlobal) finish(getenv func(string) string) error {
	if g.token == "" {
		g.token = getenv(ctlEnvToken)
	}
	switch g.output {
	case ctlOutputTable, ctlOutputJSON:
	default:
		return ctlUsagef("-o %q: want table or json (profiles are written with --out FILE)", g.output)
	}
	switch g.protocol {
	case ctlProtocolConnect, ctlProtocolGRPC, ctlProtocolGRPCWeb:
	default:
		return ctlUsagef("--protocol %q: want connect, grpc or grpcweb", g.protocol)
	}
	if g.timeout < 0 {
		return ctlUsagef("--timeout %v: must not be negative", g.timeout)
	}
	return nil
}

// ctlUsageError is a bad command line: exit code 2 and the usage.
type ctlUsageError struct{ msg string }

func (e *ctlUsageError) Error() string { return e.msg }

// ctlUsagef returns a ctlUsageError.
func ctlUsagef(format string, args ...any) error {
	return &ctlUsageError{msg: fmt.Sprintf(format, args...)}
}

// runCtl runs `agent ctl` with args (what follows "ctl") and returns the
// exit code: 0 on success, 1 when the RPC fails, 2 on a bad command line.
// Cancelling ctx aborts the call; for stream it is a clean end.
func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runCtlEnv(ctx, args, stdout, stderr, os.Getenv)
}

// runCtlEnv is runCtl with the environment given as a lookup function.
func runCtlEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	g := newCtlGlobal(getenv)
	fs := flag.NewFlagSet("agent ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	g.bind(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			ctlUsage(stdout, fs)
			return ctlExitOK
		}
		ctlUsage(stderr, fs)
		return ctlExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "agent ctl: missing command")
		ctlUsage(stderr, fs)
		return ctlExitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		return ctlHelp(rest, stdout, stderr, fs, getenv)
	}
	cmd, ok := ctlCommandByName(name)
	if !ok {
		fmt.Fprintf(stderr, "agent ctl: unknown command %q\n", name)
		ctlUsage(stderr, fs)
		return ctlExitUsage
	}
	return cmd.run(ctx, fs, g, rest, stdout, stderr, getenv)
}

// ctlHelp prints the usage of all commands, or of the one named in args.
func ctlHelp(args []string, stdout, stderr io.Writer, global *flag.FlagSet, getenv func(string) string) int {
	if len(args) == 0 {
		ctlUsage(stdout, global)
		return ctlExitOK
	}
	cmd, ok := ctlCommandByName(args[0])
	if !ok {
		fmt.Fprintf(stderr, "agent ctl help: unknown command %q\n", args[0])
		ctlUsage(stderr, global)
		return ctlExitUsage
	}
	fs, _ := cmd.flagSet(io.Discard, getenv)
	cmd.usage(stdout, fs)
	return ctlExitOK
}

// ctlUsage prints the ctl synopsis, the command list and the global flags.
func ctlUsage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprint(w, "usage: agent ctl [global flags] <command> [args] [flags]\n\ncommands:\n")
	for _, c := range ctlCommands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "  help       print this help, or `help COMMAND` for one command\n\nglobal flags (also accepted after the command):\n")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprintln(w, "\nExit codes: 0 ok, 1 RPC error, 2 usage error.")
}

// ctlFlagGiven reports whether the flag name was given on fs's command line.
func ctlFlagGiven(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// ctlReportError prints a failed call's error as "error: <code>: <message>"
// and returns the exit code.
func ctlReportError(stderr io.Writer, err error) int {
	code := connect.CodeOf(err)
	msg := err.Error()
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg = ce.Message()
	}
	msg = strings.TrimPrefix(msg, code.String()+": ")
	fmt.Fprintf(stderr, "error: %s: %s\n", code, msg)
	return ctlExitError
}
