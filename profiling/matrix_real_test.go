package profiling

// The Python matrix: a real worker on each Python 3.8 – 3.13 that pyenv
// has, sampled by the real austin ≥ 3.5 that `make deps` builds. A version
// missing here is skipped, and fails under CI=true.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/procagent/procagent/internal/osproc"
	"github.com/procagent/procagent/internal/testenv"
)

// matrixPythons are the minor versions the matrix must cover.
var matrixPythons = []string{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"}

// modernAustin returns an austin ≥ 3.5: PROCAGENT_AUSTIN_BIN, the one
// `make deps` built into the repository's .tools/bin, or austin on PATH.
func modernAustin(t *testing.T) Sampler {
	t.Helper()
	candidates := []string{os.Getenv("PROCAGENT_AUSTIN_BIN"), filepath.Join("..", ".tools", "bin", "austin")}
	if p, err := exec.LookPath("austin"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		path, err := resolveBinary(c)
		if err != nil {
			continue
		}
		s := Sampler{Kind: KindAustin, Path: path, Version: samplerVersion(t.Context(), path)}
		if s.canRead(osproc.PythonVersion{Major: 3, Minor: 13}) {
			return s
		}
	}
	skipOrFail(t, "no austin >= 3.5 (make deps builds one into .tools/bin)")
	return Sampler{}
}

// pyenvPythons maps each minor version pyenv has ("3.11") to its newest
// full version ("3.11.7").
func pyenvPythons(t *testing.T) map[string]string {
	t.Helper()
	pyenv, err := exec.LookPath("pyenv")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(t.Context(), pyenv, "versions", "--bare").Output()
	if err != nil {
		return nil
	}
	found := map[string]string{}
	for _, v := range strings.Fields(string(out)) {
		parts := strings.Split(v, ".")
		if len(parts) != 3 {
			continue
		}
		minor := parts[0] + "." + parts[1]
		if old, ok := found[minor]; !ok || versionAtLeast(v, old) {
			found[minor] = v
		}
	}
	return found
}

// startPython starts python3 under pyenv's version full with args, waits
// until the process is that interpreter (python3 may be a shim that execs
// it), and kills its process group at the end of the test.
func startPython(t *testing.T, full string, args ...string) int {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		skipOrFail(t, "python3 not on PATH")
	}
	cmd := exec.CommandContext(t.Context(), python, args...)
	cmd.Env = append(os.Environ(), "PYENV_VERSION="+full)
	if err := startGroup(t, cmd); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	minor := full[:strings.LastIndex(full, ".")]
	testenv.EventuallyWithin(t, time.Minute, fmt.Sprintf("pid %d to become Python %s", pid, minor), func() bool {
		v, err := osproc.ReadPythonVersion(procRoot, pid)
		return err == nil && v.String() == minor
	})
	return pid
}

// dumpUntil dumps pid until the dump holds a frame of every name, and
// returns that dump. The interpreter may still be starting, importing its
// site packages on a loaded machine: until its own code runs a sampler may
// find no stacks, or fail, and the dump is tried again, for a minute.
func dumpUntil(t *testing.T, s Sampler, pid int, opts DumpOptions, names ...string) Result {
	t.Helper()
	var res Result
	testenv.EventuallyWithin(t, time.Minute, fmt.Sprintf("a dump of %d with %v", pid, names), func() bool {
		res = Dump(t.Context(), s, pid, opts)
		if res.Ok == nil {
			return false
		}
		for _, name := range names {
			if _, ok := frameAt(res.Ok.Processes, name); !ok {
				return false
			}
		}
		return true
	})
	return res
}

// frameAt finds a frame of name in a dump's threads.
func frameAt(procs []ProcessStacks, name string) (Frame, bool) {
	for _, p := range procs {
		for _, th := range p.Threads {
			for _, f := range th.Frames {
				if f.Name == name {
					return f, true
				}
			}
		}
	}
	return Frame{}, false
}

