package telemetry

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/procagent/procagent/runtime"
)

// Span and span event names.
const (
	spanActor        = "procagent.actor"
	spanSpawn        = "procagent.spawn"
	spanStop         = "procagent.stop"
	spanStopAll      = "procagent.stop_all"
	eventSupervision = "procagent.supervision"
	eventOrphaned    = "procagent.orphaned"
)

// Span attribute keys: OTel semantic conventions where one exists.
const (
	attrActorID    = attribute.Key("procagent.actor.id")
	attrActorType  = attribute.Key("procagent.actor.type")
	attrCreateRank = attribute.Key("procagent.actor.create_rank")
	attrStatus     = attribute.Key("procagent.actor.status")
	attrReason     = attribute.Key("procagent.supervision.reason")
	attrSignal     = attribute.Key("procagent.supervision.signal")
	attrExitCode   = attribute.Key("process.exit.code")
	attrStopping   = attribute.Key("procagent.stop_all.stopping")
	attrProcessPid = attribute.Key("process.pid")
)

// lifetimes traces actors. Each actor gets a procagent.actor span from its
// create to its terminal state, the root of its own trace, with two
// children: procagent.spawn at the create and procagent.stop from the stop
// request to the end. The supervision event is a span event on the actor
// span and on the stop span, with an error status on failure. Only live
// actors are kept (keyed by id, removed at the end), and nothing at all
// when spans are not recorded.
type lifetimes struct {
	tracer trace.Tracer
	procID string

	mu     sync.Mutex
	live   map[string]*lifetime
	closed bool
}

// lifetime is one live actor's open spans.
type lifetime struct {
	ctx   context.Context // carries the actor span
	actor trace.Span
	stop  trace.Span // nil until a stop is requested
}

func newLifetimes(tracer trace.Tracer, procID string) *lifetimes {
	return &lifetimes{tracer: tracer, procID: procID, live: make(map[string]*lifetime)}
}

// attrs are an actor span's attributes.
func (l *lifetimes) attrs(id, actorType string, rank uint64, pid int) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attrActorID.String(id), resProcID.String(l.procID),
		attrActorType.String(actorType), attrCreateRank.Int64(int64(min(rank, 1<<63-1))),
	}
	if pid != 0 {
		kv = append(kv, attrProcessPid.Int(pid))
	}
	return kv
}

// spawn opens the actor span and records the spawn span; a failed spawn
// ends both at once, with an error status.
func (l *lifetimes) spawn(id, actorType string, rank uint64, pid int, spawnErr error) {
	attrs := l.attrs(id, actorType, rank, pid)
	ctx, actor := l.tracer.Start(context.Background(), spanActor, trace.WithNewRoot(), trace.WithAttributes(attrs...))
	_, spawn := l.tracer.Start(ctx, spanSpawn, trace.WithAttributes(attrs...))
	if spawnErr != nil {
		for _, sp := range []trace.Span{spawn, actor} {
			sp.SetAttributes(attrStatus.String(runtime.StatusFailed.String()))
			sp.SetStatus(codes.Error, spawnErr.Error())
			sp.End()
		}
		return
	}
	spawn.End()
	if !actor.IsRecording() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		actor.End()
		return
	}
	if old := l.live[id]; old != nil { // a forgotten id created again
		old.end()
	}
	l.live[id] = &lifetime{ctx: ctx, actor: actor}
}

// stop opens the stop span of a live actor, once.
func (l *lifetimes) stop(id, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lt := l.live[id]
	if lt == nil || lt.stop != nil {
		return
	}
	_, lt.stop = l.tracer.Start(lt.ctx, spanStop, trace.WithAttributes(attrActorID.String(id), attrReason.String(reason)))
}

// orphaned adds an event to a live actor's span: its keepalive lapsed.
func (l *lifetimes) orphaned(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lt := l.live[id]; lt != nil {
		lt.actor.AddEvent(eventOrphaned)
	}
}

// stopAll records a StopAll as a span of its own (an instant).
func (l *lifetimes) stopAll(reason string, stopping int) {
	_, sp := l.tracer.Start(context.Background(), spanStopAll, trace.WithNewRoot(), trace.WithAttributes(
		resProcID.String(l.procID), attrReason.String(reason), attrStopping.Int(stopping)))
	sp.End()
}

// end records the supervision event and ends the actor's spans.
func (l *lifetimes) end(ev runtime.SupervisionEvent) {
	l.mu.Lock()
	lt := l.live[ev.Actor]
	delete(l.live, ev.Actor)
	l.mu.Unlock()
	if lt == nil {
		return
	}
	event := []trace.EventOption{trace.WithTimestamp(ev.Time), trace.WithAttributes(eventAttrs(ev)...)}
	for _, sp := range []trace.Span{lt.stop, lt.actor} {
		if sp == nil {
			continue
		}
		sp.SetAttributes(attrStatus.String(ev.Status.String()))
		sp.AddEvent(eventSupervision, event...)
		if ev.IsError() {
			sp.SetStatus(codes.Error, ev.Reason)
		}
		sp.End()
	}
}

// eventAttrs are a supervision event's span event attributes.
func eventAttrs(ev runtime.SupervisionEvent) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attrStatus.String(ev.Status.String()),
		attrReason.String(ev.Reason),
	}
	if ev.ExitCode != nil {
		kv = append(kv, attrExitCode.Int(*ev.ExitCode))
	}
	if ev.Signal != "" {
		kv = append(kv, attrSignal.String(ev.Signal))
	}
	return kv
}

// close ends the spans of actors still alive (at shutdown) and keeps no
// more.
func (l *lifetimes) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for id, lt := range l.live {
		lt.end()
		delete(l.live, id)
	}
}

// end ends the open spans as they are.
func (lt *lifetime) end() {
	if lt.stop != nil {
		lt.stop.End()
	}
	lt.actor.End()
}
