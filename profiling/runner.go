package profiling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Output caps of a sampler run: what a sampler writes beyond them is read
// and discarded, so a chatty sampler never blocks on a full pipe.
const (
	maxStdout = 64 << 20
	maxStderr = 64 << 10
)

// invocation is one run of a sampler. Its arguments are built by this
// package from typed options, never taken from a request.
type invocation struct {
	path string
	args []string
	// timeout is the run's deadline; past it the sampler is killed (with
	// its process group) and reaped.
	timeout time.Duration
	// target is the sampled pid: after a timeout or a sampler killed by a
	// signal, it and its descendants get SIGCONT, since py-spy stops its
	// target while it reads it and may leave it stopped.
	target int
	// interruptAfter, when > 0, sends the sampler SIGINT that long after
	// it starts (austin has no duration flag and writes its output when
	// interrupted); with interruptOnOutput the clock starts at the first
	// byte the sampler writes to stdout (austin's attach time varies).
	interruptAfter    time.Duration
	interruptOnOutput bool
	// stdout, when set, receives the sampler's stdout as it is written (a
	// streaming parser) instead of a buffer capped at maxStdout.
	stdout io.Writer
}

// runOutput is what a sampler run left.
type runOutput struct {
	stdout, stderr  []byte
	stdoutTruncated bool
	// code is the exit code; 128+signal when the sampler was killed by a
	// signal.
	code int
	// startErr is set when the sampler could not be started.
	startErr error
	// timedOut says the deadline (or the caller's context) ended the run.
	timedOut bool
	elapsed  time.Duration
}

// run starts inv, drains stdout and stderr concurrently into capped
// buffers, and waits for the sampler, killing and reaping it at the
// deadline. It blocks only its caller and leaves no goroutine behind.
func run(ctx context.Context, inv invocation) runOutput {
	ctx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()

	stdout := &cappedBuffer{limit: maxStdout}
	stderr := &cappedBuffer{limit: maxStderr}
	first := &firstWrite{ch: make(chan struct{})}
	var out io.Writer = stdout
	if inv.stdout != nil {
		out = inv.stdout
	}

	cmd := exec.CommandContext(ctx, inv.path, inv.args...)
	cmd.Stdin = nil
	cmd.Stdout = io.MultiWriter(first, out)
	cmd.Stderr = stderr
	// Its own process group, so that a kill reaches anything it started;
	// SIGKILL when the agent dies, so that austin (which runs until
	// interrupted) never outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return cmd.Process.Kill()
	}
	// Past the kill, stop waiting for pipes a stray grandchild may hold.
	cmd.WaitDelay = 2 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runOutput{startErr: err, code: -1}
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	var interrupted atomic.Bool
	if inv.interruptAfter > 0 {
		wg.Go(func() {
			if inv.interruptOnOutput {
				select {
				case <-first.ch:
				case <-done:
					return
				}
			}
			t := time.NewTimer(inv.interruptAfter)
			defer t.Stop()
			select {
			case <-t.C:
				interrupted.Store(cmd.Process.Signal(os.Interrupt) == nil)
			case <-done:
			}
		})
	}
	err := cmd.Wait()
	close(done)
	wg.Wait()

	res := runOutput{
		stdout:          stdout.Bytes(),
		stderr:          stderr.Bytes(),
		stdoutTruncated: stdout.truncated(),
		elapsed:         time.Since(start),
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitCode(exitErr)
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil:
		// It exited, but something it started held its pipes open.
		res.code = cmd.ProcessState.ExitCode()
	default:
		res.code = -1
	}
	res.timedOut = err != nil && res.code != 0 && ctx.Err() != nil
	if interrupted.Load() && !res.timedOut && interruptedExit(res.code) {
		// The end we asked for: austin 3.x exits 254 (-2) when interrupted
		// after writing its samples.
		res.code = 0
	}
	if res.timedOut || res.code > 128 {
		resume(inv.target)
	}
	return res
}

// interruptedExit reports whether code is how a sampler ends on the SIGINT
// it was sent: 254 (austin 3.x), 130 (128+SIGINT, a shell's report).
func interruptedExit(code int) bool {
	return code == 254 || code == 128+int(syscall.SIGINT)
}

