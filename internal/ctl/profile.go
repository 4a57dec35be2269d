package ctl

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// The profiling commands write a profile's bytes to the file named by
// --out (-o is the global output format, table or json). "--out -" writes
// them to stdout, and the summary then goes to stderr. With -o table,
// --out is required; with -o json it is optional: the JSON response
// carries the bytes (base64) unless --out took them.

// outStdout is the --out value that writes the profile to stdout.
const outStdout = "-"

// profileMargin is added to a recording's duration for the default
// deadline: the agent allows its sampler duration + 15 s.
const profileMargin = 30 * time.Second

// The agent's Go CPU profile: its name, and how long it records when asked
// without a duration. They mirror the profiling package's GoProfileCPU and
// DefaultCPUDuration, which ctl does not import (profile_test.go checks
// that they agree).
const (
	goProfileCPU        = "cpu"
	goProfileCPUDefault = 30 * time.Second
)

// profileFormats maps --format to the wire formats.
var profileFormats = map[string]procagentv1.ProfileFormat{
	"pprof":      procagentv1.ProfileFormat_PROFILE_FORMAT_PPROF,
	"flamegraph": procagentv1.ProfileFormat_PROFILE_FORMAT_FLAMEGRAPH,
	"speedscope": procagentv1.ProfileFormat_PROFILE_FORMAT_SPEEDSCOPE,
	"raw":        procagentv1.ProfileFormat_PROFILE_FORMAT_RAW,
}

// targetFlag is the ACTOR argument or the --pid flag of a py-spy command.
type targetFlag struct {
	pid *int64
}

// bind registers --pid on fs.
func (t *targetFlag) bind(fs *flag.FlagSet) {
	t.pid = fs.Int64("pid", 0, "sample this pid instead of an actor's process; the agent refuses pids not on its allow-list")
}

// resolve returns the actor id or the pid, exactly one of which must be
// given.
func (t *targetFlag) resolve(args []string) (actor string, pid int64, err error) {
	switch {
	case len(args) == 1 && *t.pid != 0:
		return "", 0, usagef("give ACTOR or --pid, not both")
	case len(args) == 1:
		return args[0], 0, nil
	case *t.pid != 0:
		return "", *t.pid, nil
	}
	return "", 0, usagef("missing target: give ACTOR or --pid N")
}

// outFlag is the --out flag and what it implies.
type outFlag struct {
	path *string
}

// bind registers --out on fs.
func (o *outFlag) bind(fs *flag.FlagSet) {
	o.path = fs.String("out", "", "write the profile to `FILE` (- for stdout); required unless -o json")
}

// check validates --out against the output format.
func (o *outFlag) check(c *call) error {
	switch {
	case *o.path == "" && !c.out.json:
		return usagef("--out FILE is required: where to write the profile (- for stdout; -o sets the output format, table or json)")
	case *o.path == outStdout && c.out.json:
		return usagef("--out - and -o json would both write to stdout")
	}
	return nil
}

// write writes b to --out; it returns the printer for the summary: stderr
// when the profile went to stdout.
func (o *outFlag) write(c *call, b []byte) (*printer, error) {
	switch *o.path {
	case "":
		return c.out, nil
	case outStdout:
		if _, err := c.out.w.Write(b); err != nil {
			return nil, fmt.Errorf("write profile: %w", err)
		}
		return &printer{w: c.stderr}, nil
	}
	if err := os.WriteFile(*o.path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write profile: %w", err)
	}
	return c.out, nil
}

