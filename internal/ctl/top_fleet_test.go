package ctl

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// fleetSource reads the agents at addrs, concurrency at a time, each within
// timeout.
func fleetSource(t *testing.T, addrs []string, concurrency int, timeout time.Duration) *topSource {
	t.Helper()
	transport := newTopTransport()
	t.Cleanup(transport.CloseIdleConnections)
	src := &topSource{fleet: true, timeout: timeout, concurrency: concurrency, close: transport.CloseIdleConnections}
	for i, addr := range addrs {
		rank := uint64(i)
		hc := tokenClient(transport, "")
		src.agents = append(src.agents, &agentSource{addr: addr, rank: &rank,
			client:  procagentv1connect.NewProcAgentServiceClient(hc, "http://"+addr),
			metrics: &metricsReader{client: hc, url: "http://" + addr + "/metrics"}})
	}
	return src
}

// A fleet frame: each agent up or down, its actors by status, poisoned,
// its memory; a fleet row asks /metrics (for the version) once per agent
// process, not at every refresh; and the frame renders.
func TestTopFleetFrame(t *testing.T) {
	var scrapes atomic.Int64
	countScrapes := withMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				scrapes.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	healthy, poisoned := newServer(t, countScrapes), newServer(t, countScrapes)
	healthy.mustRun(t, protocolConnect, "create", "a", "echo")
	healthy.mustRun(t, protocolConnect, "create", "b", "echo")
	poisoned.failActor(t, "bad", "boom")
	down := testenv.FreeAddr(t)
	src := fleetSource(t, []string{healthy.addr, poisoned.addr, down}, 2, 2*time.Second)

	var f topFrame
	for range 3 {
		f = src.frame(t.Context())
	}
	if got := scrapes.Load(); got != 2 {
		t.Errorf("3 refreshes of 2 agents scraped /metrics %d times, want 2 (once per agent process)", got)
	}
	if len(f.Agents) != 3 || !f.Fleet {
		t.Fatalf("frame = %+v, want a fleet of 3", f)
	}
	h, p, d := f.Agents[0], f.Agents[1], f.Agents[2]
	if !h.Up || h.Poisoned || h.ByStatus["RUNNING"] != 2 || h.RSS == nil || h.Err != "" || h.Actors != nil {
		t.Errorf("healthy agent = %+v", h)
	}
	if !p.Up || !p.Poisoned || p.FailedActors != 1 || p.ByStatus["FAILED"] != 1 || p.Err != "" {
		t.Errorf("poisoned agent = %+v", p)
	}
	if d.Up || !strings.HasPrefix(d.Err, "unavailable") || *d.Rank != 2 {
		t.Errorf("agent at a closed port = %+v, want down, unavailable", d)
	}
	m := withFrame(t, newTopModel(true, 0, false, time.Second, "fleet", plainTopStyles()), f)
	out := m.render(false)
	for _, want := range []string{"3 agents: 2 up, 1 down", "actors 3: 2 RUNNING, 1 FAILED", "1 poisoned", down + "  down"} {
		if !strings.Contains(out, want) {
			t.Errorf("fleet frame lacks %q:\n%s", want, out)
		}
	}
}

// raisePeak raises peak to n if n is higher.
func raisePeak(peak *atomic.Int64, n int64) {
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// At most concurrency agents are read at once (each with its two RPCs in
// flight together), and an agent that does not answer is down at its
// deadline without holding up the others past it.
func TestTopFleetBounds(t *testing.T) {
	var inFlight, peak atomic.Int64
	slow := withMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			raisePeak(&peak, n)
			select { // every call takes 20ms: the reads overlap if they can
			case <-time.After(20 * time.Millisecond):
			case <-r.Context().Done():
			}
			next.ServeHTTP(w, r)
		})
	})
	var addrs []string
	for range 6 {
		addrs = append(addrs, newServer(t, slow).addr)
	}
	src := fleetSource(t, addrs, 2, 2*time.Second)
	f := src.frame(t.Context())
	for _, a := range f.Agents {
		if !a.Up {
			t.Fatalf("agent %s down: %s", a.Addr, a.Err)
		}
	}
	if got := peak.Load(); got > 2*2 || got < 2 {
		t.Errorf("peak of %d calls in flight reading 6 agents 2 at a time, want 2 to 4", got)
	}

	hang := newServer(t, withMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	}))
	src = fleetSource(t, []string{hang.addr, addrs[0]}, 2, 300*time.Millisecond)
	start := time.Now()
	f = src.frame(t.Context())
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a refresh with a hanging agent took %v, want about its 300ms deadline", took)
	}
	if f.Agents[0].Up || !strings.HasPrefix(f.Agents[0].Err, "deadline_exceeded") {
		t.Errorf("hanging agent = %+v, want down at its deadline", f.Agents[0])
	}
	if !f.Agents[1].Up {
		t.Errorf("the other agent = %+v, want up", f.Agents[1])
	}
}

// Which token each target gets: the user's to all, the local agent's token
// file only to loopback targets.
func TestTopFleetTokens(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "procagent"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "procagent", "token"), []byte("local-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(token string) func(string) string {
		return func(k string) string {
			switch k {
			case "XDG_RUNTIME_DIR":
				return dir
			case envToken:
				return token
			}
			return ""
		}
	}
	tests := []struct {
		name, gToken, envTok     string
		wantLoopback, wantRemote string
	}{
		{name: "found by itself", gToken: "local-secret", wantLoopback: "local-secret", wantRemote: ""},
		{name: "from the environment", gToken: "mine", envTok: "mine", wantLoopback: "mine", wantRemote: "mine"},
		{name: "the local one in the environment", gToken: "local-secret", envTok: "local-secret", wantLoopback: "local-secret", wantRemote: "local-secret"},
		{name: "another given as a flag", gToken: "other", wantLoopback: "other", wantRemote: "other"},
		{name: "none", wantLoopback: "local-secret", wantRemote: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &globalFlags{token: tt.gToken}
			tok := fleetTokens(g, flag.NewFlagSet("top", flag.ContinueOnError), env(tt.envTok))
			if got := tok.forAddr("127.0.0.1:9464"); got != tt.wantLoopback {
				t.Errorf("loopback target gets %q, want %q", got, tt.wantLoopback)
			}
			if got := tok.forAddr("10.1.2.3:9464"); got != tt.wantRemote {
				t.Errorf("remote target gets %q, want %q", got, tt.wantRemote)
			}
		})
	}
}
