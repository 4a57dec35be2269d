package runtime

import (
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ExecSignal asks an exec actor to send Sig to its process group. The reply
// is nil, or an error when the signal could not be sent.
type ExecSignal struct{ Sig syscall.Signal }

// ExecOutput asks an exec actor for its kept output; the reply is an
// ExecOutputReply.
type ExecOutput struct{}

// ExecOutputReply is the reply to ExecOutput.
type ExecOutputReply struct {
	// Output is the newest output kept, oldest byte first.
	Output []byte
	// Dropped counts the older bytes no longer kept.
	Dropped int64
}

// Exec is the exec actor: it runs one OS process in its own process group
// and ends when the process does, STOPPED on exit code 0 and FAILED (with an
// *ExitError) on another code or a signal. A requested stop sends SIGTERM to
// the group, then SIGKILL after the grace period, and is a clean stop. The
// process is always reaped, and whatever is left of its group is killed once
// it ends, so nothing it forked outlives it unless it left the group
// (setsid). An Exec runs one process: the factory builds one per spawn.
// It relies on Linux (Pdeathsig, waitid).
//
// Messages: ExecSignal, ExecOutput, and their JSON forms {"signal": "USR1"}
// (a name, with or without SIG, or a number), replying {"sent": "SIGUSR1"}
// or {"error": "..."}, and {"output": true}, replying {"output": "...",
// "dropped": n}. Other messages are ignored with a nil reply.
type Exec struct {
	path  string   // argv[0] resolved
	argv  []string // as given
	env   []string // KEY=value overrides, sorted
	dir   string
	grace time.Duration
	out   *ringBuffer
	pid   atomic.Int64

	cmd      *exec.Cmd
	waitDone chan struct{} // closed when the waiter goroutine has ended

	mu       sync.Mutex
	started  bool
	exited   bool // the process has ended: a zombie or reaped
	stopping bool // a stop signalled the process: its end is not a failure
	killed   bool // the stop had to SIGKILL it
	status   syscall.WaitStatus
	waitErr  error // what Wait returned, e.g. "signal: killed"
	outcome  string
}

// Init starts the process and the goroutine that waits for it.
//
// The process gets Pdeathsig SIGKILL, so it dies with the agent even when
// the agent is killed outright. Linux ties Pdeathsig to the thread that
// forked, not to the process, so the waiter goroutine is locked to its OS
// thread from Start until the process is reaped: that thread cannot exit
// while the process lives. It costs no extra thread, since waiting blocks a
// thread anyway. Pdeathsig reaches the direct child only; the rest of the
// group is killed by the waiter.
func (e *Exec) Init(c *Context) error {
	// No context: Close, not a cancellation, decides how the process ends.
	e.cmd = &exec.Cmd{
		Path:        e.path,
		Args:        e.argv,
		Env:         append(os.Environ(), e.env...), // later entries win
		Dir:         e.dir,
		Stdout:      e.out,
		Stderr:      e.out,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
		WaitDelay:   execWaitDelay,
	}
	e.waitDone = make(chan struct{})
	started := make(chan error, 1)
	go e.supervise(c, started)
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", e.argv[0], err)
	}
	return nil
}

// supervise starts the process, waits for it, kills what is left of its
// group and reports how it ended.
func (e *Exec) supervise(c *Context, started chan<- error) {
	defer close(e.waitDone)
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	if err := e.cmd.Start(); err != nil {
		started <- err
		return
	}
	pid := e.cmd.Process.Pid
	e.pid.Store(int64(pid))
	e.mu.Lock()
	e.started = true
	e.mu.Unlock()
	started <- nil

	var byStop bool
	var err error
	if _, werr := waitable(pid, true); werr == nil {
		byStop = e.markExited()
		// Not reaped yet, so pid still names this group and no other.
		_ = signalGroup(pid, syscall.SIGKILL)
		err = e.cmd.Wait() // ErrWaitDelay only means output was cut short
	} else {
		// No waitid (SIGCHLD ignored, say): a plain wait, no group kill.
		err = e.cmd.Wait()
		byStop = e.markExited()
	}
	e.report(c, err, byStop)
}

// markExited records that the process has ended and reports whether a stop
// had signalled it.
func (e *Exec) markExited() (byStop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.exited = true
	return e.stopping
}

