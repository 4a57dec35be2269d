package ctl

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

// command is one `agent ctl` command: its synopsis, how many positional
// arguments it takes, its default deadline, and setup, which registers the
// command's own flags and returns the action that runs it. The commands
// table (commands.go) lists them all.
type command struct {
	name    string
	args    string // synopsis of the positional arguments and own flags
	summary string
	minArgs int
	maxArgs int
	timeout time.Duration // default request deadline; 0 means none
	// fileOutput marks commands that write a file (--out): for them an -o
	// that is not an output format names the file, so `-o out.pb.gz` works.
	fileOutput bool
	setup      func(fs *flag.FlagSet) action
}

// action runs a command with its positional arguments, already checked
// against the command's arity.
type action func(ctx context.Context, c *call, args []string) error

// call is what an action works with: the client and the printer, and
// for a command that builds clients of its own (top's fleet) the parsed
// global flags and the environment.
type call struct {
	client  procagentv1connect.ProcAgentServiceClient
	out     *printer
	stderr  io.Writer
	globals *globalFlags
	getenv  func(string) string
}

// commandByName finds a command of the commands table.
func commandByName(name string) (*command, bool) {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i], true
		}
	}
	return nil, false
}

// flagSet returns the command's FlagSet, holding its own flags and the
// global ones, and the action. The global flags are bound to a copy of
// their defaults; applyGlobals carries the given ones over.
func (c *command) flagSet(stderr io.Writer, getenv func(string) string) (*flag.FlagSet, action) {
	fs := flag.NewFlagSet("agent ctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	act := c.setup(fs)
	newGlobalFlags(getenv).bind(fs)
	return fs, act
}

// usage prints the command's synopsis and flags.
func (c *command) usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: agent ctl %s\n\n%s\n\nflags (global ones included):\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// run parses the command's arguments, calls the agent and prints the
// result; it returns the exit code. global is the FlagSet of the global
// flags, bound to g and already parsed.
func (c *command) run(ctx context.Context, global *flag.FlagSet, g *globalFlags, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs, act := c.flagSet(stderr, getenv)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout, fs)
			return exitOK
		}
		c.usage(stderr, fs)
		return exitUsage
	}
	if err := c.checkArgs(pos); err != nil {
		return c.usageExit(stderr, fs, err)
	}
	if err := applyGlobals(global, fs); err != nil {
		return c.usageExit(stderr, fs, err)
	}
	if c.fileOutput {
		g.outputAsFile(fs)
	}
	if err := g.finish(getenv); err != nil {
		return c.usageExit(stderr, fs, err)
	}
	client, closeIdle, err := newClient(g)
	if err != nil {
		return c.usageExit(stderr, fs, err)
	}
	defer closeIdle()
	timeout := c.timeout
	if flagGiven(global, "timeout") {
		timeout = g.timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cl := &call{client: client, out: &printer{w: stdout, json: g.output == outputJSON}, stderr: stderr, globals: g, getenv: getenv}
	if err := act(ctx, cl, pos); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			return c.usageExit(stderr, fs, err)
		}
		return reportError(stderr, err)
	}
	return exitOK
}

// usageExit prints err and the command's usage to stderr and returns the
// usage exit code.
func (c *command) usageExit(stderr io.Writer, fs *flag.FlagSet, err error) int {
	fmt.Fprintf(stderr, "agent ctl %s: %v\n", c.name, err)
	c.usage(stderr, fs)
	return exitUsage
}

// checkArgs checks the number of positional arguments.
func (c *command) checkArgs(pos []string) error {
	switch {
	case len(pos) < c.minArgs:
		return usagef("missing argument: want %s", c.args)
	case len(pos) > c.maxArgs:
		return usagef("unexpected argument %q", strings.Join(pos[c.maxArgs:], " "))
	}
	return nil
}
