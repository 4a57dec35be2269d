package runtime

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// blocker handles "block" by waiting on its gate; other messages are no-ops.
type blocker struct {
	entered chan struct{}
	gate    chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}, 1), gate: make(chan struct{})}
}

func (b *blocker) Handle(c *Context, msg any) error {
	if msg == "block" {
		b.entered <- struct{}{}
		select {
		case <-b.gate:
		case <-c.Done():
		}
	}
	return nil
}

// A blocked actor with queued work shows a non-zero
// total and max <= total; the high-water mark and last-nonzero time follow.
func TestQueueDepthUnderPressure(t *testing.T) {
	p := newTestProc(t)
	ctx := context.Background()
	st := p.Stats()
	if st.QueueDepthTotal != 0 || st.QueueDepthHighWater != 0 || !st.LastNonzero.IsZero() {
		t.Fatalf("fresh proc stats = %+v", st)
	}
	b := newBlocker()
	r, err := p.Spawn("blocked", b)
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.Spawn("other", newBlocker())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, "block"); err != nil {
		t.Fatal(err)
	}
	<-b.entered
	for range 5 {
		if err := r.Send(ctx, "noop"); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := other.Send(ctx, "noop"); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, "other to drain", func() bool { return other.Info().QueueDepth == 0 })

	st = p.Stats()
	if st.QueueDepthTotal != 5 || st.QueueDepthMax != 5 {
		t.Fatalf("under pressure: total %d max %d, want 5 and 5", st.QueueDepthTotal, st.QueueDepthMax)
	}
	if st.QueueDepthMax > st.QueueDepthTotal {
		t.Fatalf("max %d > total %d", st.QueueDepthMax, st.QueueDepthTotal)
	}
	if st.QueueDepthHighWater < 5 {
		t.Fatalf("high water %d < 5", st.QueueDepthHighWater)
	}
	if age := time.Since(st.LastNonzero); age > time.Second {
		t.Fatalf("last nonzero age %v while the queue is non-empty", age)
	}
	if got := r.Info().QueueDepth; got != 5 {
		t.Fatalf("actor depth = %d", got)
	}

	close(b.gate)
	testenv.Eventually(t, "queue to drain", func() bool { return p.Stats().QueueDepthTotal == 0 })
	st = p.Stats()
	hw := st.QueueDepthHighWater
	if hw < 5 {
		t.Fatalf("high water fell to %d after draining", hw)
	}
	if st.LastNonzero.IsZero() {
		t.Fatal("last nonzero lost after draining")
	}
	drained := st.LastNonzero
	time.Sleep(20 * time.Millisecond)
	st = p.Stats()
	if !st.LastNonzero.Equal(drained) || time.Since(st.LastNonzero) < 20*time.Millisecond {
		t.Fatalf("last nonzero moved while idle: %v -> %v", drained, st.LastNonzero)
	}
	if st.QueueDepthHighWater != hw {
		t.Fatalf("high water changed while idle: %d -> %d", hw, st.QueueDepthHighWater)
	}
}

func TestTrySendFullRollsBack(t *testing.T) {
	p := newTestProc(t)
	b := newBlocker()
	r, err := p.Spawn("small", b, Mailbox(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.TrySend("block"); err != nil {
		t.Fatal(err)
	}
	<-b.entered
	for range 2 {
		if err := r.TrySend("noop"); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.TrySend("noop"); !errors.Is(err, ErrMailboxFull) {
		t.Fatalf("third TrySend = %v, want ErrMailboxFull", err)
	}
	if got := p.Stats().QueueDepthTotal; got != 2 {
		t.Fatalf("total after a failed hand-off = %d, want 2", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := r.Send(ctx, "noop"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking Send on a full mailbox = %v", err)
	}
	if got := r.Info().QueueDepth; got != 2 {
		t.Fatalf("depth after a timed-out Send = %d, want 2", got)
	}
	close(b.gate)
}

func TestDyingActorLeavesTotal(t *testing.T) {
	p := newTestProc(t)
	b := newBlocker()
	r, err := p.Spawn("doomed", b)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := p.Spawn("keep", newBlocker())
	if err != nil {
		t.Fatal(err)
	}
	kb := keep.c.actor.(*blocker)
	ctx := context.Background()
	if err := keep.Send(ctx, "block"); err != nil {
		t.Fatal(err)
	}
	<-kb.entered
	if err := keep.Send(ctx, "noop"); err != nil {
		t.Fatal(err)
	}
	if err := r.Send(ctx, "block"); err != nil {
		t.Fatal(err)
	}
	<-b.entered
	for range 10 {
		if err := r.Send(ctx, "noop"); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Stats().QueueDepthTotal; got != 11 {
		t.Fatalf("total = %d, want 11", got)
	}
	r.Stop("drop the backlog")
	waitDone(t, r)
	if got := p.Stats().QueueDepthTotal; got != 1 {
		t.Fatalf("total after the actor died = %d, want 1 (keep's)", got)
	}
	if err := r.TrySend("x"); !errors.Is(err, ErrActorStopped) {
		t.Fatalf("TrySend to a dead actor = %v", err)
	}
	if got := p.Stats().QueueDepthTotal; got != 1 {
		t.Fatalf("total after a send to a dead actor = %d, want 1", got)
	}
	close(kb.gate)
}

// Senders racing an actor's death never leave a count behind: every
// message is received once, by the actor, its final drain or a sender
// that reclaims it.
func TestAccountingUnderChurn(t *testing.T) {
	p := newTestProc(t)
	for i := range 50 {
		r, err := p.SpawnType("churn", "echo", nil, Mailbox(4))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 200 {
				_ = r.TrySend(i)
			}
		})
		wg.Go(func() {
			for range 100 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				_ = r.Send(ctx, i)
				cancel()
			}
		})
		wg.Go(func() {
			for range 50 {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				if _, err := r.Ask(ctx, i); err != nil && !errors.Is(err, ErrActorStopped) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Ask during churn: %v", err)
				}
				cancel()
			}
		})
		time.Sleep(time.Duration(i%5) * 100 * time.Microsecond)
		r.Stop("churn")
		wg.Wait()
		waitDone(t, r)
	}
	if got := p.Stats().QueueDepthTotal; got != 0 {
		t.Fatalf("total after churn = %d, want 0", got)
	}
}