func TestPythonMatrixReal(t *testing.T) {
	s := modernAustin(t)
	pythons := pyenvPythons(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go not on PATH")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "worker.py")
	if err := os.WriteFile(script, []byte(workerScript), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, minor := range matrixPythons {
		t.Run("python"+minor, func(t *testing.T) {
			full, ok := pythons[minor]
			if !ok {
				skipOrFail(t, "pyenv has no Python "+minor)
			}
			t.Parallel()

			// One worker per version for the dump and the profile, one
			// parent-and-child for the subprocesses: the versions run in
			// parallel, the steps of one version in turn.
			pid := startPython(t, full, script)
			t.Run("dump", func(t *testing.T) {
				v, err := osproc.ReadPythonVersion(procRoot, pid)
				if err != nil || v.String() != minor {
					t.Fatalf("ReadPythonVersion = %v, %v; want %s", v, err, minor)
				}
				res := dumpUntil(t, s, pid, DumpOptions{}, "busy_worker_fn", "idle_waiter_fn")
				for name, line := range map[string]int{"busy_worker_fn": 10, "idle_waiter_fn": 5, "<module>": 13} {
					f, ok := frameAt(res.Ok.Processes, name)
					if !ok {
						t.Errorf("no frame %s in %+v", name, res.Ok.Processes)
						continue
					}
					if f.Line != line || f.File != script {
						t.Errorf("%s at %s:%d, want %s:%d", name, f.File, f.Line, script, line)
					}
				}
				// --threads: the main thread (its native id is the pid) alone.
				main := Dump(t.Context(), s, pid, DumpOptions{Threads: []uint64{uint64(pid)}})
				if main.Ok == nil {
					t.Fatalf("Dump(threads) = %v, want ok", main)
				}
				_, busy := frameAt(main.Ok.Processes, "busy_worker_fn")
				_, idle := frameAt(main.Ok.Processes, "idle_waiter_fn")
				if !busy || idle {
					t.Errorf("dump of the main thread: busy %v idle %v, want only busy_worker_fn", busy, idle)
				}
			})

			t.Run("profile", func(t *testing.T) {
				res := Profile(t.Context(), s, pid, ProfileOptions{Duration: 2 * time.Second})
				if res.Ok == nil {
					t.Fatalf("Profile = %v, want ok", res)
				}
				p, err := profile.Parse(bytes.NewReader(res.Ok.Profile))
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Sample) == 0 || !slices.ContainsFunc(p.Function, func(f *profile.Function) bool { return f.Name == "busy_worker_fn" }) {
					t.Fatalf("profile with %d samples lacks busy_worker_fn", len(p.Sample))
				}
				file := filepath.Join(t.TempDir(), "worker.pb.gz")
				if err := os.WriteFile(file, res.Ok.Profile, 0o644); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				top, err := exec.CommandContext(ctx, goBin, "tool", "pprof", "-top", file).CombinedOutput()
				if err != nil || !strings.Contains(string(top), "busy_worker_fn") {
					t.Errorf("go tool pprof -top: %v\n%s", err, top)
				}
			})

			t.Run("subprocesses", func(t *testing.T) {
				pid := startPython(t, full, "-c", parentScript)
				testenv.EventuallyWithin(t, time.Minute, "the worker's Python child", func() bool {
					kids := descendants(procRoot, pid)
					if len(kids) == 0 {
						return false
					}
					v, err := osproc.ReadPythonVersion(procRoot, kids[0])
					return err == nil && v.String() == minor
				})
				res := dumpUntil(t, s, pid, DumpOptions{Subprocesses: true}, "parent_wait_fn", "child_spin_fn")
				if len(res.Ok.Processes) != 2 || res.Ok.Processes[0].Pid != pid {
					t.Errorf("processes %+v", res.Ok.Processes)
				}
			})
		})
	}
}

// TestProfilerChoosesReal: a Profiler that has austin 1.0.1 and a modern
// austin samples Python 3.11 with the modern one; with the old one alone
// the answer is Unsupported, naming the version and what would work.
func TestProfilerChoosesReal(t *testing.T) {
	modern := modernAustin(t)
	pythons := pyenvPythons(t)
	full, ok := pythons["3.11"]
	if !ok {
		skipOrFail(t, "pyenv has no Python 3.11")
	}
	old := filepath.Join(t.TempDir(), "austin-old")
	if err := os.WriteFile(old, []byte("#!/bin/sh\necho 'austin 1.0.1'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // neither py-spy nor austin
	pid := startPythonAbs(t, full, modern)

	p := NewProfiler(nil, WithAllowedPids([]int{pid}), WithPySpyBin(old), WithAustinBin(modern.Path))
	if got := p.Samplers(); len(got) != 2 || got[0].Version != "1.0.1" || got[1].Version != modern.Version {
		t.Fatalf("Samplers = %+v", got)
	}
	res, err := p.Dump(t.Context(), Target{Pid: int64(pid)}, DumpOptions{})
	if err != nil || res.Ok == nil || res.Ok.Path != modern.Path {
		t.Fatalf("Dump = %v, %v; want ok with %s", res, err, modern.Path)
	}

	p = NewProfiler(nil, WithAllowedPids([]int{pid}), WithPySpyBin(old))
	res, err = p.Dump(t.Context(), Target{Pid: int64(pid)}, DumpOptions{})
	if err != nil || res.Unsupported == nil {
		t.Fatalf("Dump = %v, %v; want unsupported", res, err)
	}
	u := res.Unsupported
	if u.PythonVersion != "3.11" || len(u.Samplers) != 1 || !strings.Contains(u.Samplers[0], "austin 1.0.1") || !strings.Contains(u.Hint, "austin 3.5 or later") {
		t.Errorf("Unsupported = %+v", u)
	}
}

// startPythonAbs starts the worker script through the absolute path of
// pyenv's python3 for version full (PATH is emptied by the caller), and
// waits until s finds it in its own code.
func startPythonAbs(t *testing.T, full string, s Sampler) int {
	t.Helper()
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".pyenv")
	}
	python := filepath.Join(root, "versions", full, "bin", "python3")
	cmd := exec.CommandContext(t.Context(), python, "-c", workerScript)
	if err := startGroup(t, cmd); err != nil {
		skipOrFail(t, "start Python "+full+": "+err.Error())
	}
	dumpUntil(t, s, cmd.Process.Pid, DumpOptions{}, "busy_worker_fn")
	return cmd.Process.Pid
}

// TestProfilerNamesNonPythonReal: the real austin 3.7 on a process that
// runs no Python (as a worker started through pyenv's shell shim is in its
// first second) fails with its own words, without its coloured banner, and
// the outcome names what the process runs, so ctl can say what to try.
func TestProfilerNamesNonPythonReal(t *testing.T) {
	modern := modernAustin(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal("sleep not on PATH")
	}
	wantExe, err := filepath.EvalSymlinks(sleep)
	if err != nil {
		t.Fatal(err)
	}
	target := exec.CommandContext(t.Context(), sleep, "60")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = target.Process.Kill()
		_ = target.Wait()
	})
	t.Setenv("PATH", t.TempDir()) // the modern austin only
	pid := target.Process.Pid
	p := NewProfiler(nil, WithAllowedPids([]int{pid}), WithAustinBin(modern.Path))
	res, err := p.Dump(t.Context(), Target{Pid: int64(pid)}, DumpOptions{})
	if err != nil || res.ExitFailure == nil {
		t.Fatalf("Dump of sleep = %v, %v; want an exit failure", res, err)
	}
	f := res.ExitFailure
	if f.Executable != wantExe || f.PythonVersion != "" || f.Sampler != KindAustin || f.Version != modern.Version {
		t.Errorf("exit failure names executable %q, Python %q, sampler %s %s; want %q, none, austin %s",
			f.Executable, f.PythonVersion, f.Sampler, f.Version, wantExe, modern.Version)
	}
	if !strings.Contains(f.Stderr, "not a Python") || strings.Contains(f.Stderr, "\x1b") ||
		strings.Count(f.Stderr, "\n") > 4 {
		t.Errorf("stderr %q: want austin's sentence in at most 5 lines, without terminal escapes", f.Stderr)
	}
}
