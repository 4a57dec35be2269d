package mesh

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
	"github.com/procagent/procagent/rpcserver"
	"github.com/procagent/procagent/runtime"
)

// testAgent is one real agent of a test fleet: a procagent.Agent over its
// own proc, served by rpcserver on its own loopback h2c listener, as
// `agent serve` serves it (without the token guard, which lives in
// cmd/agent; the end-to-end tests run that).
type testAgent struct {
	Addr   string
	Agent  *procagent.Agent
	Client procagentv1connect.ProcAgentServiceClient
	// Conns counts the connections the agent's listener accepted.
	Conns *atomic.Int64
	stop  func(ctx context.Context) error
}

// startAgents starts n agents and stops them when the test ends. wrap,
// when not nil, wraps agent i's handler (a delay, a recorder).
func startAgents(tb testing.TB, n int, wrap func(i int, h http.Handler) http.Handler) []*testAgent {
	tb.Helper()
	agents := make([]*testAgent, n)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		err error
	)
	// Start them a few at a time: a thousand cost a few hundred
	// milliseconds this way.
	sem := make(chan struct{}, 16)
	for i := range agents {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			a, e := startAgent(i, wrap)
			mu.Lock()
			defer mu.Unlock()
			if e != nil && err == nil {
				err = e
			}
			agents[i] = a
		})
	}
	wg.Wait()
	tb.Cleanup(func() { stopAgents(tb, agents) })
	if err != nil {
		tb.Fatal(err)
	}
	return agents
}

// startAgent starts agent i; stopAgents stops it.
func startAgent(i int, wrap func(i int, h http.Handler) http.Handler) (*testAgent, error) {
	proc := runtime.NewProc("test")
	agent := procagent.New(proc)
	if err := agent.Start(context.Background()); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	rpcserver.New(agent).Mount(mux)
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(i, h)
	}
	conns := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	client := &http.Client{Transport: &http.Transport{Protocols: testenv.H2COnly()}}
	a := &testAgent{
		Addr:   srv.Listener.Addr().String(),
		Agent:  agent,
		Client: procagentv1connect.NewProcAgentServiceClient(client, srv.URL),
		Conns:  conns,
	}
	a.stop = func(ctx context.Context) error {
		client.CloseIdleConnections()
		err := errors.Join(proc.Close(ctx), agent.Shutdown(ctx))
		srv.Close()
		return err
	}
	return a, nil
}

// stopAgents stops the agents' procs, then their listeners.
func stopAgents(tb testing.TB, agents []*testAgent) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range agents {
		if a == nil {
			continue
		}
		if err := a.stop(ctx); err != nil {
			tb.Errorf("stop agent %s: %v", a.Addr, err)
		}
	}
}

// fleetTargets is the agents as targets, rank i for agent i.
func fleetTargets(agents []*testAgent) []Target {
	ts := make([]Target, len(agents))
	for i, a := range agents {
		ts[i] = Target{Rank: uint64(i), Addr: a.Addr}
	}
	return ts
}

// poison makes agent a's proc refuse spawns: a fail actor fails on a
// message, a supervision event.
func (a *testAgent) poison(t *testing.T, reason string) {
	t.Helper()
	ctx := t.Context()
	if _, err := a.Client.CreateOrUpdate(ctx, connect.NewRequest(&procagentv1.CreateOrUpdateRequest{
		Id: "poison", Spec: &procagentv1.ActorSpec{ActorType: "fail"},
	})); err != nil {
		t.Fatal(err)
	}
	payload, err := structpb.NewValue(map[string]any{"fail": reason})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Client.Send(ctx, connect.NewRequest(&procagentv1.SendRequest{Id: "poison", Payload: payload, Wait: true})); err == nil {
		t.Fatal("a fail actor's failing handler answered no error")
	}
	testenv.Eventually(t, "the proc poisoned", func() bool { p, _ := a.Agent.Poisoned(); return p })
}

// stall holds every request of the wrapped handler until release is
// closed or the request's context ends: an agent that answers too late.
func stall(release <-chan struct{}, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}
