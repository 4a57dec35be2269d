package profiling

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dump tuning.
const (
	// nonblockingTries is how many times a nonblocking py-spy dump is tried
	// (it reads a running process, which can fail midway), all under the
	// one deadline.
	nonblockingTries = 3
	// retryPause separates the tries.
	retryPause = 100 * time.Millisecond
	// austinWindow is how long austin without -w samples for a dump, from
	// its first sample, and austinDumpInterval its sampling interval there.
	austinWindow       = 200 * time.Millisecond
	austinDumpInterval = "10000" // µs
)

// Warnings a dump or a profile may carry.
const (
	warnNativeAll   = "--native-all unsupported by this py-spy; fell back to --native"
	warnNonblocking = "native frames need py-spy to stop the target, which nonblocking forbids: sampled without native frames"
)

// Dump returns the Python stacks of process pid, read with s, as an Ok
// with one ProcessStacks per process, or the typed outcome of a sampler
// that could not read them. The whole dump has one deadline of 15 s.
//
// With py-spy it runs `py-spy dump --pid N --json` (with --native,
// --native-all, --nonblocking, --locals as opts ask). Nonblocking dumps are
// tried up to 3 times. A py-spy without --native-all (it exits 2 naming
// the flag) is asked again without it, with a warning. Native frames and
// nonblocking exclude each other in py-spy: nonblocking wins, with a
// warning. With Subprocesses each process of pid's tree is dumped
// separately (py-spy ignores --subprocesses with --json); a process that
// cannot be dumped (not Python, gone) is a warning, unless none can, and a
// permission, timeout or missing binary ends the dump.
//
// With austin ≥ 3.3 it runs `austin -w PID`. Older austin (Debian 12 ships
// 1.0.1) has no single-shot mode: it samples every 10 ms for 200 ms from
// its first sample, is interrupted, and each thread's last sample is its
// stack (a warning says so; such threads are not known to be active or
// idle, Active is false). austin reads neither native frames nor locals.
//
// pid is trusted: the caller checks it may be sampled. Safe for concurrent
// use; it blocks only its caller.
func Dump(ctx context.Context, s Sampler, pid int, opts DumpOptions) Result {
	if s.Path == "" {
		return Result{BinaryNotFound: &BinaryNotFound{Searched: []string{"no sampler given"}}}
	}
	if pid <= 0 {
		return Result{ExitFailure: &ExitFailure{Code: -1, Stderr: fmt.Sprintf("%v: pid %d", ErrInvalid, pid)}}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.deadlineSlack())
	defer cancel()
	var res Result
	if s.Kind == KindAustin {
		res = dumpAustin(ctx, s, pid, opts)
	} else {
		res = dumpPySpy(ctx, s, pid, opts)
	}
	if res.TimedOut != nil {
		res.TimedOut.After = time.Since(start).Round(time.Millisecond)
	}
	if res.Ok != nil {
		filterDumpThreads(res.Ok, s.Kind, opts)
	}
	return res
}

// dumpPySpy dumps pid, and its tree when asked, with py-spy.
func dumpPySpy(ctx context.Context, s Sampler, pid int, opts DumpOptions) Result {
	var warnings []string
	if opts.Nonblocking && (opts.Native || opts.NativeAll) {
		warnings = append(warnings, warnNonblocking)
		opts.Native, opts.NativeAll = false, false
	}
	pids := []int{pid}
	if opts.Subprocesses {
		pids = append(pids, descendants(procRoot, pid)...)
	}
	var procs []ProcessStacks
	var rootFailure *Result
	for i, p := range pids {
		if ctx.Err() != nil {
			warnings = append(warnings, fmt.Sprintf("pids %v not dumped: the deadline passed", pids[i:]))
			break
		}
		threads, fail, w := dumpOnePySpy(ctx, s, p, &opts)
		warnings = append(warnings, w...)
		if fail != nil {
			if i == 0 {
				if fail.ExitFailure == nil && fail.OutputMissing == nil && fail.OutputEmpty == nil {
					return *fail // systemic: permission, timeout, binary gone
				}
				rootFailure = fail
			}
			warnings = append(warnings, fmt.Sprintf("pid %d (%s) not dumped: %s", p, command(procRoot, p), fail))
			continue
		}
		procs = append(procs, ProcessStacks{Pid: p, Command: command(procRoot, p), Threads: threads})
	}
	switch {
	case len(procs) == 0 && rootFailure != nil:
		return *rootFailure
	case !hasFrames(procs):
		return Result{OutputEmpty: &OutputEmpty{}}
	}
	return Result{Ok: &Ok{Pid: pid, Binary: s.Kind, Path: s.Path, Processes: procs, Warnings: warnings}}
}

