package profiling

// Tests with the real austin sampling real Python workers. The installed
// austin (Debian 12: 1.0.1) cannot read Python ≥ 3.11, so the workers run
// Python 3.9 through pyenv (PYENV_VERSION).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/procagent/procagent/internal/testenv"
)

// workerPython is the interpreter version the workers run.
const workerPython = "3.9.18"

// workerScript is a Python worker with functions of its own on known
// lines: a busy main thread (busy_worker_fn's loop is line 10) and an idle
// one (idle_waiter_fn's sleep, line 5). The matrix writes it to worker.py.
const workerScript = `import threading, time

def idle_waiter_fn():
    while True:
        time.sleep(0.05)

def busy_worker_fn():
    x = 0
    while True:
        x += sum(range(200))

threading.Thread(target=idle_waiter_fn, name="waiter", daemon=True).start()
busy_worker_fn()
`

// parentScript is a Python worker that starts a busy Python child.
const parentScript = `import subprocess, sys, time

def parent_wait_fn(p):
    while p.poll() is None:
        time.sleep(0.01)

child = subprocess.Popen([sys.executable, "-c", "def child_spin_fn():\n    while True: sum(range(100))\nchild_spin_fn()\n"])
parent_wait_fn(child)
`

// austinRig is what the real austin tests use: the Sampler FindSampler
// finds when neither PYSPY_BIN nor py-spy is there (PATH then holds austin
// only), the environment to start Python 3.9 workers with, and the tools
// looked up on the original PATH.
type austinRig struct {
	s                    Sampler
	env                  []string
	python, goBin, sleep string
	setpriv              string // "" when missing
}

// realAustin sets up an austinRig. It skips the test when austin or Python
// 3.9 is missing, except in CI.
func realAustin(t *testing.T) austinRig {
	t.Helper()
	austin, err := exec.LookPath("austin")
	if err != nil {
		skipOrFail(t, "austin not on PATH")
	}
	rig := austinRig{env: append(os.Environ(), "PYENV_VERSION="+workerPython)}
	if rig.python, err = exec.LookPath("python3"); err != nil {
		skipOrFail(t, "python3 not on PATH")
	}
	cmd := exec.CommandContext(t.Context(), rig.python, "--version")
	cmd.Env = rig.env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Python 3.9") {
		skipOrFail(t, "python "+workerPython+" not available through python3 and PYENV_VERSION: "+strings.TrimSpace(string(out)))
	}
	if rig.goBin, err = exec.LookPath("go"); err != nil {
		t.Fatal("go not on PATH")
	}
	if rig.sleep, err = exec.LookPath("sleep"); err != nil {
		t.Fatal("sleep not on PATH")
	}
	rig.setpriv, _ = exec.LookPath("setpriv")

	dir := t.TempDir()
	if err := os.Symlink(austin, filepath.Join(dir, "austin")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	s, missing := FindSampler("")
	if missing != nil {
		t.Fatalf("FindSampler: %v", missing.Searched)
	}
	if s.Kind != KindAustin {
		t.Fatalf("FindSampler = %+v, want austin", s)
	}
	rig.s = s
	return rig
}

// startWorker starts script under Python 3.9 and waits until the process
// is the interpreter (python3 may be a shim that execs it); the process
// group is killed at the end of the test.
func (rig austinRig) startWorker(t *testing.T, script string) int {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), rig.python, "-c", script)
	cmd.Env = rig.env
	if err := startGroup(t, cmd); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	exe := filepath.Join(procRoot, strconv.Itoa(pid), "exe")
	testenv.EventuallyWithin(t, time.Minute, fmt.Sprintf("worker %d to become Python 3.9", pid), func() bool {
		target, err := os.Readlink(exe)
		return err == nil && strings.HasPrefix(filepath.Base(target), "python3.9")
	})
	// Until the interpreter runs the script's own code, a sampler finds
	// nothing to read: both workers have a function of their own first.
	first := "busy_worker_fn"
	if script == parentScript {
		first = "parent_wait_fn"
	}
	dumpUntil(t, rig.s, pid, DumpOptions{}, first)
	return pid
}

func TestAustinProfileReal(t *testing.T) {
	rig := realAustin(t)
	s, pid := rig.s, rig.startWorker(t, workerScript)
	res := Profile(t.Context(), s, pid, ProfileOptions{Duration: 2 * time.Second})
	if res.Ok == nil {
		t.Fatalf("Profile = %v, want ok", res)
	}
	ok := res.Ok
	if ok.Binary != KindAustin || ok.Format != FormatPprof || ok.Samples < 20 {
		t.Errorf("Ok = binary %s format %s samples %d", ok.Binary, ok.Format, ok.Samples)
	}
	p, err := profile.Parse(bytes.NewReader(ok.Profile))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Function {
		names = append(names, f.Name)
	}
	if !slices.Contains(names, "busy_worker_fn") {
		t.Errorf("functions %q lack the worker's busy_worker_fn", names)
	}
	if slices.Contains(names, "idle_waiter_fn") {
		t.Errorf("functions %q hold the idle thread's, austin -s should leave it out", names)
	}
	if p.SampleType[1].Type != "cpu" || p.Period != 10000 {
		t.Errorf("sample types %v period %d", p.SampleType, p.Period)
	}
	for _, smp := range p.Sample {
		if len(smp.Label["thread"]) != 1 || smp.NumLabel["pid"][0] != int64(pid) {
			t.Errorf("sample labels %v %v", smp.Label, smp.NumLabel)
		}
	}

	// go tool pprof reads it.
	file := filepath.Join(t.TempDir(), "worker.pb.gz")
	if err := os.WriteFile(file, ok.Profile, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rig.goBin, "tool", "pprof", "-top", file)
	cmd.Env = rig.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "busy_worker_fn") {
		t.Errorf("go tool pprof -top does not show busy_worker_fn:\n%s", out)
	}
}

