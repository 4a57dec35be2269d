package rpcserver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/pprof/profile"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/profiling"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// serveProfiler serves the profiling RPCs of p behind a real in-process h2c
// server and returns a client per protocol.
func serveProfiler(t *testing.T, p *profiling.Profiler) map[string]procagentv1connect.ProcAgentServiceClient {
	t.Helper()
	srv := serve(t, New(nil, WithProfiler(p)))
	clients := make(map[string]procagentv1connect.ProcAgentServiceClient)
	for _, pr := range protocols {
		clients[pr.name] = procagentv1connect.NewProcAgentServiceClient(srv.Client, srv.URL, pr.opts...)
	}
	return clients
}

// Actors of the fake resolver: "worker" runs in this test process,
// "mailbox" is an actor without a process; every other id is unknown.
const allowedPid = 424242

func fakeResolver() profiling.Resolver {
	return profiling.ResolverFunc(func(id string) (int, error) {
		switch id {
		case "worker":
			return os.Getpid(), nil
		case "mailbox":
			return 0, fmt.Errorf("actor %q: %w", id, profiling.ErrNotAProcess)
		case "BAD ID":
			return 0, fmt.Errorf("%w: actor id %q", profiling.ErrInvalid, id)
		}
		return 0, fmt.Errorf("actor %q: %w", id, profiling.ErrUnknownActor)
	})
}

// noSampler makes FindSampler find nothing: PYSPY_BIN names a missing
// file and PATH holds neither py-spy nor austin. It returns the missing
// path.
func noSampler(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	return filepath.Join(dir, "no-such-py-spy")
}

func actor(id string) *procagentv1.PySpyDumpRequest {
	return &procagentv1.PySpyDumpRequest{Target: &procagentv1.PySpyDumpRequest_ActorId{ActorId: id}}
}

func pid(p int64) *procagentv1.PySpyDumpRequest {
	return &procagentv1.PySpyDumpRequest{Target: &procagentv1.PySpyDumpRequest_Pid{Pid: p}}
}

func profileReq(d time.Duration, target *procagentv1.PySpyDumpRequest) *procagentv1.PySpyProfileRequest {
	r := &procagentv1.PySpyProfileRequest{Duration: durationpb.New(d), RateHz: 100}
	switch t := target.GetTarget().(type) {
	case *procagentv1.PySpyDumpRequest_ActorId:
		r.Target = &procagentv1.PySpyProfileRequest_ActorId{ActorId: t.ActorId}
	case *procagentv1.PySpyDumpRequest_Pid:
		r.Target = &procagentv1.PySpyProfileRequest_Pid{Pid: t.Pid}
	}
	return r
}

func TestProfilingTargetErrors(t *testing.T) {
	missing := noSampler(t)
	clients := serveProfiler(t, profiling.NewProfiler(fakeResolver(), profiling.WithPySpyBin(missing), profiling.WithAllowedPids([]int{allowedPid})))
	tests := []struct {
		name   string
		req    *procagentv1.PySpyDumpRequest
		code   connect.Code
		detail string
	}{
		{"pid not allowed", pid(int64(os.Getpid())), connect.CodePermissionDenied, "allowed pids"},
		{"pid 1", pid(1), connect.CodePermissionDenied, "pid 1"},
		{"negative pid", pid(-5), connect.CodeInvalidArgument, "pid -5"},
		{"unknown actor", actor("ghost"), connect.CodeNotFound, "ghost"},
		{"actor without process", actor("mailbox"), connect.CodeFailedPrecondition, "mailbox"},
		{"malformed actor id", actor("BAD ID"), connect.CodeInvalidArgument, "BAD ID"},
		{"empty actor id", actor(""), connect.CodeInvalidArgument, "actor_id"},
		{"no target", &procagentv1.PySpyDumpRequest{}, connect.CodeInvalidArgument, "no target"},
	}
	for _, p := range protocols {
		c := clients[p.name]
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				_, err := c.PySpyDump(t.Context(), connect.NewRequest(tt.req))
				checkCode(t, "dump", err, tt.code, tt.detail)
				_, err = c.PySpyProfile(t.Context(), connect.NewRequest(profileReq(time.Second, tt.req)))
				checkCode(t, "profile", err, tt.code, tt.detail)
			})
		}
	}
}

// checkCode checks that err has code and that its message holds detail.
func checkCode(t *testing.T, what string, err error, code connect.Code, detail string) {
	t.Helper()
	if got := connect.CodeOf(err); got != code {
		t.Fatalf("%s: error %v (code %v), want code %v", what, err, got, code)
	}
	if !strings.Contains(err.Error(), detail) {
		t.Errorf("%s: error %q does not mention %q", what, err, detail)
	}
}

