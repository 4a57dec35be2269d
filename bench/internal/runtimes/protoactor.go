package runtimes

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Protoactor is github.com/asynkron/protoactor-go: a bounded ring-buffer
// mailbox (Bounded(MailboxSize), which blocks a sender when full) drained
// by a goroutine started on demand.
type Protoactor struct {
	system *actor.ActorSystem
}

// NewProtoactor starts one actor system for all runs, its logging off.
func NewProtoactor() *Protoactor {
	quiet := slog.New(slog.DiscardHandler)
	sys := actor.NewActorSystemWithConfig(actor.Configure(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }),
	))
	return &Protoactor{system: sys}
}

// Name implements Contender.
func (*Protoactor) Name() string { return "protoactor" }

// Close implements Contender.
func (p *Protoactor) Close() { p.system.Shutdown() }

// paActor adapts a function of the user messages to an Actor; the system's
// own lifecycle messages are ignored.
type paActor func(c actor.Context, m any)

func (f paActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
	default:
		f(c, m)
	}
}

func (p *Protoactor) spawn(f paActor) *actor.PID {
	props := actor.PropsFromProducer(func() actor.Actor { return f },
		actor.WithMailbox(actor.Bounded(MailboxSize)))
	return p.system.Root.Spawn(props)
}

// stop stops the actors and waits for their end.
func (p *Protoactor) stop(pids ...*actor.PID) error {
	fs := make([]*actor.Future, len(pids))
	for i, pid := range pids {
		fs[i] = p.system.Root.StopFuture(pid)
	}
	for _, f := range fs {
		if err := f.Wait(); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
	}
	return nil
}

// FanIn implements Contender.
func (p *Protoactor) FanIn(producers, msgs int) (time.Duration, error) {
	c := newCounter(msgs)
	pid := p.spawn(func(_ actor.Context, m any) {
		if m == tick {
			c.add()
		}
	})
	root := p.system.Root
	start := time.Now()
	var wg sync.WaitGroup
	for i := range producers {
		wg.Go(func() {
			for range share(msgs, producers, i) {
				root.Send(pid, tick)
			}
		})
	}
	wg.Wait()
	err := wait(c.done, "fan-in")
	d := time.Since(start)
	if serr := p.stop(pid); err == nil {
		err = serr
	}
	return d, err
}

// PingPong implements Contender.
func (p *Protoactor) PingPong(msgs int) (time.Duration, error) {
	done := make(chan struct{})
	var pa, pz atomic.Pointer[actor.PID]
	n := 0
	a := p.spawn(func(c actor.Context, m any) {
		if n += 2; n >= msgs {
			close(done)
			return
		}
		c.Send(pz.Load(), m)
	})
	z := p.spawn(func(c actor.Context, m any) { c.Send(pa.Load(), m) })
	pa.Store(a)
	pz.Store(z)
	start := time.Now()
	p.system.Root.Send(z, tick)
	err := wait(done, "ping-pong")
	d := time.Since(start)
	if serr := p.stop(a, z); err == nil {
		err = serr
	}
	return d, err
}

// Ask implements Contender.
func (p *Protoactor) Ask(reqs int) (time.Duration, error) {
	pid := p.spawn(func(c actor.Context, m any) { c.Respond(m) })
	root := p.system.Root
	start := time.Now()
	for range reqs {
		v, err := root.RequestFuture(pid, tick, waitTimeout).Result()
		if err != nil {
			return 0, err
		}
		if v != tick {
			return 0, fmt.Errorf("wrong reply %v", v)
		}
	}
	d := time.Since(start)
	return d, p.stop(pid)
}

// SpawnStop implements Contender.
func (p *Protoactor) SpawnStop(n int) (time.Duration, float64, error) {
	f := paActor(func(actor.Context, any) {})
	pids := make([]*actor.PID, 0, n)
	before := heapAndStacks()
	start := time.Now()
	for range n {
		pids = append(pids, p.spawn(f))
	}
	spawn := time.Since(start)
	bpa := float64(heapAndStacks()-before) / float64(n)
	start = time.Now()
	err := p.stop(pids...)
	return spawn + time.Since(start), bpa, err
}
