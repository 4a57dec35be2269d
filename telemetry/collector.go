package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The per-actor families (procagent.actor.queue.depth and its omitted
// count) can hold ActorSeriesCap series, 10,000 or more, and the handler
// histogram is recorded per message. Neither goes through OTel
// instruments: the OTel Prometheus exporter costs about twice client_golang
// per series (benchmark G7 in the README, /otel), and an OTel histogram record ten times
// the atomics of handlerStats (BenchmarkHandlerObserver). Each has one
// source, read at collection time (sampleDepths, handlerStats), and two
// exports under the one name: collector, a client_golang collector on the
// registry, for /metrics; and producer, an OTel metric Producer attached to
// the OTLP reader only, for OTLP. The Prometheus exporter never sees them,
// so nothing is served twice.

// collector serves those families on /metrics.
type collector struct {
	t        *Pipeline
	omitted  *prometheus.Desc
	duration *prometheus.Desc
	depths   *actorLabelCache
}

func newCollector(t *Pipeline) *collector {
	return &collector{
		t:        t,
		omitted:  prometheus.NewDesc(mActorQueueOmitted.Prom, mActorQueueOmitted.Help, nil, nil),
		duration: prometheus.NewDesc(mHandlerDuration.Prom, mHandlerDuration.Help, mHandlerDuration.Labels, nil),
		depths: newActorLabelCache(
			prometheus.NewDesc(mActorQueueDepth.Prom, mActorQueueDepth.Help, mActorQueueDepth.Labels, nil)),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depths.desc
	ch <- c.omitted
	ch <- c.duration
}

// Collect implements prometheus.Collector. The per-actor families are
// collected only after Observe.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.t.handler.each(func(s *typeStats) {
		h := s.snapshot()
		ch <- prometheus.MustNewConstHistogram(c.duration, h.count, h.sum, h.cumulative(), s.typ)
	})
	src := c.t.sources.Load()
	if src == nil {
		return
	}
	var metrics []gaugeMetric
	var omitted int
	sampleDepths(src.proc, c.t.opts.ActorSeriesCap, func(series []actorDepth, om int) {
		metrics = c.depths.metrics(series)
		omitted = om + len(series) - len(metrics)
	})
	for i := range metrics {
		ch <- &metrics[i]
	}
	ch <- prometheus.MustNewConstMetric(c.omitted, prometheus.GaugeValue, float64(omitted))
}
