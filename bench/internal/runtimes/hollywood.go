package runtimes

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// Hollywood is github.com/anthdm/hollywood: a ring-buffer inbox drained in
// batches by a goroutine started on demand. Its inbox grows when full (no
// back-pressure), so MailboxSize is only its initial size.
type Hollywood struct {
	engine *actor.Engine
	seq    atomic.Int64
}

// NewHollywood starts one local engine for all runs.
func NewHollywood() (*Hollywood, error) {
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		return nil, fmt.Errorf("hollywood engine: %w", err)
	}
	return &Hollywood{engine: e}, nil
}

// Name implements Contender.
func (*Hollywood) Name() string { return "hollywood" }

// Close implements Contender.
func (*Hollywood) Close() {}

// hwActor adapts a function of the user messages to a Receiver; the
// engine's own lifecycle messages are ignored.
type hwActor func(c *actor.Context, m any)

func (f hwActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Initialized, actor.Started, actor.Stopped:
	default:
		f(c, m)
	}
}

func (h *Hollywood) spawn(f hwActor) *actor.PID {
	id := strconv.FormatInt(h.seq.Add(1), 10)
	return h.engine.Spawn(func() actor.Receiver { return f }, "bench",
		actor.WithInboxSize(MailboxSize), actor.WithID(id))
}

// stop stops the actors and waits for their end.
func (h *Hollywood) stop(pids ...*actor.PID) error {
	ctxs := make([]context.Context, len(pids))
	for i, pid := range pids {
		ctxs[i] = h.engine.Stop(pid)
	}
	for _, ctx := range ctxs {
		if err := wait(ctx.Done(), "stop"); err != nil {
			return err
		}
	}
	return nil
}

// FanIn implements Contender.
func (h *Hollywood) FanIn(producers, msgs int) (time.Duration, error) {
	c := newCounter(msgs)
	pid := h.spawn(func(_ *actor.Context, m any) {
		if m == tick {
			c.add()
		}
	})
	start := time.Now()
	var wg sync.WaitGroup
	for i := range producers {
		wg.Go(func() {
			for range share(msgs, producers, i) {
				h.engine.Send(pid, tick)
			}
		})
	}
	wg.Wait()
	err := wait(c.done, "fan-in")
	d := time.Since(start)
	if serr := h.stop(pid); err == nil {
		err = serr
	}
	return d, err
}

// PingPong implements Contender.
func (h *Hollywood) PingPong(msgs int) (time.Duration, error) {
	done := make(chan struct{})
	var pa, pz atomic.Pointer[actor.PID]
	n := 0
	a := h.spawn(func(c *actor.Context, m any) {
		if n += 2; n >= msgs {
			close(done)
			return
		}
		c.Send(pz.Load(), m)
	})
	z := h.spawn(func(c *actor.Context, m any) { c.Send(pa.Load(), m) })
	pa.Store(a)
	pz.Store(z)
	start := time.Now()
	h.engine.Send(z, tick)
	err := wait(done, "ping-pong")
	d := time.Since(start)
	if serr := h.stop(a, z); err == nil {
		err = serr
	}
	return d, err
}

// Ask implements Contender.
func (h *Hollywood) Ask(reqs int) (time.Duration, error) {
	pid := h.spawn(func(c *actor.Context, m any) { c.Respond(m) })
	start := time.Now()
	for range reqs {
		v, err := h.engine.Request(pid, tick, waitTimeout).Result()
		if err != nil {
			return 0, err
		}
		if v != tick {
			return 0, fmt.Errorf("wrong reply %v", v)
		}
	}
	d := time.Since(start)
	return d, h.stop(pid)
}

// SpawnStop implements Contender.
func (h *Hollywood) SpawnStop(n int) (time.Duration, float64, error) {
	f := hwActor(func(*actor.Context, any) {})
	pids := make([]*actor.PID, 0, n)
	before := heapAndStacks()
	start := time.Now()
	for range n {
		pids = append(pids, h.spawn(f))
	}
	spawn := time.Since(start)
	bpa := float64(heapAndStacks()-before) / float64(n)
	start = time.Now()
	err := h.stop(pids...)
	return spawn + time.Since(start), bpa, err
}