func TestProfilingProfileOptionErrors(t *testing.T) {
	clients := serveProfiler(t, profiling.NewProfiler(fakeResolver()))
	base := func() *procagentv1.PySpyProfileRequest { return profileReq(10*time.Second, actor("worker")) }
	tests := []struct {
		name   string
		edit   func(*procagentv1.PySpyProfileRequest)
		detail string
	}{
		{"no duration", func(r *procagentv1.PySpyProfileRequest) { r.Duration = nil }, "duration"},
		{"too short", func(r *procagentv1.PySpyProfileRequest) { r.Duration = durationpb.New(500 * time.Millisecond) }, "duration"},
		{"too long", func(r *procagentv1.PySpyProfileRequest) { r.Duration = durationpb.New(301 * time.Second) }, "duration"},
		{"invalid duration", func(r *procagentv1.PySpyProfileRequest) { r.Duration = &durationpb.Duration{Seconds: 1, Nanos: -1} }, "duration"},
		{"rate too high", func(r *procagentv1.PySpyProfileRequest) { r.RateHz = 1001 }, "rate"},
		{"native and nonblocking", func(r *procagentv1.PySpyProfileRequest) { r.Native, r.Nonblocking = true, true }, "nonblocking"},
		{"unknown format", func(r *procagentv1.PySpyProfileRequest) { r.Format = 99 }, "format"},
	}
	for _, p := range protocols {
		for _, tt := range tests {
			t.Run(p.name+"/"+tt.name, func(t *testing.T) {
				req := base()
				tt.edit(req)
				_, err := clients[p.name].PySpyProfile(t.Context(), connect.NewRequest(req))
				checkCode(t, "profile", err, connect.CodeInvalidArgument, tt.detail)
			})
		}
	}
}

// TestProfilingBinaryNotFound: no sampler is an outcome of the response,
// not an RPC error, for an actor and for an allowed pid alike.
func TestProfilingBinaryNotFound(t *testing.T) {
	missing := noSampler(t)
	clients := serveProfiler(t, profiling.NewProfiler(fakeResolver(), profiling.WithPySpyBin(missing), profiling.WithAllowedPids([]int{allowedPid})))
	checkSearched := func(t *testing.T, bnf *procagentv1.BinaryNotFound) {
		t.Helper()
		if bnf == nil {
			t.Fatal("outcome is not binary_not_found")
		}
		if !slices.ContainsFunc(bnf.GetSearched(), func(s string) bool { return strings.Contains(s, missing) }) {
			t.Errorf("searched %q does not name PYSPY_BIN %q", bnf.GetSearched(), missing)
		}
	}
	for _, p := range protocols {
		c := clients[p.name]
		for name, target := range map[string]*procagentv1.PySpyDumpRequest{"actor": actor("worker"), "allowed pid": pid(allowedPid)} {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				dump, err := c.PySpyDump(t.Context(), connect.NewRequest(target))
				if err != nil {
					t.Fatalf("dump: %v", err)
				}
				checkSearched(t, dump.Msg.GetBinaryNotFound())
				prof, err := c.PySpyProfile(t.Context(), connect.NewRequest(profileReq(time.Second, target)))
				if err != nil {
					t.Fatalf("profile: %v", err)
				}
				checkSearched(t, prof.Msg.GetBinaryNotFound())
			})
		}
	}
}

