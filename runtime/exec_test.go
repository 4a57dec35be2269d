package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/internal/testenv"
)

var pythonOnce struct {
	sync.Once
	path string
	err  error
}

// python returns the interpreter python3 runs (python3 on PATH may be a slow
// shim), skipping the test when there is none.
func python(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "python3", "-c", "import sys; print(sys.executable)").Output()
		pythonOnce.path, pythonOnce.err = strings.TrimSpace(string(out)), err
	})
	if pythonOnce.err != nil || pythonOnce.path == "" {
		t.Skipf("no python3: %v", pythonOnce.err)
	}
	return pythonOnce.path
}

// py returns the argv running a Python program.
func py(t *testing.T, code string) []string {
	t.Helper()
	return []string{python(t), "-c", code}
}

// spawnExec builds an exec actor from params through its factory and spawns
// it as "worker".
func spawnExec(t *testing.T, p *Proc, params ExecParams) (*Ref, *Exec) {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatalf("marshal params: %v", err)
	}
	a, err := NewExec(b)
	if err != nil {
		t.Fatalf("NewExec(%s): %v", b, err)
	}
	ref, err := p.Spawn("worker", a, TypeName("exec"))
	if err != nil {
		t.Fatalf("spawn: %v", err)
	}
	return ref, a.(*Exec)
}

// waitOutput waits until the worker's output contains want.
func waitOutput(t *testing.T, e *Exec, want string) {
	t.Helper()
	testenv.Eventually(t, "output "+strconv.Quote(want), func() bool {
		return strings.Contains(string(e.Output()), want)
	})
}

// field returns the number after key on a whole line of out ("child 123").
func field(out, key string) (int, bool) {
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if !strings.HasSuffix(line, "\n") || len(f) != 2 || f[0] != key {
			continue
		}
		if n, err := strconv.Atoi(f[1]); err == nil {
			return n, true
		}
	}
	return 0, false
}

// waitField waits for a whole "key <number>" line of output.
func waitField(t *testing.T, e *Exec, key string) int {
	t.Helper()
	var n int
	testenv.Eventually(t, "a "+strconv.Quote(key)+" line", func() bool {
		var ok bool
		n, ok = field(string(e.Output()), key)
		return ok
	})
	return n
}

// checkReaped fails unless our own child pid is gone: reaped, not a zombie.
func checkReaped(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("worker %d still exists after the actor ended: kill 0 = %v", pid, err)
	}
}

// procState returns the state letter of pid in /proc, or "" once it is gone.
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	// The command name may hold spaces; the state follows its ")".
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// waitDead waits until pid, which is not our child, is no longer running:
// gone, or a zombie left to its new parent. (Reaping an orphan is init's job;
// some container inits never do it.)
func waitDead(t *testing.T, pid int) {
	t.Helper()
	testenv.Eventually(t, "process "+strconv.Itoa(pid)+" to die", func() bool {
		s := procState(pid)
		return s == "" || s == "Z" || s == "X"
	})
}

// outcome is the part of a supervision event the exec tests compare.
type outcome struct {
	Status   Status
	ExitCode *int
	Signal   string
	Reason   string
}

func intp(n int) *int { return &n }

func TestExecExit(t *testing.T) {
	tests := []struct {
		name     string
		code     string
		lookPath bool // run "python3" from PATH
		want     outcome
	}{
		{
			name:     "exit 0 via PATH",
			code:     "import sys; sys.exit(0)",
			lookPath: true,
			want:     outcome{Status: StatusStopped, ExitCode: intp(0), Reason: "stopped"},
		},
		{
			name: "exit 3",
			code: "import sys; sys.exit(3)",
			want: outcome{Status: StatusFailed, ExitCode: intp(3), Reason: "process exited with code 3"},
		},
		{
			name: "killed by SIGKILL",
			code: "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
			want: outcome{Status: StatusFailed, Signal: "SIGKILL", Reason: "process killed by signal 9 (SIGKILL)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestProc(t)
			argv := py(t, tt.code)
			if tt.lookPath {
				argv[0] = "python3"
			}
			ref, e := spawnExec(t, p, ExecParams{Argv: argv})
			ev := waitDone(t, ref)
			got := outcome{Status: ev.Status, ExitCode: ev.ExitCode, Signal: ev.Signal, Reason: ev.Reason}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if e.Pid() == 0 || ref.Pid() != e.Pid() {
				t.Errorf("Pid() = %d, Ref.Pid() = %d; want the same non-zero pid", e.Pid(), ref.Pid())
			}
			if got := e.StopOutcome(); got != "" {
				t.Errorf("StopOutcome() = %q, want empty for an exit on its own", got)
			}
			checkReaped(t, e.Pid())
		})
	}
}

