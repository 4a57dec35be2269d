package ctl

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/procagent/procagent/profiling"
	"github.com/procagent/procagent/rpcserver"
)

// The agent serves the profiling RPCs with a profiling.Profiler; these
// tests serve them with one too, through cannedProfiler.
var (
	_ rpcserver.Profiler = (*profiling.Profiler)(nil)
	_ rpcserver.Profiler = (*cannedProfiler)(nil)
)

// cannedProfiler takes profiles with the profiling.Profiler newServer
// builds (withProfiler) or, when set, answers a canned outcome.
type cannedProfiler struct {
	*profiling.Profiler
	dump    atomic.Pointer[profiling.Result]
	profile atomic.Pointer[profiling.Result]
}

// Dump implements rpcserver.Profiler.
func (p *cannedProfiler) Dump(ctx context.Context, target profiling.Target, opts profiling.DumpOptions) (profiling.Result, error) {
	if r := p.dump.Load(); r != nil {
		return *r, nil
	}
	return p.Profiler.Dump(ctx, target, opts)
}

// Profile implements rpcserver.Profiler.
func (p *cannedProfiler) Profile(ctx context.Context, target profiling.Target, opts profiling.ProfileOptions) (profiling.Result, error) {
	if r := p.profile.Load(); r != nil {
		return *r, nil
	}
	return p.Profiler.Profile(ctx, target, opts)
}

// profLabels label the Go profiles of these tests.
var profLabels = map[string]string{"proc_id": "ctl-test", "agent_version": "test"}

// TestGoProfileConstants checks the profiling constants ctl mirrors rather
// than imports.
func TestGoProfileConstants(t *testing.T) {
	t.Parallel()
	if goProfileCPU != profiling.GoProfileCPU {
		t.Errorf("goProfileCPU = %q, profiling.GoProfileCPU = %q", goProfileCPU, profiling.GoProfileCPU)
	}
	if goProfileCPUDefault != profiling.DefaultCPUDuration {
		t.Errorf("goProfileCPUDefault = %v, profiling.DefaultCPUDuration = %v", goProfileCPUDefault, profiling.DefaultCPUDuration)
	}
}

// checkProfile reads a pprof file written by ctl and checks its labels.
func checkProfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("profile.Parse(%s): %v", path, err)
	}
	if !slices.Contains(p.Comments, "proc_id=ctl-test") {
		t.Errorf("profile comments %q lack the proc_id label", p.Comments)
	}
}

func TestGoProfile(t *testing.T) {
	s := newServer(t, withProfiler(&cannedProfiler{}))
	for _, protocol := range protocols {
		t.Run(protocol+"/heap", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "heap.pb.gz")
			kv := parseKV(s.mustRun(t, protocol, "goprofile", "heap", "-o", out)) // the spelling of --out
			if kv["file"] != out || kv["name"] != "heap" || kv["content_type"] != profiling.ContentTypePprof {
				t.Errorf("summary %v", kv)
			}
			checkProfile(t, out)
		})
		t.Run(protocol+"/cpu", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cpu.pb.gz")
			r := s.run(t.Context(), protocol, "goprofile", "cpu", "--duration", "1s", "--out", out)
			if r.code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if want := "open it with: go tool pprof -http=: " + out; !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "recording") {
				t.Errorf("stderr %q: want %q and no progress (not a terminal)", r.stderr, want)
			}
			checkProfile(t, out)
		})
		t.Run(protocol+"/block snapshot warns", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "block.pb.gz")
			r := s.run(t.Context(), protocol, "goprofile", "block", "--out", out)
			if r.code != exitOK || !strings.Contains(r.stderr, "warning: ") || !strings.Contains(r.stderr, "block_profile_rate") {
				t.Fatalf("exit %d, stderr %q: want a warning naming block_profile_rate", r.code, r.stderr)
			}
			checkProfile(t, out)
		})
		t.Run(protocol+"/block delta", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "block.pb.gz")
			r := s.run(t.Context(), protocol, "goprofile", "block", "--duration", "1s", "--out", out)
			if r.code != exitOK || strings.Contains(r.stderr, "recording") || strings.Contains(r.stderr, "warning: ") {
				t.Fatalf("exit %d, stderr %q: want no progress (not a terminal) and no warning", r.code, r.stderr)
			}
			checkProfile(t, out)
		})
		t.Run(protocol+"/goroutine text", func(t *testing.T) {
			out := s.mustRun(t, protocol, "goprofile", "goroutine", "--debug", "1")
			if !strings.HasPrefix(out, "goroutine profile: total") {
				t.Errorf("stdout starts %q, want the text profile", out[:min(len(out), 40)])
			}
		})
		t.Run(protocol+"/json", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "allocs.pb.gz")
			var m map[string]any
			if err := json.Unmarshal([]byte(s.mustRun(t, protocol, "-o", "json", "goprofile", "allocs", "--out", out)), &m); err != nil {
				t.Fatal(err)
			}
			if m["name"] != "allocs" || m["profile"] != nil {
				t.Errorf("json %v: want the name and no bytes (they are in the file)", m)
			}
			checkProfile(t, out)
		})
	}
}

