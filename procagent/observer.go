package procagent

import (
	"context"

	"github.com/procagent/procagent/runtime"
)

// Observer is told of the agent's lifecycle events as they happen;
// telemetry implements it. Its methods take standard and runtime types
// only, so an observer need not import procagent. The events are called
// with the agent's lock held, in the order they happen: they must not
// block nor call back into the agent.
type Observer interface {
	// Attach is called once, by New, before any event, with the agent's
	// proc and its read side: counts returns the tracked resources by
	// status and how many actors failed by a supervision event (the proc
	// is poisoned iff failed > 0). counts takes the agent's lock, so call
	// it at collection time, never from an event.
	Attach(proc *runtime.Proc, counts func() (byStatus runtime.StatusCounts, failed int))
	// Created reports a new resource: its actor type, the rank that
	// created it, the actor's pid when it is a process (0 otherwise or not
	// yet known), and the spawn's error (unknown type, bad params, a
	// poisoned proc), nil when the actor was spawned.
	Created(id, actorType string, rank uint64, pid int, spawnErr error)
	// StopRequested reports a stop asked of a live actor, by Stop, StopAll
	// or the orphan sweep, with its reason. It comes once per actor.
	StopRequested(id, reason string)
	// Ended reports an actor's end: its supervision event (ev.Actor is
	// the id). Every supervision event the agent receives is reported.
	Ended(ev runtime.SupervisionEvent)
	// Orphaned reports an actor whose keepalive lapsed; StopRequested
	// with reason "orphaned" follows.
	Orphaned(id string)
	// StoppingAll reports StopAll's first call: its reason and how many
	// live actors it asks to stop (their StopRequested events follow).
	StoppingAll(reason string, stopping int)
}

// NopObserver observes nothing.
type NopObserver struct{}

// Attach does nothing.
func (NopObserver) Attach(*runtime.Proc, func() (runtime.StatusCounts, int)) {}

// Created does nothing.
func (NopObserver) Created(string, string, uint64, int, error) {}

// StopRequested does nothing.
func (NopObserver) StopRequested(string, string) {}

// Ended does nothing.
func (NopObserver) Ended(runtime.SupervisionEvent) {}

// Orphaned does nothing.
func (NopObserver) Orphaned(string) {}

// StoppingAll does nothing.
func (NopObserver) StoppingAll(string, int) {}

// Flusher flushes telemetry before the agent exits; telemetry implements it.
type Flusher interface {
	Flush(ctx context.Context) error
}

// FlusherFunc adapts a function to Flusher.
type FlusherFunc func(ctx context.Context) error

// Flush calls f.
func (f FlusherFunc) Flush(ctx context.Context) error { return f(ctx) }