// TestOutcomeToProto: every kind of Result reaches the wire as its own
// oneof field of both responses.
func TestOutcomeToProto(t *testing.T) {
	results := map[string]profiling.Result{
		"ok":                {Ok: &profiling.Ok{Pid: 7, Binary: "austin", Format: profiling.FormatRaw, Profile: []byte("a;b 1\n"), Samples: 1}},
		"binary_not_found":  {BinaryNotFound: &profiling.BinaryNotFound{Searched: []string{"PATH"}}},
		"permission_denied": {PermissionDenied: &profiling.PermissionDenied{Hint: "CAP_SYS_PTRACE"}},
		"timed_out":         {TimedOut: &profiling.TimedOut{After: time.Second}},
		"exit_failure":      {ExitFailure: &profiling.ExitFailure{Code: 3, Stderr: "boom", Sampler: "austin", Version: "3.7.0", PythonVersion: "3.11", Executable: "/usr/bin/python3.11"}},
		"output_missing":    {OutputMissing: &profiling.OutputMissing{}},
		"output_empty":      {OutputEmpty: &profiling.OutputEmpty{Sampler: "austin", Version: "1.0.1", PythonVersion: "3.11", StderrTail: "tail", Executable: "/usr/bin/python3"}},
		"unsupported":       {Unsupported: &profiling.Unsupported{PythonVersion: "3.11", Samplers: []string{"austin 1.0.1 (/a)"}, Hint: "h"}},
	}
	for kind, r := range results {
		if r.Kind() != kind {
			t.Fatalf("case %s holds a %s result", kind, r.Kind())
		}
		dump, prof := &procagentv1.PySpyDumpResponse{}, &procagentv1.PySpyProfileResponse{}
		if err := setOutcome(dump, r); err != nil {
			t.Fatalf("%s: dump: %v", kind, err)
		}
		if err := setOutcome(prof, r); err != nil {
			t.Fatalf("%s: profile: %v", kind, err)
		}
		if got := dump.ProtoReflect().WhichOneof(dump.ProtoReflect().Descriptor().Oneofs().ByName("outcome")); got == nil || string(got.Name()) != kind {
			t.Errorf("dump outcome = %v, want %s", got, kind)
		}
		if got := prof.ProtoReflect().WhichOneof(prof.ProtoReflect().Descriptor().Oneofs().ByName("outcome")); got == nil || string(got.Name()) != kind {
			t.Errorf("profile outcome = %v, want %s", got, kind)
		}
	}
	// The fields that explain a failure reach the wire.
	dump := &procagentv1.PySpyDumpResponse{}
	if err := setOutcome(dump, results["output_empty"]); err != nil {
		t.Fatal(err)
	}
	if e := dump.GetOutputEmpty(); e.GetSampler() != "austin" || e.GetVersion() != "1.0.1" || e.GetPythonVersion() != "3.11" || e.GetStderrTail() != "tail" ||
		e.GetExecutable() != "/usr/bin/python3" {
		t.Errorf("output_empty = %v", e)
	}
	if err := setOutcome(dump, results["unsupported"]); err != nil {
		t.Fatal(err)
	}
	if u := dump.GetUnsupported(); u.GetPythonVersion() != "3.11" || len(u.GetSamplers()) != 1 || u.GetHint() != "h" {
		t.Errorf("unsupported = %v", u)
	}
	if err := setOutcome(dump, results["exit_failure"]); err != nil {
		t.Fatal(err)
	}
	if f := dump.GetExitFailure(); f.GetSampler() != "austin" || f.GetVersion() != "3.7.0" || f.GetPythonVersion() != "3.11" || f.GetExecutable() != "/usr/bin/python3.11" {
		t.Errorf("exit_failure = %v", f)
	}
	if err := setOutcome(&procagentv1.PySpyDumpResponse{}, profiling.Result{}); err == nil {
		t.Error("an empty Result set an outcome")
	}
	if got := okToProto(results["ok"].Ok).GetFormat(); got != procagentv1.ProfileFormat_PROFILE_FORMAT_RAW {
		t.Errorf("ok format = %v, want RAW", got)
	}
}

// testLabels are the labels every Go profile of these tests carries.
var testLabels = map[string]string{"proc_id": "test-proc", "agent_version": "v0.0.0-test"}

// checkLabelled parses a GoProfile result and checks every sample carries
// testLabels.
func checkLabelled(t *testing.T, b []byte) *profile.Profile {
	t.Helper()
	p, err := profile.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	for i, s := range p.Sample {
		for k, v := range testLabels {
			if got := s.Label[k]; !slices.Equal(got, []string{v}) {
				t.Fatalf("sample %d: label %s = %q, want [%q]", i, k, got, v)
			}
		}
	}
	return p
}

