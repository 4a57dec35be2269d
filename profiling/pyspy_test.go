package profiling

// Tests of py-spy's behaviour, against testdata/fake-py-spy: a stand-in
// (py-spy cannot be installed on the build machines) that replays py-spy's
// formats and failure modes; its header says how FAKE_PYSPY_* drive it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/pprof/profile"

	"github.com/procagent/procagent/internal/testenv"
)

// fakePySpy installs the stand-in as "py-spy" in a temporary directory,
// sets its mode, and returns the Sampler FindSampler resolves for it and a
// function returning the argument lines of its calls so far.
func fakePySpy(t *testing.T, mode string) (Sampler, func() []string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "py-spy")
	if err := os.WriteFile(path, readTestdata(t, "fake-py-spy"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Abs(filepath.Join("testdata", "pyspy"))
	if err != nil {
		t.Fatal(err)
	}
	argsLog := filepath.Join(dir, "args.log")
	t.Setenv("FAKE_PYSPY_DATA", data)
	t.Setenv("FAKE_PYSPY_MODE", mode)
	t.Setenv("FAKE_PYSPY_ARGS_LOG", argsLog)
	s, missing := FindSampler(path)
	if missing != nil {
		t.Fatalf("FindSampler(%s): %v", path, missing.Searched)
	}
	if s.Kind != KindPySpy || s.Path != path {
		t.Fatalf("FindSampler(%s) = %+v", path, s)
	}
	return s, func() []string {
		b, err := os.ReadFile(argsLog)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

// startTarget starts a process to sample (a sleep) and returns its pid;
// it is killed and reaped at the end of the test.
func startTarget(t *testing.T) int {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

// processState returns the state letter of /proc/<pid>/stat.
func processState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return rest[:1]
}

func TestPySpyDumpOk(t *testing.T) {
	s, calls := fakePySpy(t, "ok")
	target := startTarget(t)
	res := Dump(t.Context(), s, target, DumpOptions{})
	if res.Ok == nil {
		t.Fatalf("Dump = %v, want ok", res)
	}
	ok := res.Ok
	if ok.Pid != target || ok.Binary != "py-spy" || ok.Path != s.Path || len(ok.Warnings) != 0 {
		t.Errorf("Ok = pid %d binary %s path %s warnings %q", ok.Pid, ok.Binary, ok.Path, ok.Warnings)
	}
	if len(ok.Processes) != 1 || ok.Processes[0].Pid != target || ok.Processes[0].Command != "sleep 60" {
		t.Fatalf("processes %+v", ok.Processes)
	}
	threads := ok.Processes[0].Threads
	if len(threads) != 2 || threads[0].Name != "MainThread" || !threads[0].OwnsGIL || threads[0].Frames[0].Name != "busy_worker_fn" {
		t.Errorf("threads %+v", threads)
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("dump --pid %d --json", target)}, calls()); diff != "" {
		t.Errorf("py-spy calls mismatch (-want +got):\n%s", diff)
	}
}

func TestPySpyDumpOptions(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		opts     DumpOptions
		calls    []string // arguments after "dump --pid N --json"
		warnings []string
		locals   bool
	}{
		{name: "native", mode: "ok", opts: DumpOptions{Native: true}, calls: []string{" --native"}},
		{name: "locals", mode: "ok", opts: DumpOptions{Locals: true}, calls: []string{" --locals"}, locals: true},
		{name: "nonblocking", mode: "ok", opts: DumpOptions{Nonblocking: true}, calls: []string{" --nonblocking"}},
		{name: "native_all supported", mode: "ok", opts: DumpOptions{NativeAll: true}, calls: []string{" --native --native-all"}},
		{
			name: "native_all unsupported: retried without it", mode: "native_all_unsupported",
			opts:     DumpOptions{Native: true, NativeAll: true},
			calls:    []string{" --native --native-all", " --native"},
			warnings: []string{warnNativeAll},
		},
		{
			name: "native with nonblocking: nonblocking wins", mode: "ok",
			opts:     DumpOptions{Native: true, Nonblocking: true},
			calls:    []string{" --nonblocking"},
			warnings: []string{warnNonblocking},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, calls := fakePySpy(t, tt.mode)
			target := startTarget(t)
			res := Dump(t.Context(), s, target, tt.opts)
			if res.Ok == nil {
				t.Fatalf("Dump = %v, want ok", res)
			}
			var want []string
			for _, c := range tt.calls {
				want = append(want, fmt.Sprintf("dump --pid %d --json", target)+c)
			}
			if diff := cmp.Diff(want, calls()); diff != "" {
				t.Errorf("py-spy calls mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, res.Ok.Warnings); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
			gotLocals := res.Ok.Processes[0].Threads[0].Frames[0].Locals
			if tt.locals != (gotLocals != nil) || (tt.locals && gotLocals["x"] != "1990000") {
				t.Errorf("locals %v", gotLocals)
			}
		})
	}
}

func TestPySpyDumpNonblockingTries(t *testing.T) {
	tests := []struct {
		name        string
		nonblocking bool
		fails       int
		calls       int
		want        string
	}{
		{name: "third try succeeds", nonblocking: true, fails: 2, calls: 3, want: "ok"},
		{name: "three tries fail", nonblocking: true, fails: 3, calls: 3, want: "exit_failure"},
		{name: "blocking dumps are tried once", fails: 1, calls: 1, want: "exit_failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, calls := fakePySpy(t, "flaky")
			t.Setenv("FAKE_PYSPY_STATE", t.TempDir())
			t.Setenv("FAKE_PYSPY_FAILS", strconv.Itoa(tt.fails))
			res := Dump(t.Context(), s, startTarget(t), DumpOptions{Nonblocking: tt.nonblocking})
			if res.Kind() != tt.want {
				t.Fatalf("Dump = %v, want %s", res, tt.want)
			}
			if n := len(calls()); n != tt.calls {
				t.Errorf("py-spy called %d times, want %d", n, tt.calls)
			}
			switch {
			case res.Ok != nil:
				if !slices.ContainsFunc(res.Ok.Warnings, func(w string) bool { return strings.Contains(w, "try 3 of 3") }) {
					t.Errorf("warnings %q do not tell the tries", res.Ok.Warnings)
				}
			case res.ExitFailure.Code != 1 || !strings.Contains(res.ExitFailure.Stderr, "Failed to copy PyThreadState"):
				t.Errorf("exit failure %+v", res.ExitFailure)
			}
		})
	}
}

// TestPySpyOutcomes produces every typed outcome of a dump and a profile
// from py-spy's failure modes.
func TestPySpyOutcomes(t *testing.T) {
	tests := []struct {
		mode string
		want string
		// check looks at the outcome.
		check func(t *testing.T, r Result)
	}{
		{mode: "ok", want: "ok"},
		{mode: "permission", want: "permission_denied", check: func(t *testing.T, r Result) {
			if !strings.Contains(r.PermissionDenied.Hint, "CAP_SYS_PTRACE") || !strings.Contains(r.PermissionDenied.Hint, "Permission Denied") {
				t.Errorf("hint %q", r.PermissionDenied.Hint)
			}
		}},
		{mode: "permission_root", want: "permission_denied"},
		{mode: "exit_failure", want: "exit_failure", check: func(t *testing.T, r Result) {
			if r.ExitFailure.Code != 1 || r.ExitFailure.Stderr != "Error: Failed to find python version from target process" {
				t.Errorf("exit failure %+v", r.ExitFailure)
			}
		}},
		{mode: "no_output", want: "output_missing"},
		{mode: "empty", want: "output_empty"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			s, _ := fakePySpy(t, tt.mode)
			target := startTarget(t)
			for what, res := range map[string]Result{
				"dump":    Dump(t.Context(), s, target, DumpOptions{}),
				"profile": Profile(t.Context(), s, target, ProfileOptions{Duration: time.Second}),
			} {
				if res.Kind() != tt.want {
					t.Errorf("%s = %v, want %s", what, res, tt.want)
					continue
				}
				if tt.check != nil {
					tt.check(t, res)
				}
			}
		})
	}
}

