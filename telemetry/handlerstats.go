package telemetry

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/runtime"
)

// handlerBuckets are the handler duration histogram's upper bounds, in
// seconds: from 10 µs (an echo) to 10 s (a slow handler).
var handlerBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// handlerBoundsNS are handlerBuckets in nanoseconds, for the hot path.
var handlerBoundsNS = func() []int64 {
	out := make([]int64, len(handlerBuckets))
	for i, b := range handlerBuckets {
		out[i] = int64(b * float64(time.Second))
	}
	return out
}()

// HandlerObserver returns the runtime.HandlerObserver that feeds the
// handler duration histogram and the messages-handled counter. Give it to
// runtime.NewProc with runtime.WithHandlerObserver. It never blocks and
// costs three atomic adds per message: the histogram is kept here, in
// atomics, and read at collection time (an OTel SDK histogram record costs
// ten times more), then served on /metrics by the collector and pushed
// over OTLP by the producer, under the one name.
func (t *Pipeline) HandlerObserver() runtime.HandlerObserver { return handlerObserver{t.handler} }

type handlerObserver struct{ hs *handlerStats }

// Handled counts the message and its handler's duration.
func (h handlerObserver) Handled(actorType string, d time.Duration, failed bool) {
	s := h.hs.get(actorType)
	ns := max(int64(d), 0)
	i, _ := slices.BinarySearch(handlerBoundsNS, ns) // the first bound ≥ ns; len for +Inf
	s.buckets[i].Add(1)
	s.sumNS.Add(ns)
	if failed {
		s.failed.Add(1)
	} else {
		s.ok.Add(1)
	}
}

// handlerStats are the handler counts per actor type. Types come from the
// spawn registry, so the map stays small.
type handlerStats struct {
	types sync.Map // actor type → *typeStats
}

func newHandlerStats() *handlerStats { return &handlerStats{} }

// typeStats are one actor type's handler histogram and counts.
type typeStats struct {
	typ   string
	start time.Time // when counting began: the histogram's start time
	// buckets[i] counts durations in (bound[i-1], bound[i]]; the last one
	// those above every bound.
	buckets []atomic.Uint64
	sumNS   atomic.Int64
	ok      atomic.Uint64
	failed  atomic.Uint64

	attrs            attribute.Set // actor_type, for OTLP
	okObs, failedObs metric.ObserveOption
}

// get returns the stats of typ, making them on first use.
func (h *handlerStats) get(typ string) *typeStats {
	if s, ok := h.types.Load(typ); ok {
		return s.(*typeStats)
	}
	s := &typeStats{
		typ:     typ,
		start:   time.Now(),
		buckets: make([]atomic.Uint64, len(handlerBoundsNS)+1),
		attrs:   attribute.NewSet(attribute.String(labelActorType, typ)),
		okObs: metric.WithAttributeSet(attribute.NewSet(
			attribute.String(labelActorType, typ), attribute.String(labelError, "false"))),
		failedObs: metric.WithAttributeSet(attribute.NewSet(
			attribute.String(labelActorType, typ), attribute.String(labelError, "true"))),
	}
	actual, _ := h.types.LoadOrStore(typ, s)
	return actual.(*typeStats)
}

// each calls f for every actor type seen, in no particular order.
func (h *handlerStats) each(f func(*typeStats)) {
	h.types.Range(func(_, v any) bool {
		f(v.(*typeStats))
		return true
	})
}

// observe reports the messages-handled counts: error="false" always,
// error="true" once a handler of the type has failed.
func (h *handlerStats) observe(obs metric.Int64Observer) {
	h.each(func(s *typeStats) {
		obs.Observe(toInt64(s.ok.Load()), s.okObs)
		if n := s.failed.Load(); n > 0 {
			obs.Observe(toInt64(n), s.failedObs)
		}
	})
}

// histogram is a snapshot of one type's histogram: per-bucket counts, their
// total (so count and buckets always agree) and the sum in seconds.
type histogram struct {
	counts []uint64
	count  uint64
	sum    float64
}

func (s *typeStats) snapshot() histogram {
	h := histogram{counts: make([]uint64, len(s.buckets))}
	for i := range s.buckets {
		h.counts[i] = s.buckets[i].Load()
		h.count += h.counts[i]
	}
	h.sum = time.Duration(s.sumNS.Load()).Seconds()
	return h
}

// cumulative returns the Prometheus buckets: upper bound → count at or
// below it.
func (h histogram) cumulative() map[float64]uint64 {
	out := make(map[float64]uint64, len(handlerBuckets))
	var acc uint64
	for i, b := range handlerBuckets {
		acc += h.counts[i]
		out[b] = acc
	}
	return out
}

// toInt64 converts a count to int64, saturating.
func toInt64(v uint64) int64 { return int64(min(v, 1<<63-1)) }
