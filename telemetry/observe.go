package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/runtime"
)

// ProcSource is what Telemetry reads of the proc at collection time;
// *runtime.Proc implements it. Both reads scan atomics and never block
// spawn or stop.
type ProcSource interface {
	Stats() runtime.Stats
	Sample(f func(runtime.ActorSample))
}

// AgentSource is what Telemetry reads of the agent at collection time;
// *procagent.Agent implements it.
type AgentSource interface {
	Poisoned() (poisoned bool, failed int)
	List() []procagent.ListEntry
}

// ErrObserved reports a second Observe, or one after Shutdown.
var ErrObserved = errors.New("telemetry already observing or shut down")

// sources are what the collection-time metrics read.
type sources struct {
	proc  ProcSource
	agent AgentSource
}

// Observe starts the collection-time metrics of proc and agent: queue
// depths, per-actor depths (capped), actors by status, the poisoned flag,
// and the memory republish of the agent and of every process-backed actor
// (at once, every MemoryInterval when positive, and after supervision
// events). Nothing is pushed per message: everything is read from the
// runtime's atomics when a reader collects. Call it once, after the agent
// is built; a second call is ErrObserved.
func (t *Telemetry) Observe(proc ProcSource, agent AgentSource) error {
	if proc == nil || agent == nil {
		return errors.New("observe: nil proc or agent")
	}
	err := ErrObserved
	t.observed.Do(func() { err = t.observe(proc, agent) })
	return err
}

func (t *Telemetry) observe(proc ProcSource, agent AgentSource) error {
	mem, err := NewMemoryReporter(t.meter, t.opts.ProcID, t.opts.MemoryInterval, processRefs(proc),
		WithMemoryLogger(t.log))
	if err != nil {
		return fmt.Errorf("observe: %w", err)
	}
	in := t.inst
	if _, err := t.meter.RegisterCallback(t.observeProc,
		in.queueDepth, in.queueDepthMax, in.queueHighWater, in.queueAge,
		in.actors, in.poisoned, in.failedActors,
	); err != nil {
		return errors.Join(fmt.Errorf("observe: register callback: %w", err), mem.Shutdown(context.Background()))
	}
	t.sources.Store(&sources{proc: proc, agent: agent})
	t.memory.Store(mem)
	mem.Start(context.Background())
	return nil
}

// processRefs lists the processes whose memory is republished: the agent
// itself (actor "") and every process-backed actor.
func processRefs(proc ProcSource) func() []ProcessRef {
	self := os.Getpid()
	return func() []ProcessRef {
		refs := []ProcessRef{{Pid: self}}
		proc.Sample(func(s runtime.ActorSample) {
			if s.Pid != 0 {
				refs = append(refs, ProcessRef{Actor: s.Name, Pid: s.Pid})
			}
		})
		return refs
	}
}

// observeProc is the callback of the proc and agent gauges.
func (t *Telemetry) observeProc(_ context.Context, o metric.Observer) error {
	src := t.sources.Load()
	if src == nil {
		return nil
	}
	in := t.inst
	st := src.proc.Stats()
	o.ObserveInt64(in.queueDepth, st.QueueDepthTotal)
	o.ObserveInt64(in.queueDepthMax, st.QueueDepthMax)
	o.ObserveInt64(in.queueHighWater, st.QueueDepthHighWater)
	switch {
	case st.QueueDepthTotal > 0:
		o.ObserveFloat64(in.queueAge, 0)
	case !st.LastNonzero.IsZero():
		o.ObserveFloat64(in.queueAge, max(time.Since(st.LastNonzero), 0).Seconds())
	}
	poisoned, failed := src.agent.Poisoned()
	o.ObserveInt64(in.poisoned, boolInt(poisoned))
	o.ObserveInt64(in.failedActors, int64(failed))

	var counts [runtime.StatusUnknown + 1]int64
	for _, e := range src.agent.List() {
		if e.Status >= 0 && e.Status <= runtime.StatusUnknown {
			counts[e.Status]++
		}
	}
	for _, s := range reportedStatuses {
		o.ObserveInt64(in.actors, counts[s], in.byStatus[s])
		counts[s] = -1
	}
	for s, n := range counts {
		if n > 0 {
			o.ObserveInt64(in.actors, n, in.byStatus[runtime.Status(s)])
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