// exitCode is the exit status, or 128+signal for a sampler killed by a
// signal (as a shell reports it).
func exitCode(e *exec.ExitError) int {
	if ws, ok := e.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return e.ExitCode()
}

// resume sends SIGCONT to pid and its descendants, so that a sampler
// killed while it had them stopped never leaves them stopped.
func resume(pid int) {
	if pid <= 0 {
		return
	}
	for _, p := range append([]int{pid}, descendants(procRoot, pid)...) {
		_ = syscall.Kill(p, syscall.SIGCONT)
	}
}

// failure maps a failed run to its typed outcome; nil when the sampler
// exited 0 and its output is to be read.
func failure(out runOutput, s Sampler) *Result {
	switch {
	case out.startErr != nil:
		if errors.Is(out.startErr, os.ErrNotExist) || errors.Is(out.startErr, os.ErrPermission) {
			// Resolved once, then removed or made unexecutable.
			return &Result{BinaryNotFound: &BinaryNotFound{Searched: []string{fmt.Sprintf("%s (%v)", s.Path, out.startErr)}}}
		}
		return &Result{ExitFailure: &ExitFailure{Code: -1, Stderr: clean("start " + s.Kind + ": " + out.startErr.Error())}}
	case out.timedOut:
		return &Result{TimedOut: &TimedOut{After: out.elapsed.Round(time.Millisecond)}}
	case out.code != 0 && permissionDenied(out.stderr):
		return &Result{PermissionDenied: &PermissionDenied{Hint: permissionHint(s, out.stderr)}}
	case out.code != 0:
		return &Result{ExitFailure: &ExitFailure{Code: out.code, Stderr: stderrTail(out.stderr)}}
	}
	return nil
}

// permissionPattern matches what py-spy and austin print when they may not
// read the target: py-spy's "Permission Denied: Try running again with
// elevated permissions…", an io error "Permission denied (os error 13)" or
// "Operation not permitted (os error 1)" (EPERM from ptrace or
// process_vm_readv), its docker hint about SYS_PTRACE; austin's
// "Permission denied. Try with elevated privileges."
var permissionPattern = regexp.MustCompile(`(?i)permission denied|operation not permitted|\bEPERM\b|\bEACCES\b|SYS_PTRACE|ptrace_scope`)

// permissionDenied reports whether a sampler's stderr says it lacked the
// right to read its target.
func permissionDenied(stderr []byte) bool { return permissionPattern.Match(stderr) }

// permissionHint says what to grant, quoting the sampler.
func permissionHint(s Sampler, stderr []byte) string {
	said := strings.TrimSpace(string(stderr))
	if i := strings.IndexByte(said, '\n'); i >= 0 {
		said = said[:i]
	}
	return clean(fmt.Sprintf("%s could not read the target: it needs CAP_SYS_PTRACE (containers: --cap-add SYS_PTRACE) "+
		"or kernel.yama.ptrace_scope=0, and the target's user or root; %s said: %s", s.Kind, s.Kind, said))
}

// clean makes sampler text safe to return: valid UTF-8, trimmed.
func clean(s string) string { return strings.TrimSpace(validUTF8(s)) }

// validUTF8 makes sampler text valid UTF-8 (proto strings must be).
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// cappedBuffer keeps the first limit bytes written to it and discards the
// rest, always reporting success so the writer keeps draining.
type cappedBuffer struct {
	mu    sync.Mutex
	buf   []byte
	limit int
	lost  int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := min(len(p), b.limit-len(b.buf))
	b.buf = append(b.buf, p[:keep]...)
	b.lost += len(p) - keep
	return len(p), nil
}

// Bytes returns what was kept.
func (b *cappedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf
}

func (b *cappedBuffer) truncated() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lost > 0
}

// firstWrite closes ch at the first non-empty write.
type firstWrite struct {
	once sync.Once
	ch   chan struct{}
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if len(p) > 0 {
		f.once.Do(func() { close(f.ch) })
	}
	return len(p), nil
}