// report records how the process ended and, unless a stop ended it,
// terminates the actor accordingly.
func (e *Exec) report(c *Context, waitErr error, byStop bool) {
	e.mu.Lock()
	e.waitErr = waitErr
	e.mu.Unlock()
	st := e.cmd.ProcessState
	if st == nil {
		if !byStop {
			c.Terminate(fmt.Errorf("wait for %s: %w", e.argv[0], waitErr))
		}
		return
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	e.mu.Lock()
	e.status = ws
	e.mu.Unlock()
	if ws.Signaled() {
		if !byStop {
			c.Terminate(&ExitError{Code: -1, Signal: ws.Signal()})
		}
		return
	}
	code := ws.ExitStatus()
	c.SetExitCode(code)
	switch {
	case byStop:
	case code == 0:
		c.Terminate(nil)
	default:
		c.Terminate(&ExitError{Code: code})
	}
}

// Close ends the process if it is still running: SIGTERM to its group, then
// SIGKILL after the grace period, and waits until it is reaped. A process
// that had to be killed says so in the reason of its supervision event,
// after the stop's own: "test stop: killed after grace period 5s: signal:
// killed". A process that already ended on its own keeps its own outcome,
// even when the stop request came before the waiter noticed.
func (e *Exec) Close(c *Context) error {
	if e.waitDone == nil {
		return nil
	}
	pid := int(e.pid.Load())
	e.mu.Lock()
	if !e.started || e.exited {
		e.mu.Unlock()
		<-e.waitDone
		return nil
	}
	if done, _ := waitable(pid, false); done {
		e.mu.Unlock()
		<-e.waitDone
		return nil
	}
	e.stopping = true
	_ = signalGroup(pid, syscall.SIGTERM)
	e.mu.Unlock()

	t := time.NewTimer(e.grace)
	defer t.Stop()
	select {
	case <-e.waitDone:
	case <-t.C:
		e.mu.Lock()
		if !e.exited {
			e.killed = true
			_ = signalGroup(pid, syscall.SIGKILL)
		}
		e.mu.Unlock()
		<-e.waitDone
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.killed && e.status.Signaled() && e.status.Signal() == syscall.SIGKILL:
		e.outcome = fmt.Sprintf("killed after grace period %s", e.grace)
		detail := e.outcome
		if e.waitErr != nil {
			detail += ": " + e.waitErr.Error()
		}
		appendStopReason(c, detail)
	case e.status.Signaled():
		e.outcome = fmt.Sprintf("exited after SIGTERM (signal %s)", SignalName(e.status.Signal()))
	default:
		e.outcome = fmt.Sprintf("exited after SIGTERM (code %d)", e.status.ExitStatus())
	}
	return nil
}

// appendStopReason adds detail to the reason of the actor's requested stop,
// which its supervision event carries. The actor's own goroutine calls it,
// from Close, before the event is built.
func appendStopReason(c *Context, detail string) {
	cl := c.cell
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.stopReason == "" {
		cl.stopReason = detail
		return
	}
	cl.stopReason += ": " + detail
}

// Handle answers ExecSignal, ExecOutput and their JSON forms.
func (e *Exec) Handle(c *Context, msg any) error {
	switch m := msg.(type) {
	case ExecSignal:
		err := checkSignal(int64(m.Sig))
		if err == nil {
			err = e.signal(m.Sig)
		}
		c.Reply(err)
	case ExecOutput:
		c.Reply(ExecOutputReply{Output: e.out.Bytes(), Dropped: e.out.Dropped()})
	case map[string]any:
		if v, ok := m["signal"]; ok {
			sig, err := parseSignal(v)
			if err == nil {
				err = e.signal(sig)
			}
			if err != nil {
				c.Reply(map[string]any{"error": err.Error()})
				return nil
			}
			c.Reply(map[string]any{"sent": SignalName(sig)})
		} else if m["output"] == true {
			c.Reply(map[string]any{"output": e.out.String(), "dropped": e.out.Dropped()})
		}
	}
	return nil
}

// signal sends sig to the process group while the process is running.
func (e *Exec) signal(sig syscall.Signal) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.exited {
		return os.ErrProcessDone
	}
	if err := signalGroup(int(e.pid.Load()), sig); err != nil {
		return fmt.Errorf("send %s: %w", SignalName(sig), err)
	}
	return nil
}

// Pid returns the process id, or 0 before the process started. It stays
// set after the process ended.
func (e *Exec) Pid() int { return int(e.pid.Load()) }

// Output returns a copy of the newest output kept, stdout and stderr
// interleaved as written.
func (e *Exec) Output() []byte { return e.out.Bytes() }

// StopOutcome says how a requested stop ended the process, e.g. "exited
// after SIGTERM (code 0)" or "killed after grace period 5s"; it is empty
// when no stop ended it.
func (e *Exec) StopOutcome() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outcome
}