func TestExecStop(t *testing.T) {
	const sleeper = `import os, time
%s
print("ready", os.getpid(), flush=True)
time.sleep(60)`
	tests := []struct {
		name     string
		setup    string // Python run before "ready"
		grace    time.Duration
		exitCode *int
		outcome  string // prefix of StopOutcome
		reason   string // the event's reason; "" is the stop's own, "test stop"
		minTime  time.Duration
	}{
		{name: "dies of SIGTERM", grace: 5 * time.Second, outcome: "exited after SIGTERM (signal SIGTERM)"},
		{
			name:     "exits 0 on SIGTERM",
			setup:    "import signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))",
			grace:    5 * time.Second,
			exitCode: intp(0),
			outcome:  "exited after SIGTERM (code 0)",
		},
		{
			name:     "exits 7 on SIGTERM is still a clean stop",
			setup:    "import signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))",
			grace:    5 * time.Second,
			exitCode: intp(7),
			outcome:  "exited after SIGTERM (code 7)",
		},
		{
			name:    "ignores SIGTERM",
			setup:   "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)",
			grace:   300 * time.Millisecond,
			outcome: "killed after grace period 300ms",
			reason:  "test stop: killed after grace period 300ms: signal: killed",
			minTime: 300 * time.Millisecond,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestProc(t)
			grace := DurationParam(tt.grace)
			code := strings.Replace(sleeper, "%s", tt.setup, 1)
			ref, e := spawnExec(t, p, ExecParams{Argv: py(t, code), GracePeriod: &grace})
			pid := waitField(t, e, "ready")
			if ref.Pid() != pid {
				t.Errorf("Ref.Pid() = %d, the worker says %d", ref.Pid(), pid)
			}
			if info, _ := p.Actor("worker"); info.Pid != pid || info.Status != StatusRunning {
				t.Errorf("Actor() = pid %d %v, want pid %d RUNNING", info.Pid, info.Status, pid)
			}

			start := time.Now()
			ref.Stop("test stop")
			ev := waitDone(t, ref)
			took := time.Since(start)

			got := outcome{Status: ev.Status, ExitCode: ev.ExitCode, Signal: ev.Signal, Reason: ev.Reason}
			reason := tt.reason
			if reason == "" {
				reason = "test stop"
			}
			want := outcome{Status: StatusStopped, ExitCode: tt.exitCode, Reason: reason}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if got := e.StopOutcome(); got != tt.outcome {
				t.Errorf("StopOutcome() = %q, want %q", got, tt.outcome)
			}
			if took < tt.minTime || took >= tt.grace+5*time.Second {
				t.Errorf("stop took %v, want at least %v and well under grace %v plus slack", took, tt.minTime, tt.grace)
			}
			checkReaped(t, pid)
		})
	}
}

func TestExecNoOrphan(t *testing.T) {
	const (
		child        = `import time; print("grandchild-ready", flush=True); time.sleep(60)`
		childIgnTerm = `import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("grandchild-ready", flush=True)
time.sleep(60)`
		// The parent runs the child program it gets as argv[1], which
		// inherits its stdout.
		parentExits = `import subprocess, sys
c = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print("child", c.pid, flush=True)`
		parentSleeps = parentExits + "\nimport time; time.sleep(60)"
	)
	tests := []struct {
		name   string
		parent string
		child  string
		stop   bool
	}{
		{name: "parent exits", parent: parentExits, child: child},
		{name: "parent stopped", parent: parentSleeps, child: child, stop: true},
		{name: "parent stopped, child ignores SIGTERM", parent: parentSleeps, child: childIgnTerm, stop: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestProc(t)
			ref, e := spawnExec(t, p, ExecParams{Argv: append(py(t, tt.parent), tt.child)})
			if tt.stop {
				waitOutput(t, e, "grandchild-ready")
				ref.Stop("test stop")
			}
			ev := waitDone(t, ref)
			if ev.Status != StatusStopped {
				t.Errorf("status = %v (%s), want STOPPED", ev.Status, ev.Reason)
			}
			grandchild := waitField(t, e, "child")
			checkReaped(t, e.Pid())
			waitDead(t, grandchild)
		})
	}
}

