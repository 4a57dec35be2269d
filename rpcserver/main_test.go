package rpcserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"go.uber.org/goleak"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
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
	agent  *procagent.Agent
	srv    *testenv.H2CServer
	client procagentv1connect.ProcAgentServiceClient
}

// newHarness starts an agent and its server and returns a client speaking
// the given protocol. Everything is stopped when the test ends.
func newHarness(t testing.TB, clientOpts []connect.ClientOption, procOpts []runtime.Option, opts ...procagent.Option) *harness {
	t.Helper()
	proc := runtime.NewProc("testproc", procOpts...)
	agent := procagent.New(proc, opts...)
	if err := agent.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, New(agent))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := proc.Close(ctx); err != nil {
			t.Errorf("close proc: %v", err)
		}
		if err := agent.Shutdown(ctx); err != nil {
			t.Errorf("shutdown agent: %v", err)
		}
	})
	return &harness{
		proc:   proc,
		agent:  agent,
		srv:    srv,
		client: procagentv1connect.NewProcAgentServiceClient(srv.Client, srv.URL, clientOpts...),
	}
}

// serve mounts s on a real in-process h2c server.
func serve(t testing.TB, s *Server) *testenv.H2CServer {
	t.Helper()
	mux := http.NewServeMux()
	s.Mount(mux)
	return testenv.NewH2CServer(t, mux)
}