func TestProfilingErrors(t *testing.T) {
	s := newServer(t, withProfiler(&cannedProfiler{}))
	pid := fmt.Sprint(os.Getpid())
	out := filepath.Join(t.TempDir(), "out.pb.gz")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"dump pid not allowed", []string{"pyspy", "dump", "--pid", pid}, exitError, "error: permission_denied: "},
		{"profile pid not allowed", []string{"profile", "--pid", pid, "--duration", "1s", "--out", out}, exitError, "error: permission_denied: "},
		{"dump unknown actor", []string{"pyspy", "dump", "ghost"}, exitError, "error: not_found: "},
		{"dump without sampler", []string{"pyspy", "dump", "worker"}, exitError, "error: failed_precondition: the agent has no Python sampler: "},
		{"profile without sampler", []string{"profile", "worker", "--duration", "1s", "--out", out}, exitError, "error: failed_precondition: the agent has no Python sampler: "},
		{"profile too short", []string{"profile", "worker", "--duration", "10ms", "--out", out}, exitError, "error: invalid_argument: "},
		{"goprofile unknown", []string{"goprofile", "stack", "--out", out}, exitError, "error: invalid_argument: "},
		{"goprofile without out", []string{"goprofile", "heap"}, exitUsage, "--out FILE is required"},
		{"goprofile -o file and --out", []string{"goprofile", "heap", "-o", "x.pb.gz", "--out", out}, exitUsage, `-o "x.pb.gz"`},
		{"list -o file", []string{"list", "-o", "x.pb.gz"}, exitUsage, `-o "x.pb.gz"`},
		{"profile without out", []string{"profile", "worker"}, exitUsage, "--out FILE is required"},
		{"profile bad format", []string{"profile", "worker", "--format", "svg", "--out", out}, exitUsage, `--format "svg"`},
		{"dump actor and pid", []string{"pyspy", "dump", "worker", "--pid", pid}, exitUsage, "not both"},
		{"dump no target", []string{"pyspy", "dump"}, exitUsage, "missing target"},
		{"pyspy record", []string{"pyspy", "record", "worker"}, exitUsage, `unknown pyspy subcommand "record"`},
		{"json and stdout", []string{"-o", "json", "goprofile", "heap", "--out", "-"}, exitUsage, "both write to stdout"},
	}
	for _, protocol := range protocols {
		for _, tt := range tests {
			t.Run(protocol+"/"+tt.name, func(t *testing.T) {
				r := s.run(t.Context(), protocol, tt.args...)
				if r.code != tt.wantCode {
					t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, tt.wantCode, r.stderr)
				}
				if !strings.Contains(r.stderr, tt.wantStderr) {
					t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.wantStderr)
				}
			})
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed call wrote %s", out)
	}
}

// cannedOk is a dump of two threads, one with locals and a native frame.
func cannedOk() *profiling.Ok {
	return &profiling.Ok{
		Pid: 4242, Binary: "py-spy", Path: "bin/py-spy",
		Processes: []profiling.ProcessStacks{{
			Pid: 4242, Command: "python3 worker.py",
			Threads: []profiling.ThreadStack{
				{ID: 0x7f00, NativeID: 4243, Name: "MainThread", Active: true, OwnsGIL: true, Frames: []profiling.Frame{
					{Name: "crunch", File: "worker.py", Line: 12, Locals: map[string]string{"n": "10", "acc": "[1, 2]"}},
					{Name: "<module>", File: "worker.py", Line: 30},
				}},
				{ID: 0x7f01, Name: "poller", Frames: []profiling.Frame{
					{Name: "epoll_wait", Module: "libc.so.6"},
				}},
			},
		}},
		Warnings: []string{"native_all unsupported: retried without"},
	}
}

func TestPySpyDumpPrints(t *testing.T) {
	p := &cannedProfiler{}
	p.dump.Store(&profiling.Result{Ok: cannedOk()})
	s := newServer(t, withProfiler(p))
	want := `sampled pid 4242 with py-spy (bin/py-spy)

process 4242: python3 worker.py
  thread 4243 "MainThread" (active, gil)
    crunch (worker.py:12)
        acc = [1, 2]
        n = 10
    <module> (worker.py:30)
  thread 0x7f01 "poller" (idle)
    epoll_wait (libc.so.6)
warning: native_all unsupported: retried without
`
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			if got := s.mustRun(t, protocol, "pyspy", "dump", "worker", "--locals"); got != want {
				t.Errorf("dump output:\n%s\nwant:\n%s", got, want)
			}
			var m map[string]map[string]any
			if err := json.Unmarshal([]byte(s.mustRun(t, protocol, "-o", "json", "pyspy", "dump", "worker")), &m); err != nil {
				t.Fatal(err)
			}
			if m["ok"]["binary"] != "py-spy" {
				t.Errorf("json %v: want the ok outcome", m)
			}
		})
	}
}

