package runtime

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// recorder is a coordinator that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []SupervisionEvent
}

func (r *recorder) Supervise(ev SupervisionEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) byActor(name string) []SupervisionEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []SupervisionEvent
	for _, ev := range r.events {
		if ev.Actor == name {
			out = append(out, ev)
		}
	}
	return out
}

func TestSpawnAskStop(t *testing.T) {
	rec := &recorder{}
	p := newTestProc(t, WithCoordinator(rec))
	ctx := context.Background()
	r, err := p.SpawnType("e1", "echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.Wait(ctx, StatusRunning); err != nil || s != StatusRunning {
		t.Fatalf("Wait(RUNNING) = %v, %v", s, err)
	}
	got, err := r.Ask(ctx, "hello")
	if err != nil || got != "hello" {
		t.Fatalf("Ask = %v, %v; want hello", got, err)
	}
	if _, err := p.Spawn("e1", echo{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second spawn of e1: %v, want ErrExists", err)
	}
	if ref, ok := p.Lookup("e1"); !ok || ref.Type() != "echo" {
		t.Fatalf("Lookup(e1) = %v, %v", ref, ok)
	}
	if !r.Stop("done here") {
		t.Fatal("first Stop should report true")
	}
	if r.Stop("again") {
		t.Fatal("second Stop should report false")
	}
	ev := waitDone(t, r)
	if ev.Status != StatusStopped || ev.Reason != "done here" || ev.Type != "echo" {
		t.Fatalf("event = %+v", ev)
	}
	if _, ok := p.Lookup("e1"); ok {
		t.Fatal("a stopped actor is still live")
	}
	if err := r.Send(ctx, "late"); !errors.Is(err, ErrActorStopped) {
		t.Fatalf("Send after stop = %v, want ErrActorStopped", err)
	}
	if n := len(rec.byActor("e1")); n != 1 {
		t.Fatalf("coordinator got %d events for e1, want 1", n)
	}
	info, ok := p.Actor("e1")
	if !ok || !info.Terminated || info.Status != StatusStopped || info.MessagesProcessed != 1 {
		t.Fatalf("snapshot = %+v, %v", info, ok)
	}
	// The name can be used again once the actor has ended.
	if _, err := p.Spawn("e1", echo{}); err != nil {
		t.Fatalf("respawn e1: %v", err)
	}
}

func TestSpawnErrors(t *testing.T) {
	p := newTestProc(t)
	tests := []struct {
		name, typ, params string
		check             func(error) bool
		mention           string
	}{
		{"unknown type", "nope", "", func(err error) bool {
			var u *UnknownTypeError
			return errors.As(err, &u) && u.Type == "nope"
		}, `unknown actor type "nope"`},
		{"params not json", "sleep", "{", func(err error) bool {
			var pe *ParamsError
			return errors.As(err, &pe)
		}, "bad params"},
		{"unknown field", "sleep", `{"msec": 3}`, func(err error) bool {
			var pe *ParamsError
			return errors.As(err, &pe)
		}, "msec"},
		{"out of range", "sleep", `{"ms": -1}`, func(err error) bool {
			var pe *ParamsError
			return errors.As(err, &pe) && pe.Type == "sleep"
		}, "ms must be"},
		{"echo takes no params", "echo", `{"x": 1}`, func(err error) bool {
			var pe *ParamsError
			return errors.As(err, &pe)
		}, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.SpawnType("a", tt.typ, []byte(tt.params))
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("SpawnType error = %v; want one mentioning %q", err, tt.mention)
			}
		})
	}
	if _, err := p.Spawn("", echo{}); !errors.Is(err, ErrBadName) {
		t.Fatalf("empty name: %v", err)
	}
}

// initActor records its Init and can fail it.
type initActor struct {
	err error
}

func (a *initActor) Init(*Context) error            { return a.err }
func (a *initActor) Handle(c *Context, m any) error { c.Reply(m); return nil }

func TestFailures(t *testing.T) {
	tests := []struct {
		name    string
		actor   Actor
		msg     any
		reason  string
		isPanic bool
	}{
		{"handler error", fail{}, FailMessage{Reason: "bad input"}, "bad input", false},
		{"json fail message", fail{}, map[string]any{"fail": "from json"}, "from json", false},
		{"panic", fail{}, map[string]any{"panic": "kaboom"}, "panic: kaboom", true},
		{"init error", &initActor{err: errors.New("no init")}, nil, "no init", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			p := newTestProc(t, WithCoordinator(rec))
			bystander, err := p.SpawnType("bystander", "echo", nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Spawn("victim", tt.actor)
			if err != nil {
				t.Fatal(err)
			}
			if tt.msg != nil {
				if _, err := r.Ask(context.Background(), tt.msg); err == nil {
					t.Fatal("Ask of a failing message should return an error")
				}
			}
			ev := waitDone(t, r)
			if ev.Status != StatusFailed || !strings.Contains(ev.Reason, tt.reason) {
				t.Fatalf("event = %+v, want FAILED mentioning %q", ev, tt.reason)
			}
			if got := r.Status(); got != StatusFailed {
				t.Fatalf("status = %v", got)
			}
			// The proc and the other actors keep running.
			if got, err := bystander.Ask(context.Background(), 7); err != nil || got != 7 {
				t.Fatalf("bystander Ask = %v, %v", got, err)
			}
			if evs := rec.byActor("victim"); len(evs) != 1 || evs[0].Status != StatusFailed {
				t.Fatalf("coordinator events = %+v", evs)
			}
			info, ok := p.Actor("victim")
			if !ok || !info.Failed() {
				t.Fatalf("snapshot = %+v, %v", info, ok)
			}
		})
	}
}

