package runtimes

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// GoBaseline is what every runtime is built on: goroutines and buffered
// chans, with nothing counted and nothing supervised.
type GoBaseline struct{}

// Name implements Contender.
func (GoBaseline) Name() string { return "go" }

// Close implements Contender.
func (GoBaseline) Close() {}

// FanIn implements Contender: producers send into one buffered chan read by
// one goroutine.
func (GoBaseline) FanIn(producers, msgs int) (time.Duration, error) {
	ch := make(chan any, MailboxSize)
	c := newCounter(msgs)
	go func() {
		for m := range ch {
			if m == tick {
				c.add()
			}
		}
	}()
	defer close(ch)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range producers {
		wg.Go(func() {
			for range share(msgs, producers, i) {
				ch <- tick
			}
		})
	}
	wg.Wait()
	err := wait(c.done, "fan-in")
	return time.Since(start), err
}

// PingPong implements Contender: two goroutines bounce a message over two
// buffered chans.
func (GoBaseline) PingPong(msgs int) (time.Duration, error) {
	ca, cz := make(chan any, MailboxSize), make(chan any, MailboxSize)
	done := make(chan struct{})
	go func() { // a: counts the bounces
		n := 0
		for m := range ca {
			if n += 2; n >= msgs {
				close(done)
				return
			}
			cz <- m
		}
	}()
	go func() { // z: sends each message back
		for m := range cz {
			ca <- m
		}
	}()
	start := time.Now()
	cz <- tick
	err := wait(done, "ping-pong")
	d := time.Since(start)
	close(cz)
	return d, err
}

type goRequest struct {
	msg   any
	reply chan any
}

// Ask implements Contender: a request chan carrying a reply chan.
func (GoBaseline) Ask(reqs int) (time.Duration, error) {
	in := make(chan goRequest, MailboxSize)
	go func() {
		for r := range in {
			r.reply <- r.msg
		}
	}()
	defer close(in)
	start := time.Now()
	for range reqs {
		r := goRequest{msg: tick, reply: make(chan any, 1)}
		in <- r
		if <-r.reply != tick {
			return 0, fmt.Errorf("wrong reply")
		}
	}
	return time.Since(start), nil
}

// SpawnStop implements Contender: per actor a goroutine, a chan, a context
// and a map entry, then cancel them all and wait.
func (GoBaseline) SpawnStop(n int) (time.Duration, float64, error) {
	type entry struct {
		mbox   chan any
		cancel context.CancelFunc
		done   chan struct{}
	}
	names := actorNames(n)
	before := heapAndStacks()
	start := time.Now()
	var mu sync.Mutex
	m := make(map[string]*entry, n)
	for _, name := range names {
		ctx, cancel := context.WithCancel(context.Background())
		e := &entry{mbox: make(chan any, MailboxSize), cancel: cancel, done: make(chan struct{})}
		mu.Lock()
		m[name] = e
		mu.Unlock()
		go func() {
			defer close(e.done)
			for {
				select {
				case <-ctx.Done():
					return
				case <-e.mbox:
				}
			}
		}()
	}
	spawn := time.Since(start)
	bpa := float64(heapAndStacks()-before) / float64(n)
	start = time.Now()
	for _, name := range names {
		mu.Lock()
		e := m[name]
		mu.Unlock()
		e.cancel()
	}
	for _, name := range names {
		mu.Lock()
		e := m[name]
		delete(m, name)
		mu.Unlock()
		if err := wait(e.done, "stop"); err != nil {
			return 0, 0, err
		}
	}
	return spawn + time.Since(start), bpa, nil
}

func actorNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("a%d", i)
	}
	return names
}
