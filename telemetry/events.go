package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/runtime"
)

// Pipeline implements procagent.Observer with the methods below: cmd/agent
// gives it to procagent.New (procagent.WithObserver), which attaches it.
// They run under the agent's lock: they only add to counters, touch span
// bookkeeping and signal channels, and never block or call back into the
// agent.

// Attach starts the collection-time metrics of proc and of the agent's
// counts: queue depths, per-actor depths (capped), actors by status, the
// poisoned flag, and the memory republish of every process-backed actor.
// Nothing is pushed per message: everything is read when a reader
// collects. Only the first Attach counts; one after Shutdown does nothing.
func (t *Pipeline) Attach(proc *runtime.Proc, counts func() (byStatus runtime.StatusCounts, failed int)) {
	if proc == nil || counts == nil {
		return
	}
	t.sources.CompareAndSwap(nil, &sources{proc: proc, counts: counts})
	t.triggerMemory() // the actors' processes join the republish
}

// Created counts a spawn (error=true when it failed), records its spans,
// and asks for a coalesced memory republish: a new worker process may have
// started, and its memory shows without waiting for the periodic timer.
func (t *Pipeline) Created(id, actorType string, rank uint64, pid int, spawnErr error) {
	t.inst.spawns.Add(context.Background(), 1, t.inst.errOpt(spawnErr != nil)...)
	t.spans.spawn(id, actorType, rank, pid, spawnErr)
	t.triggerMemory()
}

// StopRequested counts a stop and opens the actor's stop span.
func (t *Pipeline) StopRequested(id, reason string) {
	t.inst.stops.Add(context.Background(), 1)
	t.spans.stop(id, reason)
}

// Ended counts the supervision event by status and error, ends the actor's
// spans with it, and asks for a coalesced memory republish (the process
// set changed).
func (t *Pipeline) Ended(ev runtime.SupervisionEvent) {
	t.inst.supervision.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String(labelStatus, ev.Status.String()),
		attribute.String(labelError, boolString(ev.IsError())),
	)))
	t.spans.end(ev)
	t.triggerMemory()
}

// Orphaned marks the actor's span: its keepalive lapsed.
func (t *Pipeline) Orphaned(id string) { t.spans.orphaned(id) }

// StoppingAll records the start of a StopAll as a span of its own.
func (t *Pipeline) StoppingAll(reason string, stopping int) { t.spans.stopAll(reason, stopping) }

// triggerMemory asks for a coalesced memory republish; it never blocks.
func (t *Pipeline) triggerMemory() {
	if m := t.memory.Load(); m != nil {
		m.Trigger()
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
