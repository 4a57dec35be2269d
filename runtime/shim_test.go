package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/osproc"
	"github.com/procagent/procagent/internal/testenv"
)

// The test binary is its own shim: run as `runtime.test shim …` it is the
// shim, and every exec test of this package runs its workers through it.
func init() {
	if len(os.Args) > 1 && os.Args[1] == ShimCommand {
		os.Exit(RunShim(os.Args[2:]))
	}
	if os.Getenv("PROCAGENT_TEST_EXEC_DIRECT") != "" {
		return // the exec tests without the shim
	}
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	ConfigureExec(ExecConfig{ShimPath: self})
}

// uniqueMarker returns a marker no other process has in its argv: a sleep
// duration like 1004.5123456 that tests find processes by.
func uniqueMarker(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("1004.%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
}

// markerPids lists the live (not zombie) processes whose argv holds marker.
func markerPids(marker string) []int {
	pids, _ := osproc.Matching(osproc.DefaultRoot, marker)
	return slices.DeleteFunc(pids, func(pid int) bool { return pid == os.Getpid() })
}

// killMarkerOnCleanup kills whatever still carries marker when the test
// ends, pass or fail.
func killMarkerOnCleanup(t *testing.T, marker string) {
	t.Helper()
	t.Cleanup(func() {
		for _, pid := range markerPids(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// waitNoneLeft waits until no process carries marker.
func waitNoneLeft(t *testing.T, marker string) {
	t.Helper()
	testenv.Eventually(t, "no process with "+marker+" left", func() bool {
		return len(markerPids(marker)) == 0
	})
}

// treeScript starts a group member, a process that left the group and a
// double-forked orphan, all sleeping with the marker, then reports ready.
func treeScript(marker string) string {
	return fmt.Sprintf(`sleep %[1]s & setsid sleep %[1]s & (setsid sh -c 'sleep %[1]s & exit 0' &) ; echo ready; sleep %[1]s`, marker)
}

// TestShimKillsTreeWhenAgentGoes: closing the agent's end of the control
// socket, as the agent's death does, kills the worker, its group, the
// processes that left the group and the orphans.
func TestShimKillsTreeWhenAgentGoes(t *testing.T) {
	marker := uniqueMarker(t)
	killMarkerOnCleanup(t, marker)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctl, peer, err := controlSocket()
	if err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := &exec.Cmd{
		Path:        self,
		Args:        []string{self, ShimCommand, sh, "", "sh", "-c", treeScript(marker)},
		ExtraFiles:  []*os.File{peer},
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = peer.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testenv.Eventually(t, "four marked processes", func() bool { return len(markerPids(marker)) >= 4 })
	_ = ctl.Close() // the agent goes
	waitNoneLeft(t, marker)
}

// TestExecStopKillsEscapedDescendants: a stop and a worker's own exit kill
// what left the worker's group too (setsid), through the shim.
func TestExecStopKillsEscapedDescendants(t *testing.T) {
	for _, stop := range []bool{false, true} {
		t.Run(fmt.Sprintf("stop=%v", stop), func(t *testing.T) {
			marker := uniqueMarker(t)
			killMarkerOnCleanup(t, marker)
			script := treeScript(marker)
			if !stop {
				script = strings.TrimSuffix(script, "sleep "+marker) + "sleep 0.2"
			}
			p := newTestProc(t)
			ref, e := spawnExec(t, p, ExecParams{Argv: []string{"sh", "-c", script}})
			waitOutput(t, e, "ready")
			if stop {
				ref.Stop("test stop")
			}
			if ev := waitDone(t, ref); ev.Status != StatusStopped {
				t.Errorf("status = %v (%s), want STOPPED", ev.Status, ev.Reason)
			}
			waitNoneLeft(t, marker)
		})
	}
}

// threads returns the number of OS threads of this process.
func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line")
	return 0
}

// TestExecNoThreadPerWorker: live workers do not pin OS threads of the
// agent.
func TestExecNoThreadPerWorker(t *testing.T) {
	const n = 60
	marker := uniqueMarker(t)
	killMarkerOnCleanup(t, marker)
	p := newTestProc(t)
	before := threads(t)
	refs := make([]*Ref, 0, n)
	for i := range n {
		ref, err := p.SpawnType("w"+strconv.Itoa(i), "exec", []byte(`{"argv":["sleep",`+strconv.Quote(marker)+`]}`))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	testenv.Eventually(t, "all workers running", func() bool {
		for _, r := range refs {
			if r.Status() != StatusRunning || r.Pid() == 0 {
				return false
			}
		}
		return true
	})
	after := threads(t)
	t.Logf("threads: %d before, %d with %d workers", before, after, n)
	if after > before+n/4 {
		t.Errorf("threads grew from %d to %d with %d workers, want flat", before, after, n)
	}
	for _, r := range refs {
		r.Stop("done")
	}
	for _, r := range refs {
		waitDone(t, r)
	}
	waitNoneLeft(t, marker)
}

// TestExecBudget: a spawn past the budget is refused before anything
// starts, with ErrExecBudget, and the budget frees up when a worker ends.
func TestExecBudget(t *testing.T) {
	marker := uniqueMarker(t)
	killMarkerOnCleanup(t, marker)
	cfg := currentExecConfig()
	ConfigureExec(ExecConfig{ShimPath: cfg.ShimPath, MaxWorkers: 1})
	t.Cleanup(func() { ConfigureExec(cfg) })
	p := newTestProc(t)
	params := []byte(`{"argv":["sleep",` + strconv.Quote(marker) + `]}`)
	ref, err := p.SpawnType("first", "exec", params)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the first worker", func() bool { return ref.Status() == StatusRunning })
	_, err = p.SpawnType("second", "exec", params)
	if !errors.Is(err, ErrExecBudget) {
		t.Fatalf("second spawn: %v, want ErrExecBudget", err)
	}
	if live, limit := ExecWorkers(); live != 1 || limit != 1 {
		t.Errorf("ExecWorkers() = %d, %d; want 1, 1", live, limit)
	}
	ref.Stop("done")
	waitDone(t, ref)
	ref, err = p.SpawnType("third", "exec", params)
	if err != nil {
		t.Fatalf("spawn after the first ended: %v", err)
	}
	ref.Stop("done")
	waitDone(t, ref)
	waitNoneLeft(t, marker)
}

// TestExecBudgetFromRlimit: the budget follows RLIMIT_NOFILE.
func TestExecBudgetFromRlimit(t *testing.T) {
	tab := &execTable{live: map[*Exec]struct{}{}, getrlim: func(res int, r *syscall.Rlimit) error {
		if res == syscall.RLIMIT_NOFILE {
			r.Cur = 20000
			return nil
		}
		r.Cur = ^uint64(0)
		return nil
	}}
	if got, want := tab.limitLocked(), (20000-execFDReserve)/execFDsPerWorker; got != want {
		t.Errorf("limit = %d, want %d", got, want)
	}
}

// TestExecGraceCap: MaxGracePeriod caps a worker's grace period.
func TestExecGraceCap(t *testing.T) {
	cfg := currentExecConfig()
	ConfigureExec(ExecConfig{ShimPath: cfg.ShimPath, MaxGracePeriod: time.Second})
	t.Cleanup(func() { ConfigureExec(cfg) })
	a, err := NewExec([]byte(`{"argv":["sleep","1"],"grace_period":"10m"}`))
	if err != nil {
		t.Fatal(err)
	}
	if g := a.(*Exec).grace; g != time.Second {
		t.Errorf("grace = %v, want the cap 1s", g)
	}
}

// TestExecAllow: with an allow list, a program outside it is refused before
// anything starts, with ErrExecNotAllowed; one inside it, named directly,
// by a glob, or through a symlink, is accepted.
func TestExecAllow(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	target, err := filepath.EvalSymlinks(sleep)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "nap")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	cfg := currentExecConfig()
	t.Cleanup(func() { ConfigureExec(cfg) })
	for _, tt := range []struct {
		allow []string
		argv0 string
		ok    bool
	}{
		{nil, "sleep", true},
		{[]string{sleep}, "sleep", true},
		{[]string{filepath.Dir(target) + "/sl*"}, target, true},
		{[]string{target}, link, true},
		{[]string{"/nonexistent/*"}, "sleep", false},
		{[]string{filepath.Dir(target) + "/python*"}, "sleep", false},
	} {
		ConfigureExec(ExecConfig{ShimPath: cfg.ShimPath, Allow: tt.allow})
		_, err := NewExec([]byte(`{"argv":[` + strconv.Quote(tt.argv0) + `,"1"]}`))
		switch {
		case tt.ok && err != nil:
			t.Errorf("allow %q, argv0 %s: %v", tt.allow, tt.argv0, err)
		case !tt.ok && !errors.Is(err, ErrExecNotAllowed):
			t.Errorf("allow %q, argv0 %s: %v, want ErrExecNotAllowed", tt.allow, tt.argv0, err)
		}
	}
}

// TestTaskChildren: the children files of the threads list the same
// children as a scan of every process's parent.
func TestTaskChildren(t *testing.T) {
	for range 3 {
		cmd := exec.CommandContext(t.Context(), "sleep", "30")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	kids, ok := taskChildren(os.Getpid())
	if !ok {
		t.Skip("the kernel has no /proc/PID/task/TID/children")
	}
	scanned := scanChildren(os.Getpid())
	slices.Sort(kids)
	slices.Sort(scanned)
	if len(kids) < 3 || !slices.Equal(kids, scanned) {
		t.Errorf("children files list %v, the scan %v; want the same three or more", kids, scanned)
	}
}
