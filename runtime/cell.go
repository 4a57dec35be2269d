package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// cell is the runtime's record of one actor incarnation.
//
// The fields are grouped by who touches them on the message path, so that
// senders and the actor's loop do not share a written cache line: senders
// read the first group; the actor's loop writes the last one; the cold
// fields between them (set at spawn) keep the two groups more than a
// cache line apart whatever the cell's alignment.
type cell struct {
	// Read by every send; written only at spawn, stop and death.
	proc    *Proc
	mailbox chan envelope
	dead    atomic.Bool   // the loop has ended: senders must not count
	halt    atomic.Bool   // the loop must end: stop requested or terminated
	done    chan struct{} // closed once the actor is terminal

	// Cold: set at spawn.
	ref       Ref
	name      string
	typeName  string
	system    bool
	actor     Actor
	createdAt time.Time
	cancel    context.CancelFunc

	// Written by the actor's loop.
	processed atomic.Int64           // messages handled, published by the loop
	ctx       Context                // the loop's reply state lives here
	last      atomic.Pointer[string] // name of the last handler run
	lastAt    atomic.Int64           // when it started, unix ns; set only with a HandlerObserver
	wakes     atomic.Int32           // wake messages in the mailbox (not counted as depth)

	mu         sync.Mutex
	status     Status
	stopReq    bool
	stopReason string
	termSet    bool
	termErr    error
	exitCode   *int
	changed    chan struct{}
	event      *SupervisionEvent
}

func newCell(p *Proc, name, typeName string, a Actor, o spawnOptions) *cell {
	c := &cell{
		proc:      p,
		name:      name,
		typeName:  typeName,
		system:    o.system,
		actor:     a,
		mailbox:   make(chan envelope, o.mailboxSize),
		createdAt: time.Now(),
		done:      make(chan struct{}),
		status:    StatusInitializing,
	}
	c.ref.c = c
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.ctx = Context{Context: ctx, cell: c}
	return c
}

// run is the actor's goroutine: init, the message loop, then the end.
func (c *cell) run() {
	defer c.proc.wg.Done()
	ctx := &c.ctx
	var err error
	if in, ok := c.actor.(Initializer); ok {
		err = c.call(func() error { return in.Init(ctx) })
	}
	if err == nil {
		c.setStatus(StatusRunning)
		err = c.loop()
	}
	c.finish(err)
}

// loop handles messages until a stop, a termination or a handler failure.
// A panic is recovered once for the whole loop, not per message: it fails
// the actor, and the message being handled is answered with the error.
func (c *cell) loop() (err error) {
	ctx := &c.ctx
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
			if ctx.reply != nil && !ctx.sent {
				ctx.reply <- Reply{Err: err}
			}
			ctx.reply = nil
		}
	}()
	var lastType reflect.Type
	var n int64       // messages taken from the mailbox, published to c.processed
	var enqSeen int64 // this loop's past value of the proc's enqueued count
	defer func() { c.processed.Store(n) }()
	for !c.halt.Load() {
		env := <-c.mailbox
		if env.msg == wake {
			c.wakes.Add(-1)
			continue
		}
		c.proc.queue.dequeue(&enqSeen)
		// Published every 64 messages and whenever the mailbox is empty:
		// exact for an idle or wedged actor, at most 63 behind for a busy one.
		if n++; n&63 == 0 || len(c.mailbox) == 0 {
			c.processed.Store(n)
		}
		if t := reflect.TypeOf(env.msg); t != lastType {
			lastType = t
			name := fmt.Sprint(t)
			c.last.Store(&name)
		}
		ctx.reply, ctx.sent = env.reply, false
		if obs := c.proc.handlerObs; obs != nil {
			start := time.Now()
			c.lastAt.Store(start.UnixNano()) // the clock is read for the observer anyway
			err = c.actor.Handle(ctx, env.msg)
			obs.Handled(c.typeName, time.Since(start), err != nil)
		} else {
			err = c.actor.Handle(ctx, env.msg)
		}
		if env.reply != nil && !ctx.sent {
			env.reply <- Reply{Err: err}
		}
		ctx.reply = nil
		if err != nil {
			return err
		}
	}
	return nil
}

// call runs f, turning a panic into a *PanicError.
func (c *cell) call(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return f()
}

// finish makes the actor terminal: close hook, accounting, snapshot,
// supervision event. The first terminal outcome wins.
func (c *cell) finish(err error) {
	// The loop's own failure is an outcome before Close runs, so nothing
	// Close does can turn it into a clean stop.
	if err != nil {
		c.terminate(err)
	}
	if cl, ok := c.actor.(Closer); ok {
		if cerr := c.call(func() error { return cl.Close(&c.ctx) }); cerr != nil {
			c.mu.Lock()
			c.termSet, c.termErr = true, errors.Join(c.termErr, fmt.Errorf("close: %w", cerr))
			c.mu.Unlock()
		}
	}
	c.cancel()
	c.settle()
	now := time.Now()

	c.mu.Lock()
	c.termSet = true
	err = c.termErr
	ev := newEvent(c.name, c.typeName, err, c.stopReason, c.exitCode, now)
	info := c.infoLocked()
	c.mu.Unlock()
	info.Status, info.Event, info.Terminated = ev.Status, &ev, true

	// Retire before the terminal status is visible: whoever sees it also
	// sees the actor gone from the live set and its snapshot retained.
	c.proc.retire(c, info)
	c.mu.Lock()
	c.event, c.status = &ev, ev.Status
	c.notifyLocked()
	c.mu.Unlock()
	c.proc.supervise(ev)
	close(c.done)
}

// requestStop asks the actor to stop: RUNNING → STOPPING, its context is
// cancelled and its loop woken. Only the first request counts.
func (c *cell) requestStop(reason string) bool {
	c.mu.Lock()
	if c.stopReq || c.status.IsTerminated() {
		c.mu.Unlock()
		return false
	}
	c.stopReq, c.stopReason = true, reason
	if !c.termSet {
		c.status = StatusStopping
		c.notifyLocked()
	}
	c.mu.Unlock()
	c.halt.Store(true)
	c.cancel()
	c.wakeUp()
	return true
}

// terminate records the actor's own terminal outcome and ends its loop.
func (c *cell) terminate(err error) {
	c.mu.Lock()
	if !c.termSet {
		c.termSet, c.termErr = true, err
	}
	c.mu.Unlock()
	c.halt.Store(true)
	c.cancel()
	c.wakeUp()
}

func (c *cell) setExitCode(code int) {
	c.mu.Lock()
	c.exitCode = &code
	c.mu.Unlock()
}

func (c *cell) setStatus(s Status) {
	c.mu.Lock()
	if !c.stopReq && !c.termSet {
		c.status = s
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// notifyLocked wakes the watchers of the status; c.mu is held.
func (c *cell) notifyLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// statusAndChanged returns the status and a channel closed at its next change.
func (c *cell) statusAndChanged() (Status, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.IsTerminated() {
		return c.status, c.done
	}
	if c.changed == nil {
		c.changed = make(chan struct{})
	}
	return c.status, c.changed
}