func TestAustinProfileFormatsReal(t *testing.T) {
	rig := realAustin(t)
	s, pid := rig.s, rig.startWorker(t, workerScript)
	for _, format := range []string{FormatRaw, FormatFlamegraph, FormatSpeedscope} {
		res := Profile(t.Context(), s, pid, ProfileOptions{Duration: time.Second, RateHz: 200, Format: format, Idle: true})
		if res.Ok == nil {
			t.Fatalf("Profile(%s) = %v, want ok", format, res)
		}
		for _, fn := range []string{"busy_worker_fn", "idle_waiter_fn"} {
			if !bytes.Contains(res.Ok.Profile, []byte(fn)) {
				t.Errorf("%s profile with idle threads lacks %s: %.300s", format, fn, res.Ok.Profile)
			}
		}
	}
}

func TestAustinDumpReal(t *testing.T) {
	rig := realAustin(t)
	s, pid := rig.s, rig.startWorker(t, workerScript)
	res := Dump(t.Context(), s, pid, DumpOptions{Locals: true})
	if res.Ok == nil {
		t.Fatalf("Dump = %v, want ok", res)
	}
	ok := res.Ok
	if len(ok.Processes) != 1 || ok.Processes[0].Pid != pid || !strings.Contains(ok.Processes[0].Command, "busy_worker_fn") {
		t.Fatalf("processes %+v", ok.Processes)
	}
	var leaves []string
	for _, th := range ok.Processes[0].Threads {
		if len(th.Frames) > 0 {
			leaves = append(leaves, th.Frames[0].Name)
		}
		if th.ID == 0 {
			t.Errorf("thread without an id: %+v", th)
		}
	}
	if !slices.Contains(leaves, "busy_worker_fn") || !slices.Contains(leaves, "idle_waiter_fn") {
		t.Errorf("thread leaves %q, want busy_worker_fn and idle_waiter_fn", leaves)
	}
	if len(ok.Warnings) == 0 {
		t.Error("no warning about locals")
	}
}

func TestAustinDumpChildrenReal(t *testing.T) {
	rig := realAustin(t)
	s, pid := rig.s, rig.startWorker(t, parentScript)
	res := dumpUntil(t, s, pid, DumpOptions{Subprocesses: true}, "parent_wait_fn", "child_spin_fn")
	var leaves []string
	for _, p := range res.Ok.Processes {
		for _, th := range p.Threads {
			if len(th.Frames) > 0 {
				leaves = append(leaves, th.Frames[0].Name)
			}
		}
	}
	if len(res.Ok.Processes) != 2 || res.Ok.Processes[0].Pid != pid ||
		!slices.Contains(leaves, "parent_wait_fn") || !slices.Contains(leaves, "child_spin_fn") {
		t.Errorf("processes %+v", res.Ok.Processes)
	}
}

// TestAustinFailuresReal: austin on a process that is not Python exits
// 36; austin without the right to read its target is PermissionDenied.
func TestAustinFailuresReal(t *testing.T) {
	rig := realAustin(t)
	s := rig.s
	target := exec.CommandContext(t.Context(), rig.sleep, "60")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = target.Process.Kill()
		_ = target.Wait()
	})
	res := Dump(t.Context(), s, target.Process.Pid, DumpOptions{})
	if res.ExitFailure == nil || res.ExitFailure.Code != 36 || !strings.Contains(res.ExitFailure.Stderr, "Not Python?") {
		t.Errorf("Dump of sleep = %v, want exit failure 36", res)
	}

	// austin as nobody against a worker of root's.
	if os.Geteuid() != 0 || rig.setpriv == "" {
		t.Skip("needs root and setpriv to run austin as another user")
	}
	wrapper := filepath.Join(t.TempDir(), "austin-as-nobody")
	script := "#!/bin/sh\nexec " + rig.setpriv + " --reuid=65534 --regid=65534 --clear-groups " + s.Path + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	nobody, missing := FindSampler(wrapper)
	if missing != nil || nobody.Kind != KindAustin {
		t.Fatalf("FindSampler(%s) = %+v %v", wrapper, nobody, missing)
	}
	pid := rig.startWorker(t, workerScript)
	res = Profile(t.Context(), nobody, pid, ProfileOptions{Duration: time.Second})
	if res.PermissionDenied == nil || !strings.Contains(res.PermissionDenied.Hint, "Permission denied. Try with elevated privileges.") {
		t.Errorf("Profile as nobody = %v, want permission denied", res)
	}
}