func TestProfileOutcomes(t *testing.T) {
	p := &cannedProfiler{}
	s := newServer(t, withProfiler(p))
	ok := cannedOk()
	ok.Processes, ok.Profile, ok.Format, ok.Samples = nil, []byte("profile bytes"), profiling.FormatRaw, 7
	tests := []struct {
		name       string
		outcome    *profiling.Result
		wantCode   int
		wantStderr string
	}{
		{"ok", &profiling.Result{Ok: ok}, exitOK, ""},
		{"permission denied", &profiling.Result{PermissionDenied: &profiling.PermissionDenied{Hint: "grant CAP_SYS_PTRACE"}},
			exitError, "error: permission_denied: the sampler may not read the process: grant CAP_SYS_PTRACE"},
		{"timed out", &profiling.Result{TimedOut: &profiling.TimedOut{After: 16 * time.Second}},
			exitError, "the sampler did not finish and was stopped after 16s"},
		{"exit failure", &profiling.Result{ExitFailure: &profiling.ExitFailure{Code: 2, Stderr: "boom\n", Sampler: "austin", Version: "3.7.0", PythonVersion: "3.12"}},
			exitError, "austin 3.7.0 failed with exit code 2 on Python 3.12: boom"},
		{"exit failure, no Python", &profiling.Result{ExitFailure: &profiling.ExitFailure{Code: 32, Stderr: "  _\n\nnot a Python\nprocess.\n", Sampler: "austin", Version: "3.7.0", Executable: "/usr/bin/bash"}},
			exitError, "error: internal: austin 3.7.0 failed with exit code 32: _ / not a Python process. The process runs /usr/bin/bash, in which the agent finds no Python: if it is still starting"},
		{"output missing", &profiling.Result{OutputMissing: &profiling.OutputMissing{}}, exitError, "the sampler finished without writing anything"},
		{"output empty", &profiling.Result{OutputEmpty: &profiling.OutputEmpty{Sampler: "austin", Version: "1.0.1", PythonVersion: "3.11", StderrTail: "a\n\nb\nc"}},
			exitError, "austin 1.0.1 read no Python stacks from the process on Python 3.11: is it a Python process, and past its start? The sampler said: a / b c"},
		{"output empty, Python known", &profiling.Result{OutputEmpty: &profiling.OutputEmpty{Sampler: "austin", Version: "3.7.0", PythonVersion: "3.11", Executable: "/usr/bin/python3.11"}},
			exitError, "past its start?\n"},
		{"output empty, no Python", &profiling.Result{OutputEmpty: &profiling.OutputEmpty{Sampler: "py-spy", Executable: "/usr/bin/sleep"}},
			exitError, "py-spy read no Python stacks from the process: is it a Python process, and past its start? The process runs /usr/bin/sleep, in which the agent finds no Python"},
		{"unsupported", &profiling.Result{Unsupported: &profiling.Unsupported{PythonVersion: "3.11", Samplers: []string{"austin 1.0.1 (/usr/bin/austin)"}, Hint: "use austin 3.5 or later"}},
			exitError, "error: failed_precondition: no sampler on the agent can read Python 3.11 (found: austin 1.0.1 (/usr/bin/austin)). use austin 3.5 or later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.profile.Store(tt.outcome)
			out := filepath.Join(t.TempDir(), "out.txt")
			r := s.run(t.Context(), protocolConnect, "profile", "worker", "--duration", "1s", "--format", "raw", "--out", out)
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
			b, err := os.ReadFile(out)
			if tt.wantCode != exitOK {
				if err == nil {
					t.Errorf("a failed profile wrote %s", out)
				}
				return
			}
			if err != nil || string(b) != "profile bytes" {
				t.Errorf("file holds %q (%v), want the profile", b, err)
			}
			kv := parseKV(r.stdout)
			if kv["format"] != "raw" || kv["samples"] != "7" || kv["bytes"] != "13" || kv["file"] != out {
				t.Errorf("summary %v", kv)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		done, total time.Duration
		want        string
	}{
		{0, 10 * time.Second, "[··········]"},
		{3 * time.Second, 10 * time.Second, "[###·······]"},
		{10 * time.Second, 10 * time.Second, "[##########]"},
		{20 * time.Second, 10 * time.Second, "[##########]"},
		{time.Second, 0, "[##########]"},
	} {
		if got := bar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("bar(%v, %v) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
	var buf strings.Builder
	progress(&buf, time.Second)()
	if buf.Len() != 0 {
		t.Errorf("progress wrote %q to a writer that is no terminal", buf.String())
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"python3 worker.py", "python3 worker.py"},
		{"python3 -u -c import os\nwhile True: pass", "python3 -u -c import os …"},
		{strings.Repeat("x", 12), "xxxxxxxxxx …"},
	} {
		if got := oneLine(tc.in, 10+len("python3 -u -c import os")*boolInt(strings.HasPrefix(tc.in, "python"))); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestThreadsFlag(t *testing.T) {
	var f threadsFlag
	if err := f.Set("12, 0x1f"); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("7"); err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "12,31,7" {
		t.Errorf("threads = %q, want 12,31,7", got)
	}
	if err := f.Set("main"); err == nil {
		t.Error("a thread name was taken for an id")
	}
}
