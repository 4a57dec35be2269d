package profiling

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// testService is the ProcAgentService with the profiling RPCs delegated to
// a Handler, as procagent.Service does.
type testService struct {
	procagentv1connect.UnimplementedProcAgentServiceHandler
	h *Handler
}

func (s testService) PySpyDump(ctx context.Context, req *connect.Request[procagentv1.PySpyDumpRequest]) (*connect.Response[procagentv1.PySpyDumpResponse], error) {
	return s.h.PySpyDump(ctx, req)
}

func (s testService) PySpyProfile(ctx context.Context, req *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error) {
	return s.h.PySpyProfile(ctx, req)
}

func (s testService) GoProfile(ctx context.Context, req *connect.Request[procagentv1.GoProfileRequest]) (*connect.Response[procagentv1.GoProfileResponse], error) {
	return s.h.GoProfile(ctx, req)
}

// testProtocols are the wire protocols every handler test speaks.
var testProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
}

// serveHandler serves h behind a real in-process h2c server and returns a
// client per protocol. Everything is closed when the test ends.
func serveHandler(t *testing.T, h *Handler) map[string]procagentv1connect.ProcAgentServiceClient {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(procagentv1connect.NewProcAgentServiceHandler(testService{h: h}))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	clientProtocols := new(http.Protocols)
	clientProtocols.SetUnencryptedHTTP2(true)
	hc := &http.Client{Transport: &http.Transport{Protocols: clientProtocols}}
	t.Cleanup(func() {
		srv.Close()
		hc.CloseIdleConnections()
	})
	clients := make(map[string]procagentv1connect.ProcAgentServiceClient)
	for _, p := range testProtocols {
		clients[p.name] = procagentv1connect.NewProcAgentServiceClient(hc, srv.URL, p.opts...)
	}
	return clients
}

// Actors of the fake resolver: "worker" runs in this test process,
// "mailbox" is an actor without a process; every other id is unknown.
const allowedPid = 424242

func fakeResolver() Resolver {
	return ResolverFunc(func(id string) (int, error) {
		switch id {
		case "worker":
			return os.Getpid(), nil
		case "mailbox":
			return 0, fmt.Errorf("actor %q: %w", id, ErrNotAProcess)
		case "BAD ID":
			return 0, fmt.Errorf("%w: actor id %q", ErrInvalid, id)
		}
		return 0, fmt.Errorf("actor %q: %w", id, ErrUnknownActor)
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

func TestHandlerTargetErrors(t *testing.T) {
	missing := noSampler(t)
	clients := serveHandler(t, NewHandler(fakeResolver(), WithPySpyBin(missing), WithAllowedPids([]int{allowedPid})))
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
	for _, p := range testProtocols {
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

func TestHandlerProfileOptionErrors(t *testing.T) {
	clients := serveHandler(t, NewHandler(fakeResolver()))
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
	for _, p := range testProtocols {
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

// TestHandlerBinaryNotFound: no sampler is an outcome of the response, not
// an RPC error, for an actor and for an allowed pid alike.
func TestHandlerBinaryNotFound(t *testing.T) {
	missing := noSampler(t)
	clients := serveHandler(t, NewHandler(fakeResolver(), WithPySpyBin(missing), WithAllowedPids([]int{allowedPid})))
	checkSearched := func(t *testing.T, bnf *procagentv1.BinaryNotFound) {
		t.Helper()
		if bnf == nil {
			t.Fatal("outcome is not binary_not_found")
		}
		if !slices.ContainsFunc(bnf.GetSearched(), func(s string) bool { return strings.Contains(s, missing) }) {
			t.Errorf("searched %q does not name PYSPY_BIN %q", bnf.GetSearched(), missing)
		}
	}
	for _, p := range testProtocols {
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

func TestHandlerGoProfile(t *testing.T) {
	clients := serveHandler(t, NewHandler(nil, WithLabels(testLabels)))
	for _, p := range testProtocols {
		c := clients[p.name]
		t.Run(p.name+"/heap", func(t *testing.T) {
			res, err := c.GoProfile(t.Context(), connect.NewRequest(&procagentv1.GoProfileRequest{Name: "heap"}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Msg.GetContentType() != ContentTypePprof || res.Msg.GetName() != "heap" {
				t.Errorf("name %q, content type %q; want heap, %q", res.Msg.GetName(), res.Msg.GetContentType(), ContentTypePprof)
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
			if res.Msg.GetContentType() != ContentTypeText || !bytes.HasPrefix(res.Msg.GetProfile(), []byte("goroutine profile:")) {
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

// TestHandlerGoProfileCPUBusy: of two CPU profiles asked for at once, one
// records and the other is refused with ResourceExhausted.
func TestHandlerGoProfileCPUBusy(t *testing.T) {
	clients := serveHandler(t, NewHandler(nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errs := make(chan error, 2)
	for _, p := range testProtocols {
		go func() {
			_, err := clients[p.name].GoProfile(ctx, connect.NewRequest(&procagentv1.GoProfileRequest{Name: "cpu", Duration: durationpb.New(MaxCPUDuration)}))
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
	// wait for it, so that the next test finds the profiler free.
	cpuProfile.Lock()
	defer cpuProfile.Unlock()
}
