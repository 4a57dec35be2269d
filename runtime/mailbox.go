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
// Each field has its own cache line: total is written by every sender and
// every actor, the others rarely.
type queue struct {
	total       atomic.Int64
	_           [56]byte
	highWater   atomic.Int64
	_           [56]byte
	lastNonzero atomic.Int64 // unix nanos of the last drop to zero
	_           [56]byte
}

// add counts n enqueued messages (n may be negative for a rollback).
func (q *queue) add(n int64) {
	t := q.total.Add(n)
	if n > 0 {
		for {
			hw := q.highWater.Load()
			if t <= hw || q.highWater.CompareAndSwap(hw, t) {
				return
			}
		}
	}
	if t == 0 {
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
	q.add(1)
	if c.enq.Add(1) < 0 {
		c.enq.Add(-1)
		q.add(-1)
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
		c.proc.queue.add(-1)
	}
}

// received counts one message taken from the mailbox.
func (c *cell) received() {
	c.deq.Add(1)
	c.proc.queue.add(-1)
}

// settle closes the accounting of an ended actor: its undrained depth leaves
// the proc total, and later senders see the mailbox as dead.
func (c *cell) settle() (enqueued int64) {
	e := c.enq.Swap(deadEnq)
	if d := e - c.deq.Load(); d > 0 {
		c.proc.queue.add(-d)
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