// defaultDeadline gives ctx a deadline of d when it has none (no --timeout).
func defaultDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// pySpyCmd is `pyspy dump ACTOR|--pid N`.
func pySpyCmd(fs *flag.FlagSet) action {
	var target targetFlag
	target.bind(fs)
	native := fs.Bool("native", false, "include native (C/C++) frames")
	nativeAll := fs.Bool("native-all", false, "include every native frame (retried without when unsupported, with a warning)")
	nonblocking := fs.Bool("nonblocking", false, "do not pause the target while sampling (less accurate)")
	locals := fs.Bool("locals", false, "include each frame's local variables")
	subprocesses := fs.Bool("subprocesses", false, "also dump the target's child processes")
	gil := fs.Bool("gil", false, "keep only the thread holding the GIL")
	var threads threadsFlag
	fs.Var(&threads, "threads", "keep only these threads: comma-separated `IDS`, decimal or 0x hex")
	return func(ctx context.Context, c *call, args []string) error {
		if args[0] != "dump" {
			return usagef("unknown pyspy subcommand %q: want dump (record with `agent ctl profile`)", args[0])
		}
		actor, pid, err := target.resolve(args[1:])
		if err != nil {
			return err
		}
		req := &procagentv1.PySpyDumpRequest{
			Native: *native, NativeAll: *nativeAll, Nonblocking: *nonblocking,
			Locals: *locals, Subprocesses: *subprocesses, Gil: *gil, Threads: threads,
		}
		if actor != "" {
			req.Target = &procagentv1.PySpyDumpRequest_ActorId{ActorId: actor}
		} else {
			req.Target = &procagentv1.PySpyDumpRequest_Pid{Pid: pid}
		}
		res, err := c.client.PySpyDump(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		ok, err := checkOutcome(c, res.Msg)
		if err != nil {
			return err
		}
		if c.out.json {
			return c.out.message(res.Msg)
		}
		return writeDump(c.out.w, ok)
	}
}

// profileCmd is `profile ACTOR|--pid N --duration D --out FILE`.
func profileCmd(fs *flag.FlagSet) action {
	var target targetFlag
	target.bind(fs)
	var out outFlag
	out.bind(fs)
	duration := fs.Duration("duration", 10*time.Second, "how long to record, 1s to 300s (the default --timeout is this plus 30s)")
	rate := fs.Uint("rate", 100, "samples per second, 1 to 1000")
	format := fs.String("format", "pprof", "profile format: pprof, flamegraph, speedscope or raw")
	native := fs.Bool("native", false, "include native (C/C++) frames")
	idle := fs.Bool("idle", false, "include idle threads")
	gil := fs.Bool("gil", false, "sample only the thread holding the GIL")
	subprocesses := fs.Bool("subprocesses", false, "also profile the target's child processes")
	nonblocking := fs.Bool("nonblocking", false, "do not pause the target while sampling (less accurate)")
	var threads threadsFlag
	fs.Var(&threads, "threads", "keep only the samples of these threads: comma-separated `IDS`, decimal or 0x hex")
	return func(ctx context.Context, c *call, args []string) error {
		actor, pid, err := target.resolve(args)
		if err != nil {
			return err
		}
		if err := out.check(c); err != nil {
			return err
		}
		f, ok := profileFormats[*format]
		if !ok {
			return usagef("--format %q: want pprof, flamegraph, speedscope or raw", *format)
		}
		if *rate > math.MaxUint32 {
			return usagef("--rate %d: want 1 to 1000", *rate)
		}
		req := &procagentv1.PySpyProfileRequest{
			Duration: durationpb.New(*duration), RateHz: uint32(*rate), Format: f,
			Native: *native, Idle: *idle, Gil: *gil, Subprocesses: *subprocesses, Nonblocking: *nonblocking,
			Threads: threads,
		}
		if actor != "" {
			req.Target = &procagentv1.PySpyProfileRequest_ActorId{ActorId: actor}
		} else {
			req.Target = &procagentv1.PySpyProfileRequest_Pid{Pid: pid}
		}
		ctx, cancel := defaultDeadline(ctx, *duration+profileMargin)
		defer cancel()
		stop := progress(c.stderr, *duration)
		res, err := c.client.PySpyProfile(ctx, connect.NewRequest(req))
		stop()
		if err != nil {
			return err
		}
		okRes, err := checkOutcome(c, res.Msg)
		if err != nil {
			return err
		}
		p, err := out.write(c, okRes.GetProfile())
		if err != nil {
			return err
		}
		if p.json {
			if *out.path != "" {
				okRes.Profile = nil // in the file
			}
			return p.message(res.Msg)
		}
		if okRes.GetFormat() == procagentv1.ProfileFormat_PROFILE_FORMAT_PPROF {
			openHint(c, *out.path)
		}
		return p.table(
			[]string{"file", *out.path},
			[]string{"format", strings.TrimPrefix(strings.ToLower(okRes.GetFormat().String()), "profile_format_")},
			[]string{"bytes", formatUint(uint64(len(okRes.GetProfile())))},
			[]string{"samples", formatUint(uint64(okRes.GetSamples()))},
			[]string{"pid", formatPid(okRes.GetPid())},
			[]string{"sampler", okRes.GetBinary() + " " + okRes.GetPath()},
			[]string{"warnings", strings.Join(okRes.GetWarnings(), "; ")},
		)
	}
}

// goProfileCmd is `goprofile NAME [--duration D] [--debug N] --out FILE`.
func goProfileCmd(fs *flag.FlagSet) action {
	var out outFlag
	out.bind(fs)
	duration := fs.Duration("duration", 0, "how long a cpu profile records (0: the agent's default, 30s), or a block or mutex profile samples before its delta is returned; up to 5m; the default --timeout is this plus 30s")
	debug := fs.Int("debug", 0, "0 for pprof, 1 or 2 for the runtime's text form (not for cpu)")
	return func(ctx context.Context, c *call, args []string) error {
		name := args[0]
		if *debug > 0 && *out.path == "" && !c.out.json {
			*out.path = outStdout // text: print it
		}
		if err := out.check(c); err != nil {
			return err
		}
		if *debug < math.MinInt32 || *debug > math.MaxInt32 {
			return usagef("--debug %d: want 0, 1 or 2", *debug)
		}
		req := &procagentv1.GoProfileRequest{Name: name, Debug: int32(*debug)}
		wait := timeoutDefault
		stop := func() {}
		if d := *duration; d > 0 || name == goProfileCPU {
			if d == 0 {
				d = goProfileCPUDefault
			}
			wait = d + profileMargin
			stop = progress(c.stderr, d)
		}
		if *duration != 0 {
			req.Duration = durationpb.New(*duration)
		}
		ctx, cancel := defaultDeadline(ctx, wait)
		defer cancel()
		res, err := c.client.GoProfile(ctx, connect.NewRequest(req))
		stop()
		if err != nil {
			return err
		}
		m := res.Msg
		for _, w := range m.GetWarnings() {
			fmt.Fprintf(c.stderr, "warning: %s\n", w)
		}
		p, err := out.write(c, m.GetProfile())
		if err != nil {
			return err
		}
		switch {
		case p.json:
			if *out.path != "" {
				m.Profile = nil // in the file
			}
			return p.message(m)
		case *out.path == outStdout && *debug > 0:
			return nil // the text is the output
		}
		if *debug == 0 {
			openHint(c, *out.path)
		}
		return p.table(
			[]string{"file", *out.path},
			[]string{"name", m.GetName()},
			[]string{"content_type", m.GetContentType()},
			[]string{"bytes", formatUint(uint64(len(m.GetProfile())))},
		)
	}
}

// openHint tells, on stderr, how to open a pprof profile written to path
// (none when it went to stdout).
func openHint(c *call, path string) {
	if path == "" || path == outStdout {
		return
	}
	fmt.Fprintf(c.stderr, "open it with: go tool pprof -http=: %s\n", path)
}

// threadsFlag is a comma-separated list of thread ids, decimal or 0x hex.
type threadsFlag []uint64

func (f *threadsFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, id := range *f {
		parts[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(parts, ",")
}

func (f *threadsFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, err := strconv.ParseUint(part, 0, 64)
		if err != nil {
			return fmt.Errorf("thread id %q: want a decimal or 0x hex number", part)
		}
		*f = append(*f, id)
	}
	return nil
}