// dumpOnePySpy dumps one process: up to nonblockingTries tries when
// nonblocking, a retry without --native-all when py-spy lacks it (which
// clears opts.NativeAll for the processes after it).
func dumpOnePySpy(ctx context.Context, s Sampler, pid int, opts *DumpOptions) ([]ThreadStack, *Result, []string) {
	var warnings []string
	tries := 1
	if opts.Nonblocking {
		tries = nonblockingTries
	}
	var last *Result
	for try := 1; try <= tries; try++ {
		if try > 1 && !pause(ctx, retryPause) {
			return nil, &Result{TimedOut: &TimedOut{}}, warnings
		}
		out := run(ctx, invocation{path: s.Path, args: pyspyDumpArgs(pid, *opts), timeout: s.deadlineSlack(), target: pid})
		if opts.NativeAll && out.code == 2 && bytes.Contains(out.stderr, []byte("native-all")) {
			opts.NativeAll = false
			warnings = append(warnings, warnNativeAll)
			out = run(ctx, invocation{path: s.Path, args: pyspyDumpArgs(pid, *opts), timeout: s.deadlineSlack(), target: pid})
		}
		if fail := failure(out, s); fail != nil {
			last = fail
			if fail.ExitFailure == nil {
				return nil, fail, warnings
			}
			continue
		}
		if len(bytes.TrimSpace(out.stdout)) == 0 {
			return nil, &Result{OutputMissing: &OutputMissing{}}, warnings
		}
		threads, err := parsePySpyDump(out.stdout)
		if err != nil {
			if out.stdoutTruncated {
				err = fmt.Errorf("%w (output cut at %d bytes)", err, maxStdout)
			}
			return nil, &Result{OutputEmpty: &OutputEmpty{StderrTail: stderrTail(out.stderr)}}, append(warnings, fmt.Sprintf("pid %d: %v", pid, err))
		}
		if try > 1 {
			warnings = append(warnings, fmt.Sprintf("pid %d: nonblocking dump succeeded on try %d of %d", pid, try, tries))
		}
		return threads, nil, warnings
	}
	return nil, last, warnings
}

// pyspyDumpArgs builds py-spy's dump arguments.
func pyspyDumpArgs(pid int, opts DumpOptions) []string {
	args := []string{"dump", "--pid", strconv.Itoa(pid), "--json"}
	if opts.Native || opts.NativeAll {
		args = append(args, "--native")
	}
	if opts.NativeAll {
		args = append(args, "--native-all")
	}
	if opts.Nonblocking {
		args = append(args, "--nonblocking")
	}
	if opts.Locals {
		args = append(args, "--locals")
	}
	return args
}

// pause waits d, or less when ctx ends first (then false).
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dumpAustin dumps pid, and its children when asked, with austin.
func dumpAustin(ctx context.Context, s Sampler, pid int, opts DumpOptions) Result {
	var warnings []string
	if opts.Native || opts.NativeAll {
		warnings = append(warnings, "austin reads no native frames: dumped Python frames only")
	}
	if opts.Locals {
		warnings = append(warnings, "austin reads no local variables: dumped without them")
	}
	pidArg := strconv.Itoa(pid)
	var st *stacks
	var idleKnown bool
	var stderr []byte
	if hasWhere(ctx, s.Path) {
		args := []string{"-w", pidArg}
		if opts.Subprocesses {
			args = append(args, "-C")
		}
		out := run(ctx, invocation{path: s.Path, args: args, timeout: s.deadlineSlack(), target: pid})
		if fail := failure(out, s); fail != nil {
			return *fail
		}
		if len(bytes.TrimSpace(out.stdout)) == 0 {
			return Result{OutputMissing: &OutputMissing{}}
		}
		st, idleKnown, stderr = parseAustinWhere(out.stdout), true, out.stderr
	} else {
		args := []string{"-i", austinDumpInterval}
		if opts.Subprocesses {
			args = append(args, "-C")
		}
		args = append(args, "-p", pidArg)
		parser := newAustinParser(true, true)
		counter := &countingWriter{w: parser}
		out := run(ctx, invocation{
			path: s.Path, args: args, timeout: s.deadlineSlack(), target: pid,
			interruptAfter: austinWindow, interruptOnOutput: true, stdout: counter,
		})
		if fail := failure(out, s); fail != nil {
			return *fail
		}
		if counter.n == 0 {
			return Result{OutputMissing: &OutputMissing{}}
		}
		st, stderr = parser.stacks(), out.stderr
		warnings = append(warnings, fmt.Sprintf("this austin has no -w: each thread's stack is its last sample over %v", austinWindow))
	}
	procs := austinProcesses(st, pid, idleKnown)
	if !hasFrames(procs) {
		return Result{OutputEmpty: &OutputEmpty{StderrTail: stderrTail(stderr)}}
	}
	return Result{Ok: &Ok{Pid: pid, Binary: s.Kind, Path: s.Path, Processes: procs, Warnings: warnings}}
}

// austinProcesses turns each thread's last sample into the dump's
// processes, root first, frames innermost first.
func austinProcesses(st *stacks, root int, idleKnown bool) []ProcessStacks {
	var procs []ProcessStacks
	at := map[int]int{}
	for _, k := range st.lastOrder {
		s := st.last[k]
		p := s.Pid
		if p == 0 {
			p = root
		}
		i, ok := at[p]
		if !ok {
			i = len(procs)
			at[p] = i
			procs = append(procs, ProcessStacks{Pid: p, Command: command(procRoot, p)})
		}
		t := ThreadStack{ID: parseThreadID(s.Thread), Name: s.ThreadName, Active: idleKnown && !s.Idle}
		for _, f := range slices.Backward(s.Frames) {
			t.Frames = append(t.Frames, Frame{Name: f.Name, File: f.File, Line: f.Line})
		}
		procs[i].Threads = append(procs[i].Threads, t)
	}
	slices.SortStableFunc(procs, func(a, b ProcessStacks) int {
		switch {
		case a.Pid == root && b.Pid != root:
			return -1
		case b.Pid == root && a.Pid != root:
			return 1
		}
		return 0
	})
	return procs
}

// parseThreadID reads a thread id as a sampler wrote it: 0x-hex or decimal.
func parseThreadID(s string) uint64 {
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, _ := strconv.ParseUint(h, 16, 64)
		return n
	}
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// countingWriter counts what passes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}
