package runtime

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"
)

// DefaultMailboxSize is the capacity of an actor's mailbox unless
// WithMailboxSize says otherwise. A full mailbox is back-pressure: Send
// waits, TrySend fails with ErrMailboxFull.
const DefaultMailboxSize = 64

// Errors of the message path.
var (
	// ErrMailboxFull is returned by TrySend when the actor's mailbox is full.
	ErrMailboxFull = errors.New("mailbox full")
	// ErrActorStopped is returned when the actor has ended, or ends before
	// the message is handed off or answered.
	ErrActorStopped = errors.New("actor stopped")
)

// envelope is one message in a mailbox: three words, passed by value.
type envelope struct {
	msg   any
	reply chan<- Reply
}

type wakeMsg struct{}

// wake is the control message that wakes an idle actor to see a stop; it is
// never counted.
var wake any = &wakeMsg{}

// deadEnq marks a mailbox whose actor has ended: enqueue counts that see a
// negative value roll back.
const deadEnq = math.MinInt64 / 2

// queue is the proc-wide queue accounting: the total depth read in O(1), a
// monotonic high-water mark and the time the total was last non-zero.
//
// The total is enqueued - dequeued: senders write only enqueued, actors only
// dequeued, so a sender and its receiver do not fight over one cache line.
// Both counters only grow (a rollback counts as a dequeue). The high-water
// mark and the zero check need the other side's counter; each side keeps a
// stale copy of it that bounds the answer, and reads the real one only when
// the copy cannot decide.
type queue struct {
	enqueued    atomic.Int64
	_           [56]byte
	dequeued    atomic.Int64
	_           [56]byte
	deqSeen     atomic.Int64 // a past value of dequeued, for senders
	_           [56]byte
	enqSeen     atomic.Int64 // a past value of enqueued, for actors
	_           [56]byte
	highWater   atomic.Int64
	_           [56]byte
	lastNonzero atomic.Int64 // unix nanos of the last drop to zero
	_           [56]byte
}

// total returns the number of messages waiting in all mailboxes.
func (q *queue) total() int64 {
	d := q.dequeued.Load() // first: every dequeue follows its enqueue
	return q.enqueued.Load() - d
}

// enqueue counts one message and raises the high-water mark.
func (q *queue) enqueue() {
	e := q.enqueued.Add(1)
	// deqSeen <= dequeued, so e - deqSeen bounds the total from above.
	if e-q.deqSeen.Load() <= q.highWater.Load() {
		return
	}
	d := q.dequeued.Load()
	q.deqSeen.Store(d)
	t := e - d
	for {
		hw := q.highWater.Load()
		if t <= hw || q.highWater.CompareAndSwap(hw, t) {
			return
		}
	}
}

// dequeue counts n messages leaving the mailboxes (taken, rolled back, or
// dropped with an ended actor) and notes when the total drops to zero.
func (q *queue) dequeue(n int64) {
	d := q.dequeued.Add(n)
	// enqSeen <= enqueued, so d < enqSeen means the total is not zero.
	if d < q.enqSeen.Load() {
		return
	}
	e := q.enqueued.Load()
	q.enqSeen.Store(e)
	if e == d {
		q.lastNonzero.Store(time.Now().UnixNano())
	}
}

// mailbox accounting per actor: depth = enq - deq. The sender counts enq
// (after the proc total), the actor counts deq (before the proc total), so
// the proc total is never below the sum of the depths.
// enq (written by senders) and deq (by the actor) sit on separate cache
// lines so they do not false-share.
type counters struct {
	enq atomic.Int64
	_   [56]byte
	deq atomic.Int64
	_   [56]byte
}

// depth returns the number of messages waiting; 0 once the actor ended.
func (m *counters) depth() int64 {
	d := m.deq.Load()
	e := m.enq.Load()
	if e < 0 || e < d {
		return 0
	}
	return e - d
}

// Send posts msg to the actor's mailbox, waiting while it is full until ctx
// is done. It fails with ErrActorStopped once the actor has ended. A message
// handed to an actor that ends before reading it is dropped.
func (r *Ref) Send(ctx context.Context, msg any) error {
	return r.c.post(ctx, envelope{msg: msg}, true)
}

// TrySend posts msg without waiting: ErrMailboxFull when the mailbox is full.
func (r *Ref) TrySend(msg any) error {
	return r.c.post(context.Background(), envelope{msg: msg}, false)
}

// Ask posts msg and waits for the actor's reply (Context.Reply), the end of
// the actor, or ctx. A handler that does not reply answers with a nil value,
// or with its error when it fails.
func (r *Ref) Ask(ctx context.Context, msg any) (any, error) {
	ch := make(chan Reply, 1)
	if err := r.c.post(ctx, envelope{msg: msg, reply: ch}, true); err != nil {
		return nil, err
	}
	select {
	case rep := <-ch:
		return rep.Value, rep.Err
	case <-r.c.done:
		select {
		case rep := <-ch:
			return rep.Value, rep.Err
		default:
			return nil, ErrActorStopped
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// post counts the message, then hands it off; a failed hand-off is rolled
// back. The fast path is two atomic adds and a channel send.
func (c *cell) post(ctx context.Context, env envelope, block bool) error {
	q := &c.proc.queue
	q.enqueue()
	if c.enq.Add(1) < 0 {
		c.enq.Add(-1)
		q.dequeue(1)
		return ErrActorStopped
	}
	select {
	case c.mailbox <- env:
		return nil
	default:
	}
	if !block {
		c.rollback()
		return ErrMailboxFull
	}
	select {
	case c.mailbox <- env:
		return nil
	case <-c.done:
		c.rollback()
		return ErrActorStopped
	case <-ctx.Done():
		c.rollback()
		return ctx.Err()
	}
}

// rollback uncounts a message that was not handed off. When the actor ended
// in between, its final settle already took the message out of the total.
func (c *cell) rollback() {
	if c.enq.Add(-1) >= 0 {
		c.proc.queue.dequeue(1)
	}
}

// received counts one message taken from the mailbox.
func (c *cell) received() {
	c.deq.Add(1)
	c.proc.queue.dequeue(1)
}

// settle closes the accounting of an ended actor: its undrained depth leaves
// the proc total, and later senders see the mailbox as dead.
func (c *cell) settle() (enqueued int64) {
	e := c.enq.Swap(deadEnq)
	if d := e - c.deq.Load(); d > 0 {
		c.proc.queue.dequeue(d)
	}
	return e
}

// wakeUp nudges an idle actor so it sees a stop; a full mailbox needs none.
func (c *cell) wakeUp() {
	select {
	case c.mailbox <- envelope{msg: wake}:
	default:
	}
}
