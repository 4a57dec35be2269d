package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

const (
	// outputCap bounds the output kept from a component; what comes later is dropped.
	outputCap = 1 << 20
	// stopGrace is how long a component has to exit after SIGTERM before it is killed.
	stopGrace = 15 * time.Second
)

// process is a running component: its output is kept (capped) for failure messages, and
// stop sends SIGTERM and waits for it to exit.
type process struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    *cappedBuffer
	done   chan struct{} // closed when Wait returned; err is set then
	err    error
}

// startProcess starts bin with args. The binary path was resolved by the caller and the
// arguments are built by this package.
func startProcess(name, bin string, args ...string) (*process, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G204: bin is resolved once by this package (PATH, $PROCAGENT_*, .tools) and args are built here
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	out := &cappedBuffer{limit: outputCap}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, cancel: cancel, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited and, if so, how: never a nil error then.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		if err := p.exitError(); err != nil {
			return true, err
		}
		return true, fmt.Errorf("%s exited: %s", p.name, p.cmd.ProcessState)
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits for the exit (killing the process after stopGrace) and returns
// an error unless it exited with status 0. Calling it again returns the same result.
func (p *process) stop() error {
	p.cancel()
	<-p.done
	return p.exitError()
}

// exitError interprets Wait's result: cancelling the context makes Wait report
// context.Canceled even when the process then exited cleanly, so the exit status decides.
func (p *process) exitError() error {
	st := p.cmd.ProcessState
	if st == nil {
		return fmt.Errorf("%s: %w", p.name, p.err)
	}
	if st.Success() && (p.err == nil || errors.Is(p.err, context.Canceled)) {
		return nil
	}
	return fmt.Errorf("%s exited: %s", p.name, st)
}

// output returns what the process printed so far.
func (p *process) output() string { return p.out.String() }

// cappedBuffer keeps the first limit bytes written to it; it is safe for concurrent use.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	limit   int
	dropped int
}

// Write keeps what fits and counts the rest; it never fails, so the writer never blocks.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := max(b.limit-b.buf.Len(), 0)
	keep := min(room, len(p))
	b.buf.Write(p[:keep])
	b.dropped += len(p) - keep
	return len(p), nil
}

// String returns the kept output, noting how much was dropped.
func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n[%d bytes dropped]", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}
