package runtime

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ShimCommand is the hidden subcommand that runs the exec shim: a binary
// that calls RunShim when its first argument is ShimCommand can serve as
// the shim of ExecConfig.ShimPath (cmd/agent does).
const ShimCommand = "shim"

// shimControlFD is the shim's end of the control socket, its fd 3.
const shimControlFD = 3

// The shim's protocol, one line each, over the control socket:
//
//	shim → agent: "pid N" or "error MSG" once; "exited" when the worker
//	              has ended (not reaped); "status W" (the wait status)
//	              once reaped and its tree killed; then EOF.
//	agent → shim: "signal N" (to the worker's group, while not reaped);
//	              "reap" once the agent recorded the exit.
//
// EOF from the agent means the agent is gone: the shim kills the
// worker's group and every descendant, and exits.

// RunShim is the exec shim: args are the worker's resolved path, its
// working directory ("" for the shim's own) and its argv. The shim is a
// child subreaper, so every orphaned descendant of the worker comes back to
// it; it starts the worker in a process group of its own with the
// parent-death signal SIGKILL, forwards the agent's signals to the group,
// and when the worker ends, or the agent goes away, kills the group and
// every remaining descendant before it exits. It returns the shim's exit
// code.
func RunShim(args []string) int {
	ctl := os.NewFile(shimControlFD, "control")
	if ctl == nil || len(args) < 3 {
		fmt.Fprintln(os.Stderr, "shim: needs a control socket and PATH DIR ARGV...")
		return 2
	}
	syscall.CloseOnExec(shimControlFD)
	goruntime.GOMAXPROCS(1)
	s := &shim{ctl: ctl, reap: make(chan struct{})}
	return s.run(args[0], args[1], args[2:])
}

type shim struct {
	ctl  *os.File
	wmu  sync.Mutex // serialises writes to ctl
	reap chan struct{}

	mu     sync.Mutex
	pid    int
	reaped bool
}

func (s *shim) send(format string, a ...any) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, _ = fmt.Fprintf(s.ctl, format+"\n", a...)
}

func (s *shim) run(path, dir string, argv []string) int {
	if err := setChildSubreaper(); err != nil {
		s.send("error %s", oneLine(err.Error()))
		return 1
	}
	// Signals sent to the shim itself are forwarded to the worker's group;
	// caught, not ignored, so the worker does not inherit them ignored.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	// Pdeathsig follows the thread that forked: this one stays locked.
	goruntime.LockOSThread()
	cmd := &exec.Cmd{
		Path: path, Args: argv, Dir: dir,
		Stdin: nil, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	if err := cmd.Start(); err != nil {
		s.send("error %s", oneLine(err.Error()))
		return 1
	}
	pid := cmd.Process.Pid
	s.mu.Lock()
	s.pid = pid
	s.mu.Unlock()
	s.send("pid %d", pid)

	agentGone := make(chan struct{})
	go s.readCommands(agentGone)
	go func() {
		for sig := range sigs {
			s.signal(sig.(syscall.Signal))
		}
	}()

	exited := make(chan struct{})
	go func() {
		_, _ = waitable(pid, true)
		close(exited)
	}()
	select {
	case <-exited:
		s.send("exited")
		select {
		case <-s.reap:
		case <-agentGone:
		}
	case <-agentGone:
	}
	// The worker's pid still names its group: kill it, then reap.
	s.mu.Lock()
	_ = signalGroup(pid, syscall.SIGKILL)
	s.mu.Unlock()
	<-exited
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	s.mu.Lock()
	s.reaped = true
	s.mu.Unlock()
	killDescendants()
	s.send("status %d", uint32(ws))
	return 0
}

// readCommands applies the agent's commands until EOF, which closes gone.
func (s *shim) readCommands(gone chan<- struct{}) {
	defer close(gone)
	sc := bufio.NewScanner(s.ctl)
	reaped := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "signal":
			if n, err := strconv.Atoi(f[1]); err == nil && checkSignal(int64(n)) == nil {
				s.signal(syscall.Signal(n))
			}
		case len(f) == 1 && f[0] == "reap" && !reaped:
			reaped = true
			close(s.reap)
		}
	}
}

// signal sends sig to the worker's group while its pid is not reaped.
func (s *shim) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid > 0 && !s.reaped {
		_ = signalGroup(s.pid, sig)
	}
}

// killDescendants kills and reaps every process left under the shim: the
// orphans a subreaper inherits, which may have left the worker's group.
// Bounded: a descendant that forks faster than it is killed is given up
// on after the last round.
func killDescendants() {
	self := os.Getpid()
	for range 200 {
		kids := childrenOf(self)
		for _, pid := range kids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		reapAll()
		if len(kids) == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond) // let the kernel reparent grandchildren
	}
}

// reapAll reaps every exited child without blocking.
func reapAll() {
	for range 100000 {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}

// childrenOf lists the pids whose parent is ppid, from /proc: from the
// children file of each of ppid's threads where the kernel has them (a few
// reads), else by reading every process's stat (a scan of the whole
// table, which 500 shims ending at once would each repeat).
func childrenOf(ppid int) []int {
	if kids, ok := taskChildren(ppid); ok {
		return kids
	}
	return scanChildren(ppid)
}

// scanChildren lists the pids whose parent is ppid by reading the stat of
// every process.
func scanChildren(ppid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := parentOf(pid); ok && p == ppid {
			out = append(out, pid)
		}
	}
	return out
}

// taskChildren reads /proc/PID/task/TID/children of every thread of pid;
// ok is false when the kernel has no such files.
func taskChildren(pid int) (kids []int, ok bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil, false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(dir + "/" + task.Name() + "/children") //nolint:gosec // a /proc path built from a pid and a thread id
		if err != nil {
			continue // the thread ended, or the kernel has no children files
		}
		ok = true
		for _, f := range strings.Fields(string(b)) {
			if kid, err := strconv.Atoi(f); err == nil {
				kids = append(kids, kid)
			}
		}
	}
	return kids, ok
}

// parentOf reads the parent pid of pid from /proc/PID/stat.
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	st := string(b)
	i := strings.LastIndexByte(st, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(st[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	p, err := strconv.Atoi(f[1])
	return p, err == nil
}

// procStateOf returns the state letter of pid from /proc/PID/stat, or ""
// once it is gone.
func procStateOf(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	st := string(b)
	if i := strings.LastIndexByte(st, ')'); i >= 0 && i+2 < len(st) {
		return st[i+2 : i+3]
	}
	return "?"
}

func setChildSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", errno)
	}
	return nil
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
