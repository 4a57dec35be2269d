package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/pprof/profile"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// The agent's Service routes the profiling RPCs to a profiling.Handler.
var _ procagent.ProfilingHandler = (*profiling.Handler)(nil)

// ctlProfilingService serves the profiling RPCs through a
// profiling.Handler, as the agent's Service delegates them, or, when set,
// answers a canned outcome.
type ctlProfilingService struct {
	procagentv1connect.UnimplementedProcAgentServiceHandler
	h       *profiling.Handler
	dump    atomic.Pointer[procagentv1.PySpyDumpResponse]
	profile atomic.Pointer[procagentv1.PySpyProfileResponse]
}

func (s *ctlProfilingService) PySpyDump(ctx context.Context, req *connect.Request[procagentv1.PySpyDumpRequest]) (*connect.Response[procagentv1.PySpyDumpResponse], error) {
	if m := s.dump.Load(); m != nil {
		return connect.NewResponse(m), nil
	}
	return s.h.PySpyDump(ctx, req)
}

func (s *ctlProfilingService) PySpyProfile(ctx context.Context, req *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error) {
	if m := s.profile.Load(); m != nil {
		return connect.NewResponse(m), nil
	}
	return s.h.PySpyProfile(ctx, req)
}

func (s *ctlProfilingService) GoProfile(ctx context.Context, req *connect.Request[procagentv1.GoProfileRequest]) (*connect.Response[procagentv1.GoProfileResponse], error) {
	return s.h.GoProfile(ctx, req)
}

// ctlProfLabels label the Go profiles of these tests.
var ctlProfLabels = map[string]string{"proc_id": "ctl-test", "agent_version": "test"}

// newCtlProfilingServer serves svc over HTTP/1 and h2c. Its Handler has no
// sampler (PYSPY_BIN names a missing file, PATH holds neither py-spy nor
// austin), knows the actor "worker" (this process) and allows no pid.
func newCtlProfilingServer(t *testing.T, svc *ctlProfilingService) *ctlServer {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	resolver := profiling.ResolverFunc(func(id string) (int, error) {
		if id == "worker" {
			return os.Getpid(), nil
		}
		return 0, fmt.Errorf("actor %q: %w", id, profiling.ErrUnknownActor)
	})
	svc.h = profiling.NewHandler(resolver, profiling.WithPySpyBin(filepath.Join(dir, "py-spy")), profiling.WithLabels(ctlProfLabels))
	mux := http.NewServeMux()
	mux.Handle(procagentv1connect.NewProcAgentServiceHandler(svc))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return &ctlServer{addr: srv.Listener.Addr().String()}
}

// ctlParseProfile reads a pprof file written by ctl and checks its labels.
func ctlParseProfile(t *testing.T, path string) {
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

func TestCtlGoProfile(t *testing.T) {
	s := newCtlProfilingServer(t, &ctlProfilingService{})
	for _, protocol := range ctlProtocols {
		t.Run(protocol+"/heap", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "heap.pb.gz")
			kv := ctlKV(s.mustRun(t, protocol, "goprofile", "heap", "-o", out)) // the spelling of --out
			if kv["file"] != out || kv["name"] != "heap" || kv["content_type"] != profiling.ContentTypePprof {
				t.Errorf("summary %v", kv)
			}
			ctlParseProfile(t, out)
		})
		t.Run(protocol+"/cpu", func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cpu.pb.gz")
			r := s.run(t.Context(), protocol, "goprofile", "cpu", "--duration", "1s", "--out", out)
			if r.code != ctlExitOK {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "recording… 0s/1s") {
				t.Errorf("stderr %q shows no progress", r.stderr)
			}
			ctlParseProfile(t, out)
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
			ctlParseProfile(t, out)
		})
	}
}

