package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/osproc"
	"github.com/procagent/procagent/internal/testenv"
)

// The tests of this file start workers whose every process carries a
// unique marker in its argv (a sleep duration no one else uses), find them
// by it in /proc, and kill whatever is left when the test ends, pass or
// fail.

// newMarker returns a sleep duration unique to this test.
func newMarker(t *testing.T) string {
	t.Helper()
	m := fmt.Sprintf("1004.%d%d", os.Getpid(), time.Now().UnixNano()%1e7)
	t.Cleanup(func() {
		for _, pid := range markedPids(m) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return m
}

// markedPids lists the running (not zombie) processes whose argv holds m.
func markedPids(m string) []int {
	pids, _ := osproc.Matching(osproc.DefaultRoot, m)
	return pids
}

// treeParams are exec params of a worker that starts a member of its
// group, a process that left it (setsid) and a double-forked orphan, all
// marked, and then sleeps; with ignoreTerm every one ignores SIGTERM.
func treeParams(m string, ignoreTerm bool, extra string) string {
	script := fmt.Sprintf(`sleep %[1]s & setsid sleep %[1]s & (setsid sh -c 'sleep %[1]s & exit 0' &) ; sleep %[1]s`, m)
	if ignoreTerm {
		script = "trap '' TERM; " + script
	}
	return fmt.Sprintf(`{"argv":["sh","-c",%s]%s}`, strconv.Quote(script), extra)
}

// startTree starts the tree worker as w and waits for its processes.
func startTree(t *testing.T, a *servedAgent, m string, ignoreTerm bool, extra string) {
	t.Helper()
	a.mustCtl(t, "create", "w", "exec", "--params", treeParams(m, ignoreTerm, extra))
	// sh -c, its sleeps, the setsid one, the orphan (and the shim's argv).
	testenv.Eventually(t, "the worker's tree", func() bool { return len(markedPids(m)) >= 5 })
}

func waitNoMarked(t *testing.T, m string) {
	t.Helper()
	testenv.Eventually(t, "no process of the worker left", func() bool { return len(markedPids(m)) == 0 })
}

// TestE2ENoDescendantLeft: after kill -9 of the agent, SIGTERM, SIGINT or
// StopAll, no process the agent started is left running, including those
// that left the worker's process group and the orphans.
func TestE2ENoDescendantLeft(t *testing.T) {
	tests := []struct {
		name string
		end  func(t *testing.T, a *servedAgent)
		code int // -1: killed
	}{
		{name: "kill -9 of the agent", code: -1, end: func(t *testing.T, a *servedAgent) {
			if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "SIGTERM", end: func(t *testing.T, a *servedAgent) {
			if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "SIGINT", end: func(t *testing.T, a *servedAgent) {
			if err := a.cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "StopAll", end: func(t *testing.T, a *servedAgent) { a.mustCtl(t, "stopall") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMarker(t)
			a := startAgent(t)
			startTree(t, a, m, false, "")
			tt.end(t, a)
			if code := a.wait(t); code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.code, a.stderr)
			}
			waitNoMarked(t, m)
		})
	}
}

// TestE2EMaxGracePeriod: a worker that ignores SIGTERM with a 10-minute
// grace period is killed, with its whole tree, after max_grace_period, and
// the agent exits 0 within its bound.
func TestE2EMaxGracePeriod(t *testing.T) {
	const maxGrace = time.Second
	m := newMarker(t)
	a := startAgent(t, "--max-grace-period", maxGrace.String(), "--flush-timeout", "1s")
	startTree(t, a, m, true, `,"grace_period":"10m"`)
	start := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := a.wait(t)
	took := time.Since(start)
	if code != 0 {
		t.Errorf("exit code = %d, want 0: a stop is clean; stderr:\n%s", code, a.stderr)
	}
	// max_grace_period + flush_timeout + drain + release, and slack.
	if bound := maxGrace + time.Second + drainTimeout + releaseTimeout; took > bound+5*time.Second {
		t.Errorf("SIGTERM → exit took %v, bound %v", took, bound)
	}
	waitNoMarked(t, m)
}

// TestE2ESecondSignalForcesExit: a second SIGTERM during the drain kills
// every worker's group and exits at once with 128+15, and says so.
func TestE2ESecondSignalForcesExit(t *testing.T) {
	m := newMarker(t)
	a := startAgent(t, "--max-grace-period", "10m")
	startTree(t, a, m, true, `,"grace_period":"10m"`)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the first signal logged", func() bool {
		return strings.Contains(a.stderr.String(), "signal received")
	})
	start := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != 128+int(syscall.SIGTERM) {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", code, 128+int(syscall.SIGTERM), a.stderr)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second signal → exit took %v", took)
	}
	if !strings.Contains(a.stderr.String(), "second signal: forcing exit") {
		t.Errorf("no forced exit in the log:\n%s", a.stderr)
	}
	waitNoMarked(t, m)
}

// TestE2EBudgetRefusalDoesNotPoison: a spawn past max_exec_workers is a
// FAILED resource with a clear reason; the proc is not poisoned and the
// exit code stays 0.
func TestE2EBudgetRefusalDoesNotPoison(t *testing.T) {
	m := newMarker(t)
	a := startAgent(t, "--max-exec-workers", "1")
	a.mustCtl(t, "create", "w1", "exec", "--params", `{"argv":["sleep","`+m+`"]}`)
	testenv.Eventually(t, "the first worker", func() bool { return len(markedPids(m)) >= 1 })
	a.mustCtl(t, "create", "w2", "exec", "--params", `{"argv":["sleep","`+m+`"]}`)
	got := a.postJSON(t, "GetState", `{"id":"w2"}`)
	st, _ := got["state"].(map[string]any)
	if st["status"] != "STATUS_FAILED" || !strings.Contains(fmt.Sprint(st["failureReason"]), "exec budget exhausted") {
		t.Errorf("w2 = %v, want FAILED with the budget's reason", st)
	}
	if got := a.postJSON(t, "CreateOrUpdate", `{"id":"ok","spec":{"actorType":"echo"}}`); stateStatus(got) != "STATUS_RUNNING" {
		t.Errorf("create after a refused spawn = %v, want RUNNING: the proc is not poisoned", got)
	}
	a.mustCtl(t, "stopall")
	if code := a.wait(t); code != 0 {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, a.stderr)
	}
	waitNoMarked(t, m)
}

// TestE2ESignalUnderLoad: SIGTERM with many workers, some failed on their
// own, exits 1 (some actor failed) and leaves nothing running.
func TestE2ESignalUnderLoad(t *testing.T) {
	const sleepers, failing = 24, 4
	m := newMarker(t)
	a := startAgent(t)
	for i := range sleepers {
		a.postJSON(t, "CreateOrUpdate", fmt.Sprintf(`{"id":"s%d","spec":{"actorType":"exec","params":%s}}`, i, treeParams(m, i%2 == 0, "")))
	}
	for i := range failing {
		a.postJSON(t, "CreateOrUpdate", fmt.Sprintf(`{"id":"f%d","spec":{"actorType":"exec","params":{"argv":["sh","-c","exit 3"]}}}`, i))
	}
	testenv.Eventually(t, "every sleeper's tree", func() bool { return len(markedPids(m)) >= 5*sleepers })
	a.mustCtl(t, "wait", "f0", "--min", "STOPPED")
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != 1 {
		t.Errorf("exit code = %d, want 1: some worker failed; stderr:\n%s", code, a.stderr)
	}
	waitNoMarked(t, m)
}
