package procagent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.uber.org/goleak"

	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
	"github.com/procagent/procagent/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// protocols are the wire protocols every RPC test runs with.
var protocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpcweb", []connect.ClientOption{connect.WithGRPCWeb()}},
}

// harness is an agent behind a real in-process h2c server.
type harness struct {
	proc   *runtime.Proc
	agent  *Agent
	srv    *httptest.Server
	client procagentv1connect.ProcAgentServiceClient
	http   *http.Client
}

// newHarness starts an agent and its server and returns a client speaking
// the given protocol. Everything is stopped when the test ends.
func newHarness(t testing.TB, clientOpts []connect.ClientOption, procOpts []runtime.Option, opts ...Option) *harness {
	t.Helper()
	proc := runtime.NewProc("testproc", procOpts...)
	agent := New(proc, opts...)
	if err := agent.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	NewService(agent).Mount(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = h2c()
	srv.Start()
	hc := &http.Client{Transport: &http.Transport{Protocols: h2cOnly()}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := proc.Close(ctx); err != nil {
			t.Errorf("close proc: %v", err)
		}
		if err := agent.Shutdown(ctx); err != nil {
			t.Errorf("shutdown agent: %v", err)
		}
		srv.Close()
		hc.CloseIdleConnections()
	})
	return &harness{
		proc:   proc,
		agent:  agent,
		srv:    srv,
		client: procagentv1connect.NewProcAgentServiceClient(hc, srv.URL, clientOpts...),
		http:   hc,
	}
}

// h2cOnly makes a client speak HTTP/2 with prior knowledge, as gRPC does.
func h2cOnly() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// h2c serves HTTP/1.1 and unencrypted HTTP/2 on one listener.
func h2c() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
