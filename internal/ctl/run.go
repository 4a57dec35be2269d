package ctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit codes of `agent ctl`.
const (
	exitOK    = 0 // the call succeeded
	exitError = 1 // the RPC failed or the agent could not be reached
	exitUsage = 2 // bad command line
)

// Run runs `agent ctl ARGS…` and returns the process exit code: 0 on
// success, 1 when the RPC fails or the agent cannot be reached, 2 on a bad
// command line. args is what follows "ctl"; getenv looks up the environment
// (PROCAGENT_ADDR, PROCAGENT_TOKEN), os.Getenv in production. Cancelling ctx
// aborts the call; for stream it is a clean end.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	g := newGlobalFlags(getenv)
	fs := flag.NewFlagSet("agent ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	g.bind(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return exitOK
		}
		usage(stderr, fs)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "agent ctl: missing command")
		usage(stderr, fs)
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		return help(rest, stdout, stderr, fs, getenv)
	}
	cmd, ok := commandByName(name)
	if !ok {
		fmt.Fprintf(stderr, "agent ctl: unknown command %q\n", name)
		usage(stderr, fs)
		return exitUsage
	}
	return cmd.run(ctx, fs, g, rest, stdout, stderr, getenv)
}

// help prints the usage of all commands, or of the one named in args.
func help(args []string, stdout, stderr io.Writer, global *flag.FlagSet, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stdout, global)
		return exitOK
	}
	cmd, ok := commandByName(args[0])
	if !ok {
		fmt.Fprintf(stderr, "agent ctl help: unknown command %q\n", args[0])
		usage(stderr, global)
		return exitUsage
	}
	fs, _ := cmd.flagSet(io.Discard, getenv)
	cmd.usage(stdout, fs)
	return exitOK
}

// usage prints the ctl synopsis, the command list and the global flags.
func usage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprint(w, "usage: agent ctl [global flags] <command> [args] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "  help       print this help, or `help COMMAND` for one command\n\nglobal flags (also accepted after the command):\n")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprintln(w, "\nExit codes: 0 ok, 1 RPC error, 2 usage error.")
}