func TestExecEnvAndDir(t *testing.T) {
	t.Setenv("PROCAGENT_EXEC_INHERITED", "agent")
	t.Setenv("PROCAGENT_EXEC_OVERRIDDEN", "agent")
	dir := t.TempDir()
	p := newTestProc(t)
	ref, e := spawnExec(t, p, ExecParams{
		Argv: py(t, `import os
e = os.environ
print(e.get("PROCAGENT_EXEC_INHERITED"), e.get("PROCAGENT_EXEC_OVERRIDDEN"), e.get("PROCAGENT_EXEC_ADDED"))
print(os.getcwd())`),
		Env: map[string]string{"PROCAGENT_EXEC_OVERRIDDEN": "actor", "PROCAGENT_EXEC_ADDED": "added"},
		Dir: dir,
	})
	if ev := waitDone(t, ref); ev.Status != StatusStopped {
		t.Fatalf("status = %v (%s), want STOPPED", ev.Status, ev.Reason)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "agent actor added\n" + realDir + "\n"
	if diff := cmp.Diff(want, string(e.Output())); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestExecParamsErrors(t *testing.T) {
	python(t)
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name   string
		params string
		want   string // contained in the error
	}{
		{name: "no argv", params: `{}`, want: "argv is required"},
		{name: "empty argv", params: `{"argv": []}`, want: "argv is required"},
		{name: "empty argv[0]", params: `{"argv": [""]}`, want: "argv is required"},
		{name: "not on PATH", params: `{"argv": ["procagent-no-such-binary"]}`, want: `"procagent-no-such-binary"`},
		{name: "unknown field", params: `{"argv": ["python3"], "shell": true}`, want: `unknown field "shell"`},
		{name: "grace zero", params: `{"argv": ["python3"], "grace_period": 0}`, want: "grace_period must be above 0"},
		{name: "grace negative", params: `{"argv": ["python3"], "grace_period": "-1s"}`, want: "grace_period must be above 0"},
		{name: "grace too long", params: `{"argv": ["python3"], "grace_period": "11m"}`, want: "at most 10m0s"},
		{name: "grace not a duration", params: `{"argv": ["python3"], "grace_period": "soon"}`, want: "decode duration"},
		{name: "grace of a wrong type", params: `{"argv": ["python3"], "grace_period": true}`, want: "duration must be a string or a number"},
		{name: "grace overflows", params: `{"argv": ["python3"], "grace_period": 1e300}`, want: "out of range"},
		{name: "output limit negative", params: `{"argv": ["python3"], "output_limit": -1}`, want: "output_limit"},
		{name: "output limit too big", params: `{"argv": ["python3"], "output_limit": 1073741824}`, want: "output_limit"},
		{name: "env name with =", params: `{"argv": ["python3"], "env": {"A=B": "x"}}`, want: "bad env entry"},
		{name: "empty env name", params: `{"argv": ["python3"], "env": {"": "x"}}`, want: "bad env entry"},
		{name: "missing dir", params: `{"argv": ["python3"], "dir": ` + strconv.Quote(missing) + `}`, want: "dir:"},
		{name: "trailing data", params: `{"argv": ["python3"]} {}`, want: "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProc(t)
			_, err := p.SpawnType("worker", "exec", []byte(tt.params))
			var pe *ParamsError
			if !errors.As(err, &pe) || pe.Type != "exec" {
				t.Fatalf("SpawnType(%s) = %v, want a *ParamsError for exec", tt.params, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if c := p.Children(); len(c) != 0 {
				t.Errorf("Children() = %v, want none", c)
			}
		})
	}
}

func TestNewExecParams(t *testing.T) {
	python(t)
	dir := t.TempDir()
	tool := filepath.Join(dir, "bin", "tool")
	if err := os.MkdirAll(filepath.Dir(tool), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tool, []byte("exit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pythonPath, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Path  string
		Grace time.Duration
		Limit int
		Env   []string
	}
	tests := []struct {
		name   string
		params string
		want   got
	}{
		{name: "defaults", params: `{"argv": ["python3"]}`, want: got{Path: pythonPath, Grace: 5 * time.Second, Limit: DefaultOutputLimit, Env: []string{}}},
		{name: "grace string", params: `{"argv": ["python3"], "grace_period": "2s"}`, want: got{Path: pythonPath, Grace: 2 * time.Second, Limit: DefaultOutputLimit, Env: []string{}}},
		{name: "grace seconds", params: `{"argv": ["python3"], "grace_period": 2.5}`, want: got{Path: pythonPath, Grace: 2500 * time.Millisecond, Limit: DefaultOutputLimit, Env: []string{}}},
		{name: "grace null", params: `{"argv": ["python3"], "grace_period": null}`, want: got{Path: pythonPath, Grace: 5 * time.Second, Limit: DefaultOutputLimit, Env: []string{}}},
		{name: "grace at most", params: `{"argv": ["python3"], "grace_period": "10m"}`, want: got{Path: pythonPath, Grace: 10 * time.Minute, Limit: DefaultOutputLimit, Env: []string{}}},
		{name: "output limit", params: `{"argv": ["python3"], "output_limit": 10}`, want: got{Path: pythonPath, Grace: 5 * time.Second, Limit: 10, Env: []string{}}},
		{name: "env sorted", params: `{"argv": ["python3"], "env": {"B": "2", "A": "1"}}`, want: got{Path: pythonPath, Grace: 5 * time.Second, Limit: DefaultOutputLimit, Env: []string{"A=1", "B=2"}}},
		{name: "relative to dir", params: `{"argv": ["./bin/tool"], "dir": ` + strconv.Quote(dir) + `}`, want: got{Path: tool, Grace: 5 * time.Second, Limit: DefaultOutputLimit, Env: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewExec([]byte(tt.params))
			if err != nil {
				t.Fatalf("NewExec(%s): %v", tt.params, err)
			}
			e := a.(*Exec)
			g := got{Path: e.path, Grace: e.grace, Limit: e.out.size, Env: e.env}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("NewExec(%s) (-want +got):\n%s", tt.params, diff)
			}
		})
	}
}

func TestExecOutputBounded(t *testing.T) {
	t.Parallel()
	p := newTestProc(t)
	ref, e := spawnExec(t, p, ExecParams{
		Argv: py(t, `import sys
sys.stderr.write("ERR\n"); sys.stderr.flush()
sys.stdout.write("x" * 1000000); sys.stdout.write("END\n"); sys.stdout.flush()`),
		OutputLimit: 1000,
	})
	if ev := waitDone(t, ref); ev.Status != StatusStopped {
		t.Fatalf("status = %v (%s), want STOPPED", ev.Status, ev.Reason)
	}
	out := e.Output()
	want := strings.Repeat("x", 996) + "END\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if got, want := e.out.Dropped(), int64(4+1000000+4-1000); got != want {
		t.Errorf("dropped = %d, want %d", got, want)
	}
}

// signalWaiter exits 0 on SIGUSR1, once it says it is ready.
const signalWaiter = `import signal, sys, time
signal.signal(signal.SIGUSR1, lambda *a: sys.exit(0))
print("ready", flush=True)
while True:
    time.sleep(1)`

func TestExecSignalMessage(t *testing.T) {
	tests := []struct {
		name  string
		msg   any
		reply any
	}{
		{name: "name", msg: map[string]any{"signal": "SIGUSR1"}, reply: map[string]any{"sent": "SIGUSR1"}},
		{name: "short lowercase name", msg: map[string]any{"signal": "usr1"}, reply: map[string]any{"sent": "SIGUSR1"}},
		{name: "JSON number", msg: map[string]any{"signal": float64(syscall.SIGUSR1)}, reply: map[string]any{"sent": "SIGUSR1"}},
		{name: "Go int", msg: map[string]any{"signal": int(syscall.SIGUSR1)}, reply: map[string]any{"sent": "SIGUSR1"}},
		{name: "typed", msg: ExecSignal{Sig: syscall.SIGUSR1}, reply: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newTestProc(t)
			ref, e := spawnExec(t, p, ExecParams{Argv: py(t, signalWaiter)})
			waitOutput(t, e, "ready\n")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			reply, err := ref.Ask(ctx, tt.msg)
			if err != nil {
				t.Fatalf("Ask: %v", err)
			}
			if diff := cmp.Diff(tt.reply, reply); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
			ev := waitDone(t, ref)
			got := outcome{Status: ev.Status, ExitCode: ev.ExitCode, Signal: ev.Signal, Reason: ev.Reason}
			if diff := cmp.Diff(outcome{Status: StatusStopped, ExitCode: intp(0), Reason: "stopped"}, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecMessages(t *testing.T) {
	t.Parallel()
	p := newTestProc(t)
	ref, e := spawnExec(t, p, ExecParams{Argv: py(t, signalWaiter)})
	waitOutput(t, e, "ready\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tests := []struct {
		name  string
		msg   any
		reply any
	}{
		{name: "unknown signal", msg: map[string]any{"signal": "SIGNOPE"}, reply: map[string]any{"error": `unknown signal "SIGNOPE"`}},
		{name: "fractional signal", msg: map[string]any{"signal": 1.5}, reply: map[string]any{"error": "signal 1.5 out of range 1-64"}},
		{name: "signal 0", msg: map[string]any{"signal": 0.0}, reply: map[string]any{"error": "signal 0 out of range 1-64"}},
		{name: "signal of a wrong type", msg: map[string]any{"signal": true}, reply: map[string]any{"error": "signal must be a name or a number, got bool"}},
		{name: "output", msg: map[string]any{"output": true}, reply: map[string]any{"output": "ready\n", "dropped": int64(0)}},
		{name: "typed output", msg: ExecOutput{}, reply: ExecOutputReply{Output: []byte("ready\n")}},
		{name: "unknown map", msg: map[string]any{"hello": 1}, reply: nil},
		{name: "output false", msg: map[string]any{"output": false}, reply: nil},
		{name: "unknown type", msg: "hello", reply: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, err := ref.Ask(ctx, tt.msg)
			if err != nil {
				t.Fatalf("Ask(%v): %v", tt.msg, err)
			}
			if diff := cmp.Diff(tt.reply, reply); diff != "" {
				t.Errorf("Ask(%v) reply (-want +got):\n%s", tt.msg, diff)
			}
		})
	}
	reply, err := ref.Ask(ctx, ExecSignal{Sig: 0})
	if rerr, _ := reply.(error); err != nil || rerr == nil || !strings.Contains(rerr.Error(), "out of range") {
		t.Errorf("Ask(ExecSignal{0}) = %v, %v; want an out of range error reply", reply, err)
	}
	if s := ref.Status(); s != StatusRunning {
		t.Fatalf("status after bad requests = %v, want RUNNING", s)
	}
	ref.Stop("done")
	if ev := waitDone(t, ref); ev.Status != StatusStopped || ev.Reason != "done" {
		t.Errorf("event = %v (%s), want STOPPED (done)", ev.Status, ev.Reason)
	}
}

// TestExecFailureBeforeStop checks the race between a process failing on
// its own and a stop request that comes before the waiter has noticed: the
// failure is kept.
func TestExecFailureBeforeStop(t *testing.T) {
	t.Parallel()
	p := newTestProc(t)
	ref, e := spawnExec(t, p, ExecParams{Argv: py(t, `import signal, sys, time
signal.signal(signal.SIGUSR1, lambda *a: sys.exit(3))
print("ready", flush=True)
while True:
    time.sleep(1)`)})
	waitOutput(t, e, "ready\n")
	pid := e.Pid()

	// Holding the lock keeps both the waiter and Close from acting until the
	// process has failed and the stop has been requested.
	e.mu.Lock()
	ref.Stop("test stop")
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		e.mu.Unlock()
		t.Fatal(err)
	}
	testenv.Eventually(t, "the worker to exit", func() bool { return procState(pid) == "Z" })
	e.mu.Unlock()

	ev := waitDone(t, ref)
	got := outcome{Status: ev.Status, ExitCode: ev.ExitCode, Signal: ev.Signal, Reason: ev.Reason}
	want := outcome{Status: StatusFailed, ExitCode: intp(3), Reason: "process exited with code 3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if got := e.StopOutcome(); got != "" {
		t.Errorf("StopOutcome() = %q, want empty: the stop did not end the process", got)
	}
}

func TestExecStartFailure(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ExecParams{Argv: py(t, "pass"), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewExec(b)
	if err != nil {
		t.Fatalf("NewExec: %v", err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	p := newTestProc(t)
	ref, err := p.Spawn("worker", a, TypeName("exec"))
	if err != nil {
		t.Fatal(err)
	}
	ev := waitDone(t, ref)
	if ev.Status != StatusFailed || !strings.Contains(ev.Reason, "start ") || ev.ExitCode != nil {
		t.Errorf("event = %v %q exit %v, want FAILED with a start error and no exit code", ev.Status, ev.Reason, ev.ExitCode)
	}
	if pid := ref.Pid(); pid != 0 {
		t.Errorf("Pid() = %d, want 0 for a process that never started", pid)
	}
}