func TestProfilingGoProfile(t *testing.T) {
	clients := serveProfiler(t, profiling.NewProfiler(nil, profiling.WithLabels(testLabels)))
	for _, p := range protocols {
		c := clients[p.name]
		t.Run(p.name+"/heap", func(t *testing.T) {
			res, err := c.GoProfile(t.Context(), connect.NewRequest(&procagentv1.GoProfileRequest{Name: "heap"}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg.GetContentType() != profiling.ContentTypePprof || res.Msg.GetName() != "heap" {
				t.Errorf("name %q, content type %q; want heap, %q", res.Msg.GetName(), res.Msg.GetContentType(), profiling.ContentTypePprof)
			}
			p := checkLabelled(t, res.Msg.GetProfile())
			if got := p.SampleType[len(p.SampleType)-1].Type; got != "inuse_space" {
				t.Errorf("heap profile's default sample type is %q, want inuse_space", got)
			}
		})
		t.Run(p.name+"/goroutine text", func(t *testing.T) {
			res, err := c.GoProfile(t.Context(), connect.NewRequest(&procagentv1.GoProfileRequest{Name: "goroutine", Debug: 1}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg.GetContentType() != profiling.ContentTypeText || !bytes.HasPrefix(res.Msg.GetProfile(), []byte("goroutine profile:")) {
				t.Errorf("content type %q, profile starts %q; want text", res.Msg.GetContentType(), res.Msg.GetProfile()[:20])
			}
		})
		t.Run(p.name+"/bad name", func(t *testing.T) {
			_, err := c.GoProfile(t.Context(), connect.NewRequest(&procagentv1.GoProfileRequest{Name: "stack"}))
			checkCode(t, "goprofile", err, connect.CodeInvalidArgument, "stack")
		})
		t.Run(p.name+"/cpu too long", func(t *testing.T) {
			_, err := c.GoProfile(t.Context(), connect.NewRequest(&procagentv1.GoProfileRequest{Name: "cpu", Duration: durationpb.New(6 * time.Minute)}))
			checkCode(t, "goprofile", err, connect.CodeInvalidArgument, "duration")
		})
	}
}

// TestProfilingGoProfileCPUBusy: of two CPU profiles asked for at once, one
// records and the other is refused with ResourceExhausted.
func TestProfilingGoProfileCPUBusy(t *testing.T) {
	clients := serveProfiler(t, profiling.NewProfiler(nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make(chan error, 2)
	for _, name := range []string{"connect", "grpc"} {
		go func() {
			_, err := clients[name].GoProfile(ctx, connect.NewRequest(&procagentv1.GoProfileRequest{Name: "cpu", Duration: durationpb.New(profiling.MaxCPUDuration)}))
			errs <- err
		}()
	}
	err := <-errs
	checkCode(t, "one of two cpu profiles", err, connect.CodeResourceExhausted, "already recording")
	cancel()
	if err := <-errs; connect.CodeOf(err) != connect.CodeCanceled {
		t.Errorf("cancelled cpu profile: %v, want canceled", err)
	}
	// The client gives up before the server's handler stops recording:
	// wait until the profiler is free, so that the next test finds it so.
	testenv.Eventually(t, "the cpu profiler to be free", func() bool {
		_, err := profiling.GoProfile(context.Background(), "cpu", 10*time.Millisecond, 0, nil)
		return err == nil
	})
}

// TestProfilingPermissionWins: a pid off the allow-list is PermissionDenied
// whichever RPC asks and whatever else is wrong with the request, with the
// same message.
func TestProfilingPermissionWins(t *testing.T) {
	clients := serveProfiler(t, profiling.NewProfiler(fakeResolver(), profiling.WithAllowedPids([]int{allowedPid})))
	notAllowed := pid(int64(os.Getpid()))
	edits := []struct {
		name string
		edit func(*procagentv1.PySpyProfileRequest)
	}{
		{"nothing else", func(*procagentv1.PySpyProfileRequest) {}},
		{"no duration", func(r *procagentv1.PySpyProfileRequest) { r.Duration = nil }},
		{"too short", func(r *procagentv1.PySpyProfileRequest) { r.Duration = durationpb.New(500 * time.Millisecond) }},
		{"too long", func(r *procagentv1.PySpyProfileRequest) { r.Duration = durationpb.New(301 * time.Second) }},
		{"rate too high", func(r *procagentv1.PySpyProfileRequest) { r.RateHz = 1001 }},
		{"native and nonblocking", func(r *procagentv1.PySpyProfileRequest) { r.Native, r.Nonblocking = true, true }},
		{"unknown format", func(r *procagentv1.PySpyProfileRequest) { r.Format = 99 }},
		{"everything", func(r *procagentv1.PySpyProfileRequest) {
			r.Duration, r.RateHz, r.Format, r.Native, r.Nonblocking = durationpb.New(time.Hour), 5000, 42, true, true
		}},
	}
	for _, p := range protocols {
		c := clients[p.name]
		t.Run(p.name, func(t *testing.T) {
			_, dumpErr := c.PySpyDump(t.Context(), connect.NewRequest(notAllowed))
			checkCode(t, "dump", dumpErr, connect.CodePermissionDenied, "allowed pids")
			dumpOpts := &procagentv1.PySpyDumpRequest{Target: notAllowed.Target, Native: true, NativeAll: true, Nonblocking: true, Locals: true, Subprocesses: true}
			_, err := c.PySpyDump(t.Context(), connect.NewRequest(dumpOpts))
			checkCode(t, "dump with options", err, connect.CodePermissionDenied, "allowed pids")
			for _, e := range edits {
				req := profileReq(10*time.Second, notAllowed)
				e.edit(req)
				_, err := c.PySpyProfile(t.Context(), connect.NewRequest(req))
				checkCode(t, "profile, "+e.name, err, connect.CodePermissionDenied, "allowed pids")
				if err.Error() != dumpErr.Error() {
					t.Errorf("profile, %s: %q; dump said %q", e.name, err, dumpErr)
				}
			}
		})
	}
}

// withGoSampling sets the Go block and mutex sampling for one test and
// turns it off again when the test ends.
func withGoSampling(t *testing.T, blockRate, mutexFraction int) {
	t.Helper()
	profiling.SetGoSampling(blockRate, mutexFraction)
	t.Cleanup(func() { profiling.SetGoSampling(0, 0) })
}

// TestProfilingGoProfileSampling: a block or mutex snapshot taken while its
// sampling is off says which setting turns it on; one over a duration
// samples and needs no warning.
func TestProfilingGoProfileSampling(t *testing.T) {
	clients := serveProfiler(t, profiling.NewProfiler(nil, profiling.WithLabels(testLabels)))
	goProfile := func(t *testing.T, c procagentv1connect.ProcAgentServiceClient, req *procagentv1.GoProfileRequest) *procagentv1.GoProfileResponse {
		t.Helper()
		res, err := c.GoProfile(t.Context(), connect.NewRequest(req))
		if err != nil {
			t.Fatalf("GoProfile(%v): %v", req, err)
		}
		return res.Msg
	}
	for _, p := range protocols {
		c := clients[p.name]
		t.Run(p.name+"/off", func(t *testing.T) {
			withGoSampling(t, 0, 0)
			for name, setting := range map[string][]string{
				"block": {"block_profile_rate", "PROCAGENT_BLOCK_PROFILE_RATE"},
				"mutex": {"mutex_profile_fraction", "PROCAGENT_MUTEX_PROFILE_FRACTION"},
			} {
				for _, debug := range []int32{0, 1} {
					res := goProfile(t, c, &procagentv1.GoProfileRequest{Name: name, Debug: debug})
					if len(res.GetWarnings()) != 1 {
						t.Fatalf("%s snapshot (debug %d) warnings = %q, want one", name, debug, res.GetWarnings())
					}
					for _, w := range setting {
						if !strings.Contains(res.GetWarnings()[0], w) {
							t.Errorf("%s snapshot warning %q does not name %s", name, res.GetWarnings()[0], w)
						}
					}
				}
				res := goProfile(t, c, &procagentv1.GoProfileRequest{Name: name, Duration: durationpb.New(50 * time.Millisecond)})
				if len(res.GetWarnings()) != 0 {
					t.Errorf("%s over a duration: warnings %q, want none", name, res.GetWarnings())
				}
				if p := checkLabelled(t, res.GetProfile()); p.DurationNanos < (50 * time.Millisecond).Nanoseconds() {
					t.Errorf("%s over 50ms: the profile lasts %v", name, time.Duration(p.DurationNanos))
				}
			}
			if res := goProfile(t, c, &procagentv1.GoProfileRequest{Name: "heap"}); len(res.GetWarnings()) != 0 {
				t.Errorf("heap warnings %q, want none", res.GetWarnings())
			}
			_, err := c.GoProfile(t.Context(), connect.NewRequest(&procagentv1.GoProfileRequest{Name: "block", Duration: durationpb.New(time.Second), Debug: 1}))
			checkCode(t, "block over a duration as text", err, connect.CodeInvalidArgument, "text form")
		})
		t.Run(p.name+"/on", func(t *testing.T) {
			withGoSampling(t, 1, 1)
			for _, name := range []string{"block", "mutex"} {
				if res := goProfile(t, c, &procagentv1.GoProfileRequest{Name: name}); len(res.GetWarnings()) != 0 {
					t.Errorf("%s snapshot with sampling on: warnings %q, want none", name, res.GetWarnings())
				}
			}
		})
	}
}

func TestProfilingOptionsThreads(t *testing.T) {
	d := dumpOptions(&procagentv1.PySpyDumpRequest{Gil: true, Threads: []uint64{3, 4}})
	if !d.GIL || len(d.Threads) != 2 || d.Threads[1] != 4 {
		t.Errorf("dumpOptions = %+v", d)
	}
	p, err := profileOptions(&procagentv1.PySpyProfileRequest{Threads: []uint64{9}})
	if err != nil || len(p.Threads) != 1 || p.Threads[0] != 9 {
		t.Errorf("profileOptions = %+v, %v", p, err)
	}
}
