package runtimes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/procagent/procagent/runtime"
)

// Procagent is this repository's runtime: counted mailboxes, statuses,
// supervision events, snapshots of ended actors.
type Procagent struct{}

// Name implements Contender.
func (Procagent) Name() string { return "procagent" }

// Close implements Contender.
func (Procagent) Close() {}

func newProc() *runtime.Proc {
	return runtime.NewProc("bench", runtime.WithMailboxSize(MailboxSize))
}

func closeProc(p *runtime.Proc) error {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return p.Close(ctx)
}

// FanIn implements Contender.
func (Procagent) FanIn(producers, msgs int) (d time.Duration, err error) {
	p := newProc()
	defer func() { err = errors.Join(err, closeProc(p)) }()
	c := newCounter(msgs)
	r, err := p.Spawn("sink", runtime.HandlerFunc(func(_ *runtime.Context, m any) error {
		if m == tick {
			c.add()
		}
		return nil
	}))
	if err != nil {
		return 0, err
	}
	ctx := context.Background()
	errs := make(chan error, producers)
	start := time.Now()
	for i := range producers {
		go func() {
			for range share(msgs, producers, i) {
				if err := r.Send(ctx, tick); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range producers {
		if e := <-errs; e != nil {
			return 0, e
		}
	}
	err = wait(c.done, "fan-in")
	return time.Since(start), err
}

// PingPong implements Contender.
func (Procagent) PingPong(msgs int) (d time.Duration, err error) {
	p := newProc()
	defer func() { err = errors.Join(err, closeProc(p)) }()
	done := make(chan struct{})
	var ra, rz *runtime.Ref
	n := 0
	ra, err = p.Spawn("a", runtime.HandlerFunc(func(c *runtime.Context, m any) error {
		if n += 2; n >= msgs {
			close(done)
			return nil
		}
		return rz.Send(c, m)
	}))
	if err != nil {
		return 0, err
	}
	rz, err = p.Spawn("z", runtime.HandlerFunc(func(c *runtime.Context, m any) error {
		return ra.Send(c, m)
	}))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := rz.Send(context.Background(), tick); err != nil {
		return 0, err
	}
	err = wait(done, "ping-pong")
	return time.Since(start), err
}

// Ask implements Contender.
func (Procagent) Ask(reqs int) (d time.Duration, err error) {
	p := newProc()
	defer func() { err = errors.Join(err, closeProc(p)) }()
	r, err := p.Spawn("echo", runtime.HandlerFunc(func(c *runtime.Context, m any) error {
		c.Reply(m)
		return nil
	}))
	if err != nil {
		return 0, err
	}
	ctx := context.Background()
	start := time.Now()
	for range reqs {
		v, err := r.Ask(ctx, tick)
		if err != nil {
			return 0, err
		}
		if v != tick {
			return 0, fmt.Errorf("wrong reply %v", v)
		}
	}
	return time.Since(start), nil
}

// SpawnStop implements Contender.
func (Procagent) SpawnStop(n int) (d time.Duration, bpa float64, err error) {
	p := newProc()
	defer func() { err = errors.Join(err, closeProc(p)) }()
	names := actorNames(n)
	h := runtime.HandlerFunc(func(*runtime.Context, any) error { return nil })
	before := heapAndStacks()
	start := time.Now()
	refs := make([]*runtime.Ref, 0, n)
	for _, name := range names {
		r, err := p.Spawn(name, h)
		if err != nil {
			return 0, 0, err
		}
		refs = append(refs, r)
	}
	spawn := time.Since(start)
	bpa = float64(heapAndStacks()-before) / float64(n)
	start = time.Now()
	for _, r := range refs {
		r.Stop("bench")
	}
	for _, r := range refs {
		if err := wait(r.Done(), "stop"); err != nil {
			return 0, 0, err
		}
	}
	return spawn + time.Since(start), bpa, nil
}