// TestPySpyTimeout: a py-spy that stops its target and hangs is killed and
// reaped at the deadline, and the target runs again.
func TestPySpyTimeout(t *testing.T) {
	for _, what := range []string{"dump", "profile"} {
		t.Run(what, func(t *testing.T) {
			s, _ := fakePySpy(t, "hang")
			s.slack = 300 * time.Millisecond
			pidFile := filepath.Join(t.TempDir(), "pid")
			t.Setenv("FAKE_PYSPY_PIDFILE", pidFile)
			target := startTarget(t)
			if err := syscall.Kill(target, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			var res Result
			if what == "dump" {
				res = Dump(t.Context(), s, target, DumpOptions{})
			} else {
				res = Profile(t.Context(), s, target, ProfileOptions{Duration: time.Second})
			}
			took := time.Since(start)
			if res.TimedOut == nil {
				t.Fatalf("%s = %v, want timed out", what, res)
			}
			if res.TimedOut.After < s.slack || took > 2*time.Second {
				t.Errorf("timed out after %v (took %v), deadline slack %v", res.TimedOut.After, took, s.slack)
			}
			if st := processState(t, target); st == "T" {
				t.Errorf("target left stopped (state %s)", st)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			sampler, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if err := syscall.Kill(sampler, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("sampler %d not reaped: kill 0 = %v", sampler, err)
			}
		})
	}
}

// TestPySpyDumpTree dumps a process tree: a Python process, its Python
// child, and a child that is not Python (a warning, not a failure).
func TestPySpyDumpTree(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		skipOrFail(t, "python3 not on PATH")
	}
	// python3 may be a version manager's shim that runs helpers before it
	// execs Python (slowly on a loaded machine): run the interpreter itself.
	exe, err := exec.CommandContext(t.Context(), python, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	python = strings.TrimSpace(string(exe))
	s, calls := fakePySpy(t, "ok")
	t.Setenv("FAKE_PYSPY_PYTHON_CHECK", "1")
	root := exec.CommandContext(t.Context(), python, "-c", `import subprocess, sys, time
subprocess.Popen(["sleep", "300"])
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
time.sleep(300)
`)
	if err := startGroup(t, root); err != nil {
		t.Fatal(err)
	}
	pid := root.Process.Pid
	testenv.EventuallyWithin(t, time.Minute, "the two children the script starts", func() bool {
		var cmds []string
		for _, k := range descendants(procRoot, pid) {
			cmds = append(cmds, command(procRoot, k))
		}
		return slices.Contains(cmds, "sleep 300") && slices.ContainsFunc(cmds, func(c string) bool { return strings.HasSuffix(c, "time.sleep(300)") })
	})
	kids := descendants(procRoot, pid)

	res := Dump(t.Context(), s, pid, DumpOptions{Subprocesses: true})
	if res.Ok == nil {
		t.Fatalf("Dump = %v, want ok", res)
	}
	var dumped []int
	for _, p := range res.Ok.Processes {
		dumped = append(dumped, p.Pid)
		if len(p.Threads) == 0 || !strings.Contains(p.Command, "python") {
			t.Errorf("process %+v", p)
		}
	}
	if len(dumped) != 2 || dumped[0] != pid {
		t.Errorf("dumped %v of tree %d %v, want the root and its Python child", dumped, pid, kids)
	}
	if len(res.Ok.Warnings) != 1 || !strings.Contains(res.Ok.Warnings[0], "sleep 300") ||
		!strings.Contains(res.Ok.Warnings[0], "Failed to find python version") {
		t.Errorf("warnings %q, want one naming the sleep child", res.Ok.Warnings)
	}
	if n := len(calls()); n != 3 {
		t.Errorf("py-spy called %d times, want once per process (3)", n)
	}
	// Without Subprocesses only the root is dumped.
	if res := Dump(t.Context(), s, pid, DumpOptions{}); res.Ok == nil || len(res.Ok.Processes) != 1 {
		t.Errorf("Dump without subprocesses = %v", res)
	}
}

func TestPySpyProfile(t *testing.T) {
	tests := []struct {
		name     string
		opts     ProfileOptions
		raw      string
		flags    string // after --threads
		warnings []string
		check    func(t *testing.T, b []byte)
	}{
		{
			name: "pprof", opts: ProfileOptions{Duration: time.Second, RateHz: 250},
			check: func(t *testing.T, b []byte) {
				p, err := profile.Parse(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if p.Period != 4000 || len(p.Sample) != 3 || p.Sample[0].Label["thread_name"][0] != "MainThread" {
					t.Errorf("profile period %d, %d samples", p.Period, len(p.Sample))
				}
			},
		},
		{
			name: "raw as py-spy wrote it", opts: ProfileOptions{Duration: time.Second, Format: FormatRaw},
			check: func(t *testing.T, b []byte) {
				if diff := cmp.Diff(string(readTestdata(t, "pyspy/record.raw")), string(b)); diff != "" {
					t.Errorf("raw mismatch (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "flamegraph", opts: ProfileOptions{Duration: time.Second, Format: FormatFlamegraph},
			check: func(t *testing.T, b []byte) {
				if !bytes.HasPrefix(b, []byte("<?xml")) || !bytes.Contains(b, []byte("busy_worker_fn (worker.py:6) (187 samples")) {
					t.Errorf("flamegraph %.200s", b)
				}
			},
		},
		{
			name: "speedscope", opts: ProfileOptions{Duration: time.Second, Format: FormatSpeedscope},
			check: func(t *testing.T, b []byte) {
				if !bytes.Contains(b, []byte(`"type":"sampled"`)) {
					t.Errorf("speedscope %.200s", b)
				}
			},
		},
		{
			name: "every flag, subprocesses", raw: "record-subprocesses.raw",
			opts:  ProfileOptions{Duration: 2 * time.Second, Idle: true, GIL: true, Subprocesses: true, Nonblocking: true},
			flags: " --idle --gil --subprocesses --nonblocking",
			check: func(t *testing.T, b []byte) {
				p, err := profile.Parse(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				var pids []int64
				for _, s := range p.Sample {
					pids = append(pids, s.NumLabel["pid"][0])
				}
				if diff := cmp.Diff([]int64{4242, 4250}, pids); diff != "" {
					t.Errorf("pid labels mismatch (-want +got):\n%s", diff)
				}
				if p.PeriodType.Type != "wall" {
					t.Errorf("period type %v with idle", p.PeriodType)
				}
			},
		},
		{
			name: "native; whole seconds", opts: ProfileOptions{Duration: 1500 * time.Millisecond, Native: true},
			flags:    " --native",
			warnings: []string{"py-spy records whole seconds: recorded 2 s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, calls := fakePySpy(t, "ok")
			if tt.raw != "" {
				t.Setenv("FAKE_PYSPY_RAW", tt.raw)
			}
			target := startTarget(t)
			res := Profile(t.Context(), s, target, tt.opts)
			if res.Ok == nil {
				t.Fatalf("Profile = %v, want ok", res)
			}
			opts := tt.opts.withDefaults()
			if res.Ok.Format != opts.Format || res.Ok.Binary != "py-spy" || res.Ok.Pid != target || res.Ok.Samples != 200 && tt.raw == "" {
				t.Errorf("Ok = format %s binary %s pid %d samples %d", res.Ok.Format, res.Ok.Binary, res.Ok.Pid, res.Ok.Samples)
			}
			if diff := cmp.Diff(tt.warnings, res.Ok.Warnings); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
			got := calls()
			secs := int((opts.Duration + time.Second - 1) / time.Second)
			wantPrefix := fmt.Sprintf("record --pid %d --duration %d --rate %d --format raw --output ", target, secs, opts.RateHz)
			if len(got) != 1 || !strings.HasPrefix(got[0], wantPrefix) || !strings.HasSuffix(got[0], "profile.txt --threads"+tt.flags) {
				t.Errorf("py-spy calls %q, want %s…profile.txt --threads%s", got, wantPrefix, tt.flags)
			}
			if tt.check != nil {
				tt.check(t, res.Ok.Profile)
			}
		})
	}
}

func TestProfileOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts ProfileOptions
		ok   bool
	}{
		{"defaults", ProfileOptions{Duration: time.Second}, true},
		{"longest, fastest", ProfileOptions{Duration: 300 * time.Second, RateHz: 1000, Format: FormatRaw}, true},
		{"too short", ProfileOptions{Duration: 999 * time.Millisecond}, false},
		{"too long", ProfileOptions{Duration: 301 * time.Second}, false},
		{"rate too high", ProfileOptions{Duration: time.Second, RateHz: 1001}, false},
		{"negative rate", ProfileOptions{Duration: time.Second, RateHz: -1}, false},
		{"unknown format", ProfileOptions{Duration: time.Second, Format: "svg"}, false},
		{"native and nonblocking", ProfileOptions{Duration: time.Second, Native: true, Nonblocking: true}, false},
	}
	s, calls := fakePySpy(t, "ok")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("Validate() = %v, want ok %v or ErrInvalid", err, tt.ok)
			}
			if tt.ok {
				return
			}
			res := Profile(t.Context(), s, os.Getpid(), tt.opts)
			if res.ExitFailure == nil || res.ExitFailure.Code != -1 || !strings.Contains(res.ExitFailure.Stderr, ErrInvalid.Error()) {
				t.Errorf("Profile = %v, want an ExitFailure -1 naming the invalid option", res)
			}
		})
	}
	if n := len(calls()); n != 0 {
		t.Errorf("py-spy ran %d times for invalid options", n)
	}
	if res := Dump(t.Context(), s, 0, DumpOptions{}); res.ExitFailure == nil || res.ExitFailure.Code != -1 {
		t.Errorf("Dump of pid 0 = %v", res)
	}
}

func TestFindSampler(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "py-spy")
	notExec := filepath.Join(dir, "plain")
	austinFake := filepath.Join(dir, "austin-3.7")
	for path, mode := range map[string]os.FileMode{fake: 0o755, notExec: 0o644, austinFake: 0o755} {
		if err := os.WriteFile(path, readTestdata(t, "fake-py-spy"), mode); err != nil {
			t.Fatal(err)
		}
	}
	onlyAustin := t.TempDir()
	if err := os.Symlink(fake, filepath.Join(onlyAustin, "austin")); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	tests := []struct {
		name     string
		bin      string
		path     string // PATH
		want     Sampler
		searched []string
	}{
		{name: "PYSPY_BIN", bin: fake, path: empty, want: Sampler{Kind: KindPySpy, Path: fake}},
		{name: "PYSPY_BIN naming austin", bin: austinFake, path: empty, want: Sampler{Kind: KindAustin, Path: austinFake}},
		{name: "PYSPY_BIN a bare name", bin: "py-spy", path: dir, want: Sampler{Kind: KindPySpy, Path: fake}},
		{name: "py-spy on PATH", path: dir, want: Sampler{Kind: KindPySpy, Path: fake}},
		{name: "austin on PATH", path: onlyAustin, want: Sampler{Kind: KindAustin, Path: filepath.Join(onlyAustin, "austin")}},
		{name: "PYSPY_BIN not executable, falls back", bin: notExec, path: onlyAustin, want: Sampler{Kind: KindAustin, Path: filepath.Join(onlyAustin, "austin")}},
		{
			name: "nothing", bin: filepath.Join(dir, "missing"), path: empty,
			searched: []string{"PYSPY_BIN=" + filepath.Join(dir, "missing") + " (not found)", "py-spy on PATH", "austin on PATH"},
		},
		{
			name: "a directory", bin: dir, path: empty,
			searched: []string{"PYSPY_BIN=" + dir + " (not an executable file)", "py-spy on PATH", "austin on PATH"},
		},
		{name: "nothing set", path: empty, searched: []string{"py-spy on PATH", "austin on PATH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			got, missing := FindSampler(tt.bin)
			if tt.searched != nil {
				if missing == nil {
					t.Fatalf("FindSampler(%q) = %+v, want BinaryNotFound", tt.bin, got)
				}
				if diff := cmp.Diff(tt.searched, missing.Searched); diff != "" {
					t.Errorf("searched mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if missing != nil {
				t.Fatalf("FindSampler(%q): %v", tt.bin, missing.Searched)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Sampler{})); diff != "" {
				t.Errorf("FindSampler(%q) mismatch (-want +got):\n%s", tt.bin, diff)
			}
		})
	}
}

// TestSamplerGone: a sampler removed after it was resolved, or none at
// all, is BinaryNotFound.
func TestSamplerGone(t *testing.T) {
	s, _ := fakePySpy(t, "ok")
	if err := os.Remove(s.Path); err != nil {
		t.Fatal(err)
	}
	target := startTarget(t)
	for _, res := range []Result{
		Dump(t.Context(), s, target, DumpOptions{}),
		Profile(t.Context(), s, target, ProfileOptions{Duration: time.Second}),
		Dump(t.Context(), Sampler{}, target, DumpOptions{}),
		Profile(t.Context(), Sampler{}, target, ProfileOptions{Duration: time.Second}),
	} {
		if res.BinaryNotFound == nil || len(res.BinaryNotFound.Searched) == 0 {
			t.Errorf("got %v, want binary not found", res)
		}
	}
}

// TestConcurrentDumps runs dumps and profiles at once.
func TestConcurrentDumps(t *testing.T) {
	s, calls := fakePySpy(t, "ok")
	target := startTarget(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	results := make([]Result, 12)
	for i := range results {
		wg.Go(func() {
			if i%2 == 0 {
				results[i] = Dump(ctx, s, target, DumpOptions{Locals: i%4 == 0})
			} else {
				results[i] = Profile(ctx, s, target, ProfileOptions{Duration: time.Second})
			}
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.Ok == nil {
			t.Errorf("call %d = %v", i, r)
		}
	}
	if n := len(calls()); n != len(results) {
		t.Errorf("%d py-spy calls, want %d", n, len(results))
	}
}

// skipOrFail skips a test whose tools are missing, except in CI, where they
// must be installed.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: run `make deps` to install what the tests need", why)
	}
	t.Skip(why)
}

// startGroup starts cmd in a process group of its own and kills the whole
// group at the end of the test, so nothing a worker forked outlives it.
func startGroup(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return nil
}
