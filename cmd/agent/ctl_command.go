package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// ctlCommand is one `agent ctl` command: its synopsis, how many positional
// arguments it takes, its default deadline, and setup, which registers the
// command's own flags and returns the action that runs it.
type ctlCommand struct {
	name    string
	args    string // synopsis of the positional arguments and own flags
	summary string
	minArgs int
	maxArgs int
	timeout time.Duration // default request deadline; 0 means none
	// fileOutput marks commands that write a file (--out): for them an -o
	// that is not an output format names the file, so `-o out.pb.gz` works.
	fileOutput bool
	setup      func(fs *flag.FlagSet) ctlAction
}

// ctlAction runs a command with its positional arguments, already checked
// against the command's arity.
type ctlAction func(ctx context.Context, c *ctlCall, args []string) error

// ctlCall is what an action works with: the client and the printer.
type ctlCall struct {
	client procagentv1connect.ProcAgentServiceClient
	out    *ctlPrinter
	stderr io.Writer
}

// ctlCommandByName finds a command of the ctlCommands table.
func ctlCommandByName(name string) (*ctlCommand, bool) {
	for i := range ctlCommands {
		if ctlCommands[i].name == name {
			return &ctlCommands[i], true
		}
	}
	return nil, false
}

// flagSet returns the command's FlagSet, holding its own flags and the
// global ones, and the action. The global flags are bound to a copy of
// their defaults; ctlApplyGlobals carries the given ones over.
func (c *ctlCommand) flagSet(stderr io.Writer, getenv func(string) string) (*flag.FlagSet, ctlAction) {
	fs := flag.NewFlagSet("agent ctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	action := c.setup(fs)
	newCtlGlobal(getenv).bind(fs)
	return fs, action
}

// ctlApplyGlobals sets on global the global flags given on the command's
// FlagSet fs, so that they count as given there too.
func ctlApplyGlobals(global, fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && global.Lookup(f.Name) != nil {
			err = global.Set(f.Name, f.Value.String())
		}
	})
	return err
}

// usage prints the command's synopsis and flags.
func (c *ctlCommand) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: agent ctl %s\n\n%s\n\nflags (global ones included):\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// run parses the command's arguments, calls the agent and prints the
// result; it returns the exit code. global is the FlagSet of the global
// flags, bound to g and already parsed.
func (c *ctlCommand) run(ctx context.Context, global *flag.FlagSet, g *ctlGlobal, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs, action := c.flagSet(stderr, getenv)
	pos, err := ctlParseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout, fs)
			return ctlExitOK
		}
		c.usage(stderr, fs)
		return ctlExitUsage
	}
	if err := c.checkArgs(pos); err != nil {
		return c.usageError(stderr, fs, err)
	}
	if err := ctlApplyGlobals(global, fs); err != nil {
		return c.usageError(stderr, fs, err)
	}
	if c.fileOutput {
		ctlOutputAsFile(g, fs)
	}
	if err := g.finish(getenv); err != nil {
		return c.usageError(stderr, fs, err)
	}
	client, closeIdle, err := ctlNewClient(g)
	if err != nil {
		return c.usageError(stderr, fs, err)
	}
	defer closeIdle()
	timeout := c.timeout
	if ctlFlagGiven(global, "timeout") {
		timeout = g.timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	call := &ctlCall{client: client, out: &ctlPrinter{w: stdout, json: g.output == ctlOutputJSON}, stderr: stderr}
	if err := action(ctx, call, pos); err != nil {
		var ue *ctlUsageError
		if errors.As(err, &ue) {
			return c.usageError(stderr, fs, err)
		}
		return ctlReportError(stderr, err)
	}
	return ctlExitOK
}

// usageError prints err and the command's usage to stderr.
func (c *ctlCommand) usageError(stderr io.Writer, fs *flag.FlagSet, err error) int {
	fmt.Fprintf(stderr, "agent ctl %s: %v\n", c.name, err)
	c.usage(stderr, fs)
	return ctlExitUsage
}

// checkArgs checks the number of positional arguments.
func (c *ctlCommand) checkArgs(pos []string) error {
	switch {
	case len(pos) < c.minArgs:
		return ctlUsagef("missing argument: want %s", c.args)
	case len(pos) > c.maxArgs:
		return ctlUsagef("unexpected argument %q", strings.Join(pos[c.maxArgs:], " "))
	}
	return nil
}

// ctlParseInterleaved parses args with fs, letting flags come before,
// between and after the positional arguments (the flag package stops at the
// first non-flag). Everything after "--" is positional.
func ctlParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// ctlOutputAsFile reads `-o FILE` on a command that writes a file as
// `--out FILE`: an -o that is not an output format (table, json) names the
// file, unless --out was given too.
func ctlOutputAsFile(g *ctlGlobal, fs *flag.FlagSet) {
	if g.output == ctlOutputTable || g.output == ctlOutputJSON || ctlFlagGiven(fs, "out") {
		return
	}
	if err := fs.Set("out", g.output); err == nil {
		g.output = ctlOutputTable
	}
}
