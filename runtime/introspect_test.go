package runtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// Introspection never stalls the proc (ARCHITECTURE.md, invariants). 200 rapid spawn/stop
// cycles complete while another goroutine enumerates and introspects the
// proc every 10 ms.
func TestRapidSpawnStopWhileIntrospecting(t *testing.T) {
	p := newTestProc(t)
	stop := make(chan struct{})
	var queries atomic.Int64
	query := func() {
		st := p.Stats()
		if st.QueueDepthMax > st.QueueDepthTotal {
			t.Errorf("max %d > total %d", st.QueueDepthMax, st.QueueDepthTotal)
		}
		for _, n := range p.Children() {
			p.Actor(n)
		}
		p.Terminated()
		queries.Add(1)
	}
	var wg sync.WaitGroup
	wg.Go(func() { // a client polling every 10 ms
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			query()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	wg.Go(func() { // and a client that never pauses
		for {
			select {
			case <-stop:
				return
			default:
				query()
			}
		}
	})
	testenv.Eventually(t, "the clients to start", func() bool { return queries.Load() > 1 })
	before := queries.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const cycles = 200
	for i := range cycles {
		name := fmt.Sprintf("churn-%d", i)
		r, err := p.SpawnType(name, "echo", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Ask(ctx, i); err != nil {
			t.Fatalf("cycle %d ask: %v", i, err)
		}
		r.Stop("cycle")
		if _, err := r.Wait(ctx, StatusStopped); err != nil {
			t.Fatalf("cycle %d stalled: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if queries.Load() == before {
		t.Fatal("no query ran during the cycles")
	}
	st := p.Stats()
	if st.Live != 0 || st.Stopped != DefaultRetention {
		t.Fatalf("after churn: live %d stopped %d, want 0 and %d", st.Live, st.Stopped, DefaultRetention)
	}
	if info, ok := p.Actor("churn-199"); !ok || info.Status != StatusStopped {
		t.Fatalf("newest snapshot = %+v, %v", info, ok)
	}
	if _, ok := p.Actor("churn-0"); ok {
		t.Fatal("oldest clean stop should have been evicted")
	}
}

func TestRetentionPolicy(t *testing.T) {
	at := time.Unix(1000, 0)
	snap := func(name string, failed bool) ActorInfo {
		at = at.Add(time.Second)
		st := StatusStopped
		if failed {
			st = StatusFailed
		}
		return ActorInfo{Name: name, Status: st, Terminated: true, Event: &SupervisionEvent{Actor: name, Status: st, Time: at}}
	}
	tests := []struct {
		name string
		cap  int
		add  []ActorInfo
		want []string // retained, by end time
	}{
		{"under cap", 3, []ActorInfo{snap("a", false), snap("b", true)}, []string{"a", "b"}},
		{"clean evicted oldest first", 2, []ActorInfo{snap("a", false), snap("b", false), snap("c", false)}, []string{"b", "c"}},
		{"clean evicted before failures", 2, []ActorInfo{snap("f1", true), snap("a", false), snap("f2", true)}, []string{"f1", "f2"}},
		{"earliest failures kept", 2, []ActorInfo{snap("f1", true), snap("f2", true), snap("f3", true)}, []string{"f1", "f2"}},
		{"clean dropped when only failures", 2, []ActorInfo{snap("f1", true), snap("f2", true), snap("a", false)}, []string{"f1", "f2"}},
		{"zero cap keeps nothing", 0, []ActorInfo{snap("a", true)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRetention(tt.cap)
			for _, s := range tt.add {
				r.add(s)
			}
			var got []string
			for _, s := range r.all() {
				got = append(got, s.Name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("retained %v, want %v", got, tt.want)
			}
			for _, n := range tt.want {
				if _, ok := r.get(n); !ok {
					t.Errorf("get(%q) misses a retained snapshot", n)
				}
			}
		})
	}
}

func TestIntrospectActor(t *testing.T) {
	p := newTestProc(t)
	r, err := p.SpawnType("e", "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if _, err := r.Ask(ctx, "m"); err != nil {
			t.Fatal(err)
		}
	}
	info, ok := p.Actor("e")
	if !ok {
		t.Fatal("no info")
	}
	if info.Type != "echo" || info.Status != StatusRunning || info.MessagesProcessed != 3 ||
		info.LastHandler != "string" || info.CreatedAt.IsZero() || info.Terminated {
		t.Fatalf("info = %+v", info)
	}
	if _, ok := p.Actor("missing"); ok {
		t.Fatal("info for a missing actor")
	}
}

// handlerTimes records handler observations.
type handlerTimes struct {
	mu     sync.Mutex
	calls  int
	failed int
}

func (h *handlerTimes) Handled(typ string, d time.Duration, failed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if typ == "sleep" && d >= 5*time.Millisecond {
		h.calls++
	}
	if failed {
		h.failed++
	}
}

func TestSampleAndHandlerObserver(t *testing.T) {
	obs := &handlerTimes{}
	p := newTestProc(t, WithHandlerObserver(obs))
	ctx := context.Background()
	began := time.Now()
	s, err := p.SpawnType("s", "sleep", []byte(`{"ms": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SpawnType("sys", "echo", nil, AsSystem()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Ask(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	// The sleep actor replies inside its handler, so Ask returns before the
	// loop counts the message and the observer records the call: wait for
	// both to show.
	got := map[string]ActorSample{}
	testenv.Eventually(t, "two processed messages", func() bool {
		p.Sample(func(a ActorSample) { got[a.Name] = a })
		return got["s"].Processed == 2
	})
	if len(got) != 2 || got["s"].Type != "sleep" || got["s"].Status != StatusRunning || !got["sys"].System {
		t.Fatalf("samples = %+v", got)
	}
	testenv.Eventually(t, "two handler observations", func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.calls == 2
	})
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.calls != 2 || obs.failed != 0 {
		t.Fatalf("handler observations: %d calls of >= 5ms, %d failed", obs.calls, obs.failed)
	}
	info, _ := p.Actor("s")
	if at := info.LastHandlerAt; at.Before(began.Add(-time.Second)) || at.After(time.Now()) {
		t.Errorf("last handler at %v, want a time since the test began (%v)", at, began)
	}
	if sys, _ := p.Actor("sys"); !sys.LastHandlerAt.IsZero() {
		t.Errorf("an actor that handled nothing has a last handler time %v", sys.LastHandlerAt)
	}
}
