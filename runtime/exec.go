package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
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
	shim  string // the shim binary; "" runs the worker directly

	cmd      *exec.Cmd
	ctl      *os.File      // the agent's end of the shim's control socket
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
// With a shim (ExecConfig.ShimPath), the agent runs `shim PATH DIR ARGV…`
// and the shim runs the worker: the shim is a child subreaper, gives the
// worker Pdeathsig, and kills the worker's group and every descendant when
// the worker ends or the agent goes (its control socket reaches EOF, even
// on kill -9 of the agent). The waiter reads the shim's socket through the
// netpoller, so a worker costs no OS thread of the agent.
//
// Without a shim the process gets Pdeathsig SIGKILL itself. Linux ties
// Pdeathsig to the thread that forked, so the waiter goroutine is locked to
// its OS thread from Start until the process is reaped. Pdeathsig reaches
// the direct child only; the rest of the group is killed by the waiter.
func (e *Exec) Init(c *Context) error {
	if err := execs.add(e); err != nil {
		return fmt.Errorf("start %s: %w", e.argv[0], err)
	}
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
	if e.shim != "" {
		e.cmd.Path = e.shim
		e.cmd.Args = append([]string{e.shim, ShimCommand, e.path, e.dir}, e.argv...)
		e.cmd.Dir = ""
		e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		go e.superviseShim(c, started)
	} else {
		go e.supervise(c, started)
	}
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", e.argv[0], err)
	}
	return nil
}

// superviseShim starts the shim, learns the worker's pid from it, and
// reports how the worker ended.
func (e *Exec) superviseShim(c *Context, started chan<- error) {
	defer close(e.waitDone)
	defer execs.remove(e)
	ctl, peer, err := controlSocket()
	if err != nil {
		started <- err
		return
	}
	e.cmd.ExtraFiles = []*os.File{peer}
	err = e.cmd.Start()
	_ = peer.Close()
	if err != nil {
		_ = ctl.Close()
		started <- err
		return
	}
	r := bufio.NewReader(ctl)
	first, rerr := r.ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(first, "pid ")))
	if rerr != nil || !strings.HasPrefix(first, "pid ") || perr != nil || pid <= 0 {
		_ = ctl.Close()
		werr := e.cmd.Wait()
		msg := strings.TrimSpace(strings.TrimPrefix(first, "error "))
		if msg == "" {
			msg = fmt.Sprintf("shim ended: %v", werr)
		}
		started <- errors.New(msg)
		return
	}
	e.pid.Store(int64(pid))
	e.mu.Lock()
	e.ctl = ctl
	e.started = true
	e.mu.Unlock()
	started <- nil

	var (
		ws         syscall.WaitStatus
		haveStatus bool
		byStop     bool
		marked     bool
	)
	for range 3 { // "exited", "status W", EOF
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		switch {
		case line == "exited\n" && !marked:
			byStop, marked = e.markExited(), true
		case strings.HasPrefix(line, "status "):
			n, err := strconv.ParseUint(strings.TrimSpace(line[len("status "):]), 10, 32)
			if err == nil {
				ws, haveStatus = syscall.WaitStatus(n), true
			}
		}
	}
	if !marked {
		byStop = e.markExited()
	}
	e.mu.Lock()
	_ = ctl.Close()
	e.ctl = nil
	e.mu.Unlock()
	werr := e.cmd.Wait() // the shim; ErrWaitDelay only means output was cut short
	if !haveStatus {
		e.report(c, werr, byStop) // the shim itself died: its own end
		return
	}
	e.reportStatus(c, ws, waitStatusError(ws), byStop)
}

// controlSocket returns the agent's end (non-blocking, so reading it takes
// no thread) and the shim's end of a new control socket.
func controlSocket() (ctl, peer *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		_ = syscall.Close(fds[0])
		_ = syscall.Close(fds[1])
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "shim-control"), os.NewFile(uintptr(fds[1]), "shim-control-peer"), nil
}

// waitStatusError is what exec.Cmd.Wait would have said of ws.
func waitStatusError(ws syscall.WaitStatus) error {
	switch {
	case ws.Signaled():
		return fmt.Errorf("signal: %s", ws.Signal())
	case ws.ExitStatus() != 0:
		return fmt.Errorf("exit status %d", ws.ExitStatus())
	}
	return nil
}

// supervise starts the process, waits for it, kills what is left of its
// group and reports how it ended.
func (e *Exec) supervise(c *Context, started chan<- error) {
	defer close(e.waitDone)
	defer execs.remove(e)
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
// had signalled it. With a shim it then lets the shim reap the worker: until
// then the worker's pid, and its group, name no other process.
func (e *Exec) markExited() (byStop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.exited = true
	if e.ctl != nil {
		_, _ = e.ctl.Write([]byte("reap\n"))
	}
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
	e.reportStatus(c, ws, waitErr, byStop)
}

// reportStatus records the wait status and, unless a stop ended the
// process, terminates the actor accordingly.
func (e *Exec) reportStatus(c *Context, ws syscall.WaitStatus, waitErr error, byStop bool) {
	e.mu.Lock()
	e.status = ws
	e.waitErr = waitErr
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
	if e.workerEnded(pid) {
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

// workerEnded reports whether the worker has exited but is not reaped yet;
// e.mu is held, so the exit is not recorded yet.
func (e *Exec) workerEnded(pid int) bool {
	if e.shim == "" {
		done, _ := waitable(pid, false)
		return done
	}
	// The shim reaps only once told, after e.exited is set under e.mu:
	// until then an ended worker is a zombie.
	s := procStateOf(pid)
	return s == "Z" || s == "X" || s == ""
}

// kill sends SIGKILL to the worker's group while it runs and reports
// whether it did.
func (e *Exec) kill() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.exited {
		return false
	}
	e.killed = e.killed || e.stopping
	return signalGroup(int(e.pid.Load()), syscall.SIGKILL) == nil
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
