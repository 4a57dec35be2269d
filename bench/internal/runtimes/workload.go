package runtimes

import (
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"time"

	"github.com/procagent/procagent/bench/internal/results"
)

// Msg is the one message type every workload sends.
type Msg struct{ N int }

// tick is the message every workload sends: a pointer, boxed once.
var tick any = &Msg{}

// MailboxSize is the mailbox capacity every contender gets where it can
// be set (procagent's default, a raw chan's buffer, protoactor's Bounded
// mailbox, hollywood's initial inbox size: hollywood grows it).
const MailboxSize = 32

// Contender runs the workloads on one runtime. Each method sets up what it
// needs, times only the workload, tears down and returns the time.
type Contender interface {
	Name() string
	// FanIn sends msgs messages from producers goroutines to one actor and
	// returns once the actor has handled them all.
	FanIn(producers, msgs int) (time.Duration, error)
	// PingPong bounces one message between two actors msgs times.
	PingPong(msgs int) (time.Duration, error)
	// Ask makes reqs requests from outside the runtime to one actor, each
	// waiting for its reply.
	Ask(reqs int) (time.Duration, error)
	// SpawnStop spawns n actors, then stops them all and waits for their end.
	// It returns the time of both phases and the memory each live actor held.
	SpawnStop(n int) (time.Duration, float64, error)
	// Close releases what the contender holds between runs.
	Close()
}

// G5 spawns g5Actors actors, g5Rounds times per run.
const (
	g5Actors = 10_000
	g5Rounds = 3
)

// Workload is one of G1–G5 with its size.
type Workload struct {
	ID   string // G1 … G5
	Name string
	// Ops is how many operations one run makes (messages, requests, actors).
	Ops int
	// Unit names one operation.
	Unit string
	run  func(c Contender, ops int) (time.Duration, float64, error)
}

// Workloads returns G1–G5 at the given scale (1 = the default sizes).
func Workloads(scale float64) []Workload {
	n := func(base int) int { return max(int(float64(base)*scale), 1000) }
	fanIn := func(p int) func(Contender, int) (time.Duration, float64, error) {
		return func(c Contender, ops int) (time.Duration, float64, error) {
			d, err := c.FanIn(p, ops)
			return d, 0, err
		}
	}
	return []Workload{
		{ID: "G1", Name: "mailbox 1→1", Ops: n(1_000_000), Unit: "message", run: fanIn(1)},
		{ID: "G2", Name: "fan-in 4→1", Ops: n(1_000_000), Unit: "message", run: fanIn(4)},
		{ID: "G3", Name: "ping-pong", Ops: n(300_000), Unit: "message", run: func(c Contender, ops int) (time.Duration, float64, error) {
			d, err := c.PingPong(ops)
			return d, 0, err
		}},
		{ID: "G4", Name: "request→reply", Ops: n(100_000), Unit: "request", run: func(c Contender, ops int) (time.Duration, float64, error) {
			d, err := c.Ask(ops)
			return d, 0, err
		}},
		// Three rounds of 10,000 per run: one alone is at the mercy of where
		// the garbage collector's pacing happens to be.
		{ID: "G5", Name: "spawn+stop 10,000", Ops: g5Rounds * g5Actors, Unit: "actor", run: func(c Contender, ops int) (time.Duration, float64, error) {
			var total time.Duration
			var bpa float64
			for i := range g5Rounds {
				d, b, err := c.SpawnStop(min(ops/g5Rounds, g5Actors))
				if err != nil {
					return 0, 0, err
				}
				total += d
				if i == 0 {
					bpa = b
				}
			}
			return total, bpa, nil
		}},
	}
}

// Options tune Run.
type Options struct {
	Reps int
	Seed uint64
	// Log, when set, is told about each run.
	Log func(format string, args ...any)
}

// Run runs every workload on every contender opts.Reps times, interleaved:
// each repetition visits the workloads in order and, within one, the
// contenders in an order shuffled by opts.Seed. One untimed warm-up run of
// each pair comes first.
func Run(contenders []Contender, workloads []Workload, opts Options) ([]results.Series, error) {
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)) //nolint:gosec // G404: a reproducible order, not a secret
	series := make(map[[2]string]*results.Series)
	var order [][2]string
	for _, w := range workloads {
		for _, c := range contenders {
			k := [2]string{w.ID, c.Name()}
			series[k] = &results.Series{Workload: w.ID, Name: w.Name, Unit: w.Unit, Ops: w.Ops, Contender: c.Name()}
			order = append(order, k)
			if _, _, err := w.run(c, max(w.Ops/10, 1000)); err != nil {
				return nil, fmt.Errorf("warm up %s on %s: %w", w.ID, c.Name(), err)
			}
		}
	}
	for rep := range opts.Reps {
		for _, w := range workloads {
			idx := rng.Perm(len(contenders))
			for _, i := range idx {
				c := contenders[i]
				goruntime.GC()
				d, bpa, err := w.run(c, w.Ops)
				if err != nil {
					return nil, fmt.Errorf("%s on %s: %w", w.ID, c.Name(), err)
				}
				s := results.Sample{Rep: rep, NsPerOp: float64(d.Nanoseconds()) / float64(w.Ops), BytesPerActor: bpa}
				series[[2]string{w.ID, c.Name()}].Samples = append(series[[2]string{w.ID, c.Name()}].Samples, s)
				logf("rep %d %s %-10s %10.1f ns/%s", rep+1, w.ID, c.Name(), s.NsPerOp, w.Unit)
			}
		}
	}
	out := make([]results.Series, 0, len(order))
	for _, k := range order {
		out = append(out, *series[k])
	}
	return out, nil
}

// heapAndStacks is the memory in use by heap objects and goroutine stacks.
func heapAndStacks() int64 {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse) //nolint:gosec // G115: far below 2^63 bytes
}

// share is producer i's part of n messages.
func share(n, producers, i int) int {
	s := n / producers
	if i == 0 {
		s += n % producers
	}
	return s
}

// counter counts messages and closes done at the nth. It is touched only
// by the actor that owns it.
type counter struct {
	n, seen int
	done    chan struct{}
}

func newCounter(n int) *counter { return &counter{n: n, done: make(chan struct{})} }

func (c *counter) add() {
	if c.seen++; c.seen == c.n {
		close(c.done)
	}
}

// waitTimeout is the bound on any one wait inside a run: a runtime that
// loses a message fails the run instead of hanging the benchmark.
const waitTimeout = 2 * time.Minute

func wait(ch <-chan struct{}, what string) error {
	t := time.NewTimer(waitTimeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return fmt.Errorf("%s: no end after %s", what, waitTimeout)
	}
}
