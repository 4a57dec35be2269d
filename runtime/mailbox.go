package runtime

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// DefaultMailboxSize is the capacity of an actor's mailbox unless
// WithMailboxSize says otherwise. A full mailbox is back-pressure: Send
// waits, TrySend fails with ErrMailboxFull.
const DefaultMailboxSize = 32

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

// queue is the proc-wide queue accounting: the total depth read in O(1), a
// monotonic high-water mark and the time the total was last non-zero.
//
// The total is enqueued - dequeued: senders write only enqueued, actors only
// dequeued, so a sender and its receiver do not fight over one cache line.
// Both counters only grow (a rollback counts as a dequeue). The high-water
// mark and the zero check need the other side's counter; each side keeps a
// stale copy of it that bounds the answer, and reads the real one only when
// the copy cannot decide. Senders share one copy (deqSeen); each actor's
// loop keeps its own in a local variable, so taking a message costs one
// atomic add and no store beyond it.
//
// Every atomic write is a full fence on amd64, so the message path counts
// them: a send makes one (the add to enqueued) and a receive one (the add to
// dequeued), plus one more each time a stale copy is refreshed.
type queue struct {
	enqueued    atomic.Int64
	_           [56]byte
	dequeued    atomic.Int64
	_           [56]byte
	deqSeen     atomic.Int64 // a past value of dequeued, for senders
	_           [56]byte
	highWater   atomic.Int64
	_           [56]byte
	lastNonzero atomic.Int64 // unix nanos of the last drop to zero
	_           [56]byte
}

// clockBase anchors the drop-to-zero times: time.Since on it reads only the
// monotonic clock, one vDSO call where time.Now makes two.
var clockBase = time.Now()

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

// dequeue counts one message leaving the mailboxes (taken, rolled back, or
// dropped with an ended actor) and notes when the total drops to zero.
// enqSeen is the caller's past value of enqueued (0 if it has none); it is
// updated when the real one had to be read.
func (q *queue) dequeue(enqSeen *int64) {
	d := q.dequeued.Add(1)
	// enqSeen <= enqueued, so d < enqSeen means the total is not zero.
	if d < *enqSeen {
		return
	}
	e := q.enqueued.Load()
	*enqSeen = e
	if e == d {
		q.lastNonzero.Store(clockBase.UnixNano() + int64(time.Since(clockBase)))
	}
}

// uncount1 is dequeue for callers off the actor's loop, which keep no copy.
func (q *queue) uncount1() {
	var none int64
	q.dequeue(&none)
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
// back. The fast path is one atomic add, two atomic loads and a channel send.
//
// Every message placed in a mailbox is received exactly once: by the actor's
// loop, by its final drain, or by a sender that finds the actor dead after
// its send and takes one message back out. Each of those receives uncounts
// one message, so an ended actor never leaves a count behind.
func (c *cell) post(ctx context.Context, env envelope, block bool) error {
	if c.dead.Load() {
		return ErrActorStopped
	}
	q := &c.proc.queue
	q.enqueue()
	// Without a deadline a plain send waits for room, taking the chan's lock
	// once. No need to watch the actor's end: its drain makes room, and a
	// send that lands after the drain is reclaimed.
	done := ctx.Done()
	if block && done == nil {
		c.mailbox <- env
		c.afterSend()
		return nil
	}
	select {
	case c.mailbox <- env:
		c.afterSend()
		return nil
	default:
	}
	if !block {
		q.uncount1()
		return ErrMailboxFull
	}
	select {
	case c.mailbox <- env:
		c.afterSend()
		return nil
	case <-done:
		q.uncount1()
		return ctx.Err()
	}
}

// afterSend reclaims one message when the actor died around the hand-off:
// its drain may have run before the message arrived.
func (c *cell) afterSend() {
	if c.dead.Load() {
		c.takeOne()
	}
}

// takeOne receives one message from the mailbox, if any, and uncounts it;
// an Ask waiting on it is told the actor stopped.
func (c *cell) takeOne() bool {
	select {
	case env := <-c.mailbox:
		c.uncount(env)
		if env.reply != nil {
			env.reply <- Reply{Err: ErrActorStopped}
		}
		return true
	default:
		return false
	}
}

// uncount takes a received message out of the accounting.
func (c *cell) uncount(env envelope) {
	if env.msg == wake {
		c.wakes.Add(-1)
		return
	}
	c.proc.queue.uncount1()
}

// settle closes the accounting of an ended actor: later senders see it
// dead, and its undrained messages leave the proc total.
func (c *cell) settle() {
	c.dead.Store(true)
	for c.takeOne() {
	}
}

// depth returns the number of messages waiting in the mailbox.
func (c *cell) depth() int64 {
	return max(int64(len(c.mailbox))-int64(c.wakes.Load()), 0)
}

// wakeUp nudges an idle actor so it sees a stop; a full mailbox needs none.
func (c *cell) wakeUp() {
	c.wakes.Add(1)
	select {
	case c.mailbox <- envelope{msg: wake}:
	default:
		c.wakes.Add(-1)
	}
}