func TestFirstTerminalOutcomeIsFinal(t *testing.T) {
	p := newTestProc(t)
	gate := make(chan struct{})
	r, err := p.Spawn("a", HandlerFunc(func(c *Context, _ any) error {
		c.Terminate(errors.New("first"))
		<-gate
		return errors.New("second")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "terminate to be recorded", func() bool { return r.c.halt.Load() })
	r.Stop("third")
	close(gate)
	ev := waitDone(t, r)
	if ev.Status != StatusFailed || ev.Reason != "first" {
		t.Fatalf("event = %+v, want FAILED first", ev)
	}
}

func TestWatchStatus(t *testing.T) {
	p := newTestProc(t)
	release := make(chan struct{})
	r, err := p.Spawn("slow-init", &gatedInit{release: release})
	if err != nil {
		t.Fatal(err)
	}
	s, changed := r.Changed()
	if s != StatusInitializing {
		t.Fatalf("status during Init = %v", s)
	}
	close(release)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no change notification after Init")
	}
	if s := r.Status(); s != StatusRunning {
		t.Fatalf("status after Init = %v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Wait(ctx, StatusStopped); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait(STOPPED) on a running actor = %v", err)
	}
	r.Stop("bye")
	if s, err := r.Wait(context.Background(), StatusStopping); err != nil || !s.AtLeast(StatusStopping) {
		t.Fatalf("Wait(STOPPING) = %v, %v", s, err)
	}
	if s, err := r.Wait(context.Background(), StatusStopped); err != nil || s != StatusStopped {
		t.Fatalf("Wait(STOPPED) = %v, %v", s, err)
	}
}

type gatedInit struct{ release chan struct{} }

func (g *gatedInit) Init(*Context) error      { <-g.release; return nil }
func (*gatedInit) Handle(*Context, any) error { return nil }

func TestStopInterruptsBlockedHandler(t *testing.T) {
	p := newTestProc(t)
	r, err := p.SpawnType("sleeper", "sleep", []byte(`{"ms": 3600000}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "message taken", func() bool { return r.Info().MessagesProcessed == 1 })
	r.Stop("enough")
	if ev := waitDone(t, r); ev.Status != StatusStopped {
		t.Fatalf("event = %+v", ev)
	}
}

func TestProcCloseRefusesSpawn(t *testing.T) {
	p := NewProc("p")
	if _, err := p.SpawnType("a", "echo", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SpawnType("s", "echo", nil, AsSystem()); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SpawnType("b", "echo", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("spawn after close = %v", err)
	}
	if n := len(p.Children()) + len(p.SystemChildren()); n != 0 {
		t.Fatalf("%d actors live after close", n)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestSystemActorsListedApart(t *testing.T) {
	p := newTestProc(t)
	for _, n := range []string{"b", "a"} {
		if _, err := p.SpawnType(n, "echo", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.SpawnType("agent", "echo", nil, AsSystem()); err != nil {
		t.Fatal(err)
	}
	if got := p.Children(); strings.Join(got, ",") != "a,b" {
		t.Fatalf("Children = %v", got)
	}
	if got := p.SystemChildren(); strings.Join(got, ",") != "agent" {
		t.Fatalf("SystemChildren = %v", got)
	}
	if info, _ := p.Actor("agent"); !info.System {
		t.Fatal("agent not flagged system")
	}
	st := p.Stats()
	if st.Live != 2 || st.System != 1 {
		t.Fatalf("stats = %+v", st)
	}
	refs := p.StopAll("user stop", false)
	if len(refs) != 2 {
		t.Fatalf("StopAll(user) asked %d actors", len(refs))
	}
	for _, r := range refs {
		waitDone(t, r)
	}
	if got := p.SystemChildren(); len(got) != 1 {
		t.Fatalf("system actor stopped by a user StopAll: %v", got)
	}
}

// closeTerminates fails in its handler, then its Close both terminates
// cleanly and returns an error: neither may hide the failure.
type closeTerminates struct{}

func (closeTerminates) Handle(*Context, any) error { return errors.New("handler failed") }
func (closeTerminates) Close(c *Context) error {
	c.Terminate(nil)
	return errors.New("close failed too")
}

func TestCloseCannotHideFailure(t *testing.T) {
	p := newTestProc(t)
	r, err := p.Spawn("a", closeTerminates{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ev := waitDone(t, r)
	if ev.Status != StatusFailed || !strings.Contains(ev.Reason, "handler failed") || !strings.Contains(ev.Reason, "close failed too") {
		t.Fatalf("event = %+v", ev)
	}
}
