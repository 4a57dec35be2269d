package telemetry

import (
	"context"
	"os"
	"slices"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/runtime"
)

// ProcSource is what Pipeline reads of the proc at collection time;
// *runtime.Proc implements it. Both reads scan atomics and never block
// spawn or stop.
type ProcSource interface {
	Stats() runtime.Stats
	Sample(f func(runtime.ActorSample))
}

// sources are what the collection-time metrics read, set once by Attach.
type sources struct {
	proc   ProcSource
	counts func() (runtime.StatusCounts, int)
}

// processRefs lists the processes whose memory is republished: the agent
// itself (actor "") and, once attached, every process-backed actor. It
// runs on the memory reporter's goroutine. A worker's pid is known only
// once its actor's Init has started it, after the Created event: while an
// actor is still initializing, processRefs asks for another coalesced
// republish, so a new worker's memory shows within a window or two of its
// start rather than at the next periodic one.
func (t *Pipeline) processRefs() []ProcessRef {
	refs := []ProcessRef{{Pid: os.Getpid()}}
	initializing := false
	if src := t.sources.Load(); src != nil {
		src.proc.Sample(func(s runtime.ActorSample) {
			switch {
			case s.Pid != 0:
				refs = append(refs, ProcessRef{Actor: s.Name, Pid: s.Pid})
			case s.Status == runtime.StatusInitializing:
				initializing = true
			}
		})
	}
	if initializing {
		t.triggerMemory()
	}
	return refs
}

// observeProc is the callback of the proc and agent gauges; before Attach
// it reports nothing.
func (t *Pipeline) observeProc(_ context.Context, o metric.Observer) error {
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
	counts, failed := src.counts()
	o.ObserveInt64(in.poisoned, boolInt(failed > 0))
	o.ObserveInt64(in.failedActors, int64(failed))
	for s, n := range counts {
		status := runtime.Status(s)
		if n > 0 || slices.Contains(reportedStatuses, status) {
			o.ObserveInt64(in.actors, int64(n), in.byStatus[status])
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
