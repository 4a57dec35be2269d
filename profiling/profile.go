package profiling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Bounds and defaults of a recorded Python profile.
const (
	MinProfileDuration = time.Second
	MaxProfileDuration = 300 * time.Second
	MaxRateHz          = 1000
	DefaultRateHz      = 100
)

// Formats of a recorded profile (ProfileOptions.Format, Ok.Format).
const (
	// FormatPprof is a gzipped profile.proto, as `go tool pprof` reads it.
	FormatPprof = "pprof"
	// FormatFlamegraph is a self-contained SVG icicle graph.
	FormatFlamegraph = "flamegraph"
	// FormatSpeedscope is speedscope's JSON file format.
	FormatSpeedscope = "speedscope"
	// FormatRaw is collapsed stacks in py-spy's raw format.
	FormatRaw = "raw"
)

// Validate checks the options of a profile: Duration from 1 s to 300 s,
// RateHz from 1 to 1000 (0 for the default 100), Format one of pprof (or
// ""), flamegraph, speedscope, raw, and not both Native and Nonblocking
// (py-spy stops the target to read native frames). Its errors wrap
// ErrInvalid.
func (o ProfileOptions) Validate() error {
	var errs []error
	if o.Duration < MinProfileDuration || o.Duration > MaxProfileDuration {
		errs = append(errs, fmt.Errorf("duration %v: want %v to %v", o.Duration, MinProfileDuration, MaxProfileDuration))
	}
	if o.RateHz < 0 || o.RateHz > MaxRateHz {
		errs = append(errs, fmt.Errorf("rate %d Hz: want 1 to %d (0 for %d)", o.RateHz, MaxRateHz, DefaultRateHz))
	}
	switch o.Format {
	case "", FormatPprof, FormatFlamegraph, FormatSpeedscope, FormatRaw:
	default:
		errs = append(errs, fmt.Errorf("format %q: want %s, %s, %s or %s", o.Format, FormatPprof, FormatFlamegraph, FormatSpeedscope, FormatRaw))
	}
	if o.Native && o.Nonblocking {
		errs = append(errs, errors.New("native needs the target stopped, which nonblocking forbids"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// withDefaults fills the defaults in.
func (o ProfileOptions) withDefaults() ProfileOptions {
	if o.RateHz == 0 {
		o.RateHz = DefaultRateHz
	}
	if o.Format == "" {
		o.Format = FormatPprof
	}
	return o
}

// Profile records process pid with s for opts.Duration at opts.RateHz and
// returns the profile in opts.Format as an Ok, or the typed outcome of a
// sampler that could not record it. The sampler is killed past
// Duration + 15 s. Options must pass Validate: options that do not are
// reported, without running anything, as an ExitFailure with code -1 whose
// Stderr is the ErrInvalid error.
//
// With py-spy it runs `py-spy record --pid N --duration S --rate R
// --format raw --output FILE --threads` (with --native, --idle, --gil,
// --subprocesses, --nonblocking as opts ask); py-spy records whole
// seconds, so Duration is rounded up. With austin it runs `austin -i
// 1e6/R -p N` (-s unless Idle, -C with Subprocesses), interrupted after
// Duration; austin reads no native frames and cannot keep GIL holders
// only (warnings say so).
//
// The collapsed stacks are then converted: pprof (sample types
// samples/count and, for austin, cpu/microseconds, or wall/microseconds
// with Idle; functions with file names; locations with lines; labels
// "thread", "thread_name", and "pid"), flamegraph (an SVG), speedscope
// (its JSON file format, a sampled profile per thread), raw (py-spy's raw
// format; austin's samples are rewritten in it). Samples counts the
// samples. pid is trusted: the caller checks it may be sampled. Safe for
// concurrent use; it blocks only its caller.
func Profile(ctx context.Context, s Sampler, pid int, opts ProfileOptions) Result {
	if s.Path == "" {
		return Result{BinaryNotFound: &BinaryNotFound{Searched: []string{"no sampler given"}}}
	}
	err := opts.Validate()
	if err == nil && pid <= 0 {
		err = fmt.Errorf("%w: pid %d", ErrInvalid, pid)
	}
	if err != nil {
		return Result{ExitFailure: &ExitFailure{Code: -1, Stderr: err.Error()}}
	}
	opts = opts.withDefaults()
	start := time.Now()
	var rec recording
	if s.Kind == KindAustin {
		rec = recordAustin(ctx, s, pid, opts)
	} else {
		rec = recordPySpy(ctx, s, pid, opts)
	}
	if rec.fail != nil {
		if rec.fail.TimedOut != nil {
			rec.fail.TimedOut.After = time.Since(start).Round(time.Millisecond)
		}
		return *rec.fail
	}
	if len(opts.Threads) > 0 && !rec.st.empty() {
		var w []string
		rec.st, w = filterProfileThreads(rec.st, opts.Threads)
		rec.raw = nil // re-rendered from the kept samples
		rec.warnings = append(rec.warnings, w...)
		if rec.st.empty() {
			return Result{OutputEmpty: &OutputEmpty{StderrTail: stderrTail([]byte(w[0]))}}
		}
	}
	if rec.st.empty() {
		return Result{OutputEmpty: &OutputEmpty{StderrTail: stderrTail(rec.stderr)}}
	}
	timeType := "cpu"
	if opts.Idle {
		timeType = "wall"
	}
	var b []byte
	switch opts.Format {
	case FormatRaw:
		b = rec.raw
		if b == nil {
			b = renderCollapsed(rec.st, opts.Subprocesses)
		}
	case FormatFlamegraph:
		b = renderFlamegraph(rec.st, fmt.Sprintf("%s: pid %d, %v at %d Hz", s.Kind, pid, opts.Duration, opts.RateHz))
	case FormatSpeedscope:
		b, err = renderSpeedscope(rec.st, fmt.Sprintf("%s pid %d", s.Kind, pid))
	default:
		b, err = toPprof(rec.st, pprofMeta{
			sampler: s.Kind, pid: pid, timeType: timeType,
			periodMicros: int64(time.Second/time.Microsecond) / int64(opts.RateHz),
			start:        start, duration: time.Since(start),
		})
	}
	if err != nil {
		return Result{ExitFailure: &ExitFailure{Code: -1, Stderr: "convert the samples: " + err.Error()}}
	}
	return Result{Ok: &Ok{
		Pid: pid, Binary: s.Kind, Path: s.Path, Profile: b, Format: opts.Format,
		Samples: int(rec.st.Total), Warnings: append(rec.warnings, skippedWarning(rec.st)...),
	}}
}

// recording is what a sampler recorded: its stacks, or why there are none.
type recording struct {
	st       *stacks
	raw      []byte // py-spy's raw file, returned as is for FormatRaw
	warnings []string
	fail     *Result
	stderr   []byte // the sampler's, for an empty recording
}

// skippedWarning notes lines the parser could not use.
func skippedWarning(st *stacks) []string {
	if st.Skipped == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d sampler output lines skipped (invalid samples or not understood)", st.Skipped)}
}

// recordPySpy records with py-spy into a raw file in a private temporary
// directory.
func recordPySpy(ctx context.Context, s Sampler, pid int, opts ProfileOptions) recording {
	var rec recording
	dir, err := os.MkdirTemp("", "procagent-py-spy-*")
	if err != nil {
		rec.fail = &Result{ExitFailure: &ExitFailure{Code: -1, Stderr: "temporary directory: " + err.Error()}}
		return rec
	}
	defer func() { _ = os.RemoveAll(dir) }()
	file := filepath.Join(dir, "profile.txt")
	secs := int(math.Ceil(opts.Duration.Seconds()))
	if time.Duration(secs)*time.Second != opts.Duration {
		rec.warnings = append(rec.warnings, fmt.Sprintf("py-spy records whole seconds: recorded %d s", secs))
	}
	out := run(ctx, invocation{
		path: s.Path, args: pyspyRecordArgs(pid, secs, file, opts),
		timeout: time.Duration(secs)*time.Second + s.deadlineSlack(), target: pid,
	})
	if rec.fail = failure(out, s); rec.fail != nil {
		return rec
	}
	f, err := openIn(dir, filepath.Base(file))
	if err != nil {
		rec.fail = &Result{OutputMissing: &OutputMissing{}}
		return rec
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxStdout+1))
	if err != nil {
		rec.fail = &Result{ExitFailure: &ExitFailure{Code: -1, Stderr: "read py-spy's output: " + err.Error()}}
		return rec
	}
	if len(data) > maxStdout {
		data = data[:maxStdout]
		rec.warnings = append(rec.warnings, fmt.Sprintf("py-spy's output cut at %d bytes", maxStdout))
	}
	rec.st, rec.raw, rec.stderr = parsePySpyRaw(data), data, out.stderr
	return rec
}

// pyspyRecordArgs builds py-spy's record arguments.
func pyspyRecordArgs(pid, secs int, file string, opts ProfileOptions) []string {
	args := []string{
		"record", "--pid", strconv.Itoa(pid), "--duration", strconv.Itoa(secs),
		"--rate", strconv.Itoa(opts.RateHz), "--format", "raw", "--output", file, "--threads",
	}
	for _, f := range []struct {
		on   bool
		flag string
	}{
		{opts.Native, "--native"}, {opts.Idle, "--idle"}, {opts.GIL, "--gil"},
		{opts.Subprocesses, "--subprocesses"}, {opts.Nonblocking, "--nonblocking"},
	} {
		if f.on {
			args = append(args, f.flag)
		}
	}
	return args
}

// recordAustin records with austin, parsing its output as it streams.
func recordAustin(ctx context.Context, s Sampler, pid int, opts ProfileOptions) recording {
	var rec recording
	if opts.Native {
		rec.warnings = append(rec.warnings, "austin reads no native frames: recorded Python frames only")
	}
	if opts.GIL {
		rec.warnings = append(rec.warnings, "austin cannot keep GIL holders only: recorded every thread")
	}
	interval := max(int(time.Second/time.Microsecond)/opts.RateHz, 1)
	args := []string{"-i", strconv.Itoa(interval)}
	if !opts.Idle {
		args = append(args, "-s")
	}
	if opts.Subprocesses {
		args = append(args, "-C")
	}
	args = append(args, "-p", strconv.Itoa(pid))
	parser := newAustinParser(opts.Idle, false)
	counter := &countingWriter{w: parser}
	out := run(ctx, invocation{
		path: s.Path, args: args, timeout: opts.Duration + s.deadlineSlack(), target: pid,
		interruptAfter: opts.Duration, stdout: counter,
	})
	if rec.fail = failure(out, s); rec.fail != nil {
		return rec
	}
	if counter.n == 0 {
		rec.fail = &Result{OutputMissing: &OutputMissing{}}
		return rec
	}
	rec.st, rec.stderr = parser.stacks(), out.stderr
	cmds := map[int]string{}
	for _, smp := range rec.st.Samples {
		if smp.Pid > 0 && smp.Command == "" {
			c, ok := cmds[smp.Pid]
			if !ok {
				c = command(procRoot, smp.Pid)
				cmds[smp.Pid] = c
			}
			smp.Command = c
		}
	}
	return rec
}

// openIn opens name inside dir, never outside it.
func openIn(dir, name string) (*os.File, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	return r.Open(name)
}