func TestCtlProfilingErrors(t *testing.T) {
	s := newCtlProfilingServer(t, &ctlProfilingService{})
	pid := fmt.Sprint(os.Getpid())
	out := filepath.Join(t.TempDir(), "out.pb.gz")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"dump pid not allowed", []string{"pyspy", "dump", "--pid", pid}, ctlExitError, "error: permission_denied: "},
		{"profile pid not allowed", []string{"profile", "--pid", pid, "--duration", "1s", "--out", out}, ctlExitError, "error: permission_denied: "},
		{"dump unknown actor", []string{"pyspy", "dump", "ghost"}, ctlExitError, "error: not_found: "},
		{"dump without sampler", []string{"pyspy", "dump", "worker"}, ctlExitError, "binary_not_found: "},
		{"profile without sampler", []string{"profile", "worker", "--duration", "1s", "--out", out}, ctlExitError, "binary_not_found: "},
		{"profile too short", []string{"profile", "worker", "--duration", "10ms", "--out", out}, ctlExitError, "error: invalid_argument: "},
		{"goprofile unknown", []string{"goprofile", "stack", "--out", out}, ctlExitError, "error: invalid_argument: "},
		{"goprofile without out", []string{"goprofile", "heap"}, ctlExitUsage, "--out FILE is required"},
		{"goprofile -o file and --out", []string{"goprofile", "heap", "-o", "x.pb.gz", "--out", out}, ctlExitUsage, `-o "x.pb.gz"`},
		{"list -o file", []string{"list", "-o", "x.pb.gz"}, ctlExitUsage, `-o "x.pb.gz"`},
		{"profile without out", []string{"profile", "worker"}, ctlExitUsage, "--out FILE is required"},
		{"profile bad format", []string{"profile", "worker", "--format", "svg", "--out", out}, ctlExitUsage, `--format "svg"`},
		{"dump actor and pid", []string{"pyspy", "dump", "worker", "--pid", pid}, ctlExitUsage, "not both"},
		{"dump no target", []string{"pyspy", "dump"}, ctlExitUsage, "missing target"},
		{"pyspy record", []string{"pyspy", "record", "worker"}, ctlExitUsage, `unknown pyspy subcommand "record"`},
		{"json and stdout", []string{"-o", "json", "goprofile", "heap", "--out", "-"}, ctlExitUsage, "both write to stdout"},
	}
	for _, protocol := range ctlProtocols {
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

// ctlCannedOk is a dump of two threads, one with locals and a native frame.
func ctlCannedOk() *procagentv1.PySpyOk {
	return &procagentv1.PySpyOk{
		Pid: 4242, Binary: "py-spy", Path: "bin/py-spy",
		Processes: []*procagentv1.ProcessStacks{{
			Pid: 4242, Command: "python3 worker.py",
			Threads: []*procagentv1.ThreadStack{
				{Id: 0x7f00, NativeId: 4243, Name: "MainThread", Active: true, OwnsGil: true, Frames: []*procagentv1.Frame{
					{Name: "crunch", File: "worker.py", Line: 12, Locals: map[string]string{"n": "10", "acc": "[1, 2]"}},
					{Name: "<module>", File: "worker.py", Line: 30},
				}},
				{Id: 0x7f01, Name: "poller", Frames: []*procagentv1.Frame{
					{Name: "epoll_wait", Module: "libc.so.6"},
				}},
			},
		}},
		Warnings: []string{"native_all unsupported: retried without"},
	}
}

func TestCtlPySpyDumpPrints(t *testing.T) {
	svc := &ctlProfilingService{}
	svc.dump.Store(&procagentv1.PySpyDumpResponse{Outcome: &procagentv1.PySpyDumpResponse_Ok{Ok: ctlCannedOk()}})
	s := newCtlProfilingServer(t, svc)
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
	for _, protocol := range ctlProtocols {
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

func TestCtlProfileOutcomes(t *testing.T) {
	svc := &ctlProfilingService{}
	s := newCtlProfilingServer(t, svc)
	ok := ctlCannedOk()
	ok.Processes, ok.Profile, ok.Format, ok.Samples = nil, []byte("profile bytes"), procagentv1.ProfileFormat_PROFILE_FORMAT_RAW, 7
	tests := []struct {
		name       string
		outcome    *procagentv1.PySpyProfileResponse
		wantCode   int
		wantStderr string
	}{
		{"ok", &procagentv1.PySpyProfileResponse{Outcome: &procagentv1.PySpyProfileResponse_Ok{Ok: ok}}, ctlExitOK, "recording… 0s/1s"},
		{"permission denied", &procagentv1.PySpyProfileResponse{Outcome: &procagentv1.PySpyProfileResponse_PermissionDenied{
			PermissionDenied: &procagentv1.PermissionDenied{Hint: "grant CAP_SYS_PTRACE"}}}, ctlExitError, "error: permission_denied: the sampler could not attach: grant CAP_SYS_PTRACE"},
		{"timed out", &procagentv1.PySpyProfileResponse{Outcome: &procagentv1.PySpyProfileResponse_TimedOut{
			TimedOut: &procagentv1.TimedOut{After: durationpb.New(16 * time.Second)}}}, ctlExitError, "timed_out: the sampler was killed after 16s"},
		{"exit failure", &procagentv1.PySpyProfileResponse{Outcome: &procagentv1.PySpyProfileResponse_ExitFailure{
			ExitFailure: &procagentv1.ExitFailure{Code: 2, Stderr: "boom\n"}}}, ctlExitError, "exit_failure: the sampler exited with code 2: boom"},
		{"output missing", &procagentv1.PySpyProfileResponse{Outcome: &procagentv1.PySpyProfileResponse_OutputMissing{
			OutputMissing: &procagentv1.OutputMissing{}}}, ctlExitError, "output_missing: "},
		{"output empty", &procagentv1.PySpyProfileResponse{Outcome: &procagentv1.PySpyProfileResponse_OutputEmpty{
			OutputEmpty: &procagentv1.OutputEmpty{}}}, ctlExitError, "output_empty: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc.profile.Store(tt.outcome)
			out := filepath.Join(t.TempDir(), "out.txt")
			r := s.run(t.Context(), ctlProtocolConnect, "profile", "worker", "--duration", "1s", "--format", "raw", "--out", out)
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
			b, err := os.ReadFile(out)
			if tt.wantCode != ctlExitOK {
				if err == nil {
					t.Errorf("a failed profile wrote %s", out)
				}
				return
			}
			if err != nil || string(b) != "profile bytes" {
				t.Errorf("file holds %q (%v), want the profile", b, err)
			}
			kv := ctlKV(r.stdout)
			if kv["format"] != "raw" || kv["samples"] != "7" || kv["bytes"] != "13" || kv["file"] != out {
				t.Errorf("summary %v", kv)
			}
		})
	}
}
