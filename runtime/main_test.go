package runtime

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestProc returns a proc that is closed when the test ends.
func newTestProc(t testing.TB, opts ...Option) *Proc {
	t.Helper()
	p := NewProc("test", opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Errorf("close proc: %v", err)
		}
	})
	return p
}

// waitDone waits for the actor to end and returns its supervision event.
func waitDone(t testing.TB, r *Ref) SupervisionEvent {
	t.Helper()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("actor %q did not end; status %v", r.Name(), r.Status())
	}
	ev, ok := r.Event()
	if !ok {
		t.Fatalf("actor %q ended without an event", r.Name())
	}
	return ev
}
