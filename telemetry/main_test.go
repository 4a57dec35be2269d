package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is a Pipeline wired to a real proc and agent the way cmd/agent
// wires them. Everything is shut down when the test ends.
type fixture struct {
	tel   *Pipeline
	reg   *prometheus.Registry
	proc  *runtime.Proc
	agent *procagent.Agent
}

// newFixture builds the fixture; opts.Registry is always a new registry.
func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	ctx := context.Background()
	opts.Registry = prometheus.NewRegistry()
	if opts.ProcID == "" {
		opts.ProcID = "testproc"
	}
	tel, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	proc := runtime.NewProc(opts.ProcID, runtime.WithHandlerObserver(tel.HandlerObserver()))
	agent := procagent.New(proc,
		procagent.WithObserver(tel),
		procagent.WithFlusher(tel),
		procagent.WithMemoryReader(tel),
		procagent.WithOrphanTimeout(0))
	if err := agent.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := agent.Shutdown(ctx); err != nil {
			t.Errorf("agent shutdown: %v", err)
		}
		if err := proc.Close(ctx); err != nil {
			t.Errorf("proc close: %v", err)
		}
		if err := tel.Shutdown(ctx); err != nil {
			t.Errorf("telemetry shutdown: %v", err)
		}
	})
	return &fixture{tel: tel, reg: opts.Registry, proc: proc, agent: agent}
}

// create creates an actor and fails the test unless it runs.
func (f *fixture) create(t testing.TB, id, typ string, params any) {
	t.Helper()
	var raw []byte
	if params != nil {
		var err error
		if raw, err = json.Marshal(params); err != nil {
			t.Fatal(err)
		}
	}
	st, err := f.agent.CreateOrUpdate(id, 0, procagent.Spec{ActorType: typ, Params: raw})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	if st.Status != runtime.StatusRunning {
		t.Fatalf("create %s: status %v (%s)", id, st.Status, st.FailureReason)
	}
}

// waitStatus waits until id reaches at least minStatus.
func (f *fixture) waitStatus(t testing.TB, id string, minStatus runtime.Status) procagent.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := f.agent.WaitRankStatus(ctx, id, 0, minStatus); err != nil {
		t.Fatalf("wait %s for %v: %v", id, minStatus, err)
	}
	st, err := f.agent.GetState(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// scrape serves /metrics once through the handler, as Prometheus would.
func scrape(t testing.TB, h http.Handler) string {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/metrics", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s: %s", res.Status, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape content type %q, want the text format", ct)
	}
	return string(body)
}

// countSeries counts the exposition lines that start with prefix.
func countSeries(body, prefix string) int {
	n := 0
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n
}
