package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/runtime"
)

// Observer returns the procagent.Observer that counts spawns, stops and
// supervision events, traces each actor's lifetime, and asks the memory
// republish for a fresh sample after a supervision event. Give it to
// procagent.New with procagent.WithObserver. Its methods run under the
// agent's lock: they only add to counters, touch span bookkeeping and
// signal channels, and never block or call back into the agent.
func (t *Telemetry) Observer() procagent.Observer { return observer{t} }

type observer struct{ t *Telemetry }

// Transition counts a create (generation 1) as a spawn, failed or not, and
// a move to STOPPING as a stop; it opens, extends and ends the actor's
// spans accordingly. A spawn triggers a coalesced memory republish, as a
// supervision event does, so a new worker's memory shows without waiting
// for the periodic timer.
func (o observer) Transition(st procagent.State) {
	t := o.t
	ctx := context.Background()
	switch {
	case st.Generation == 1:
		t.inst.spawns.Add(ctx, 1, t.inst.errOpt(st.Status.IsFailure())...)
		t.spans.spawn(st)
		t.triggerMemory() // a new process may have started (the seed's post-spawn republish)
	case st.Status == runtime.StatusStopping:
		t.inst.stops.Add(ctx, 1)
		t.spans.stop(st)
	case st.Status.IsTerminated():
		t.spans.end(st)
	}
}

// Supervised counts the event by status and error, and triggers a
// coalesced memory republish (the process set changed).
func (o observer) Supervised(ev runtime.SupervisionEvent) {
	t := o.t
	t.inst.supervision.Add(context.Background(), 1, metric.WithAttributeSet(attribute.NewSet(
		attribute.String(labelStatus, ev.Status.String()),
		attribute.String(labelError, boolString(ev.IsError())),
	)))
	t.triggerMemory()
}

// triggerMemory asks for a coalesced memory republish; it never blocks.
func (t *Telemetry) triggerMemory() {
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
