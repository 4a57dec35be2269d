package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// producer pushes the families served outside OTel instruments (see
// collector.go) over OTLP: the periodic OTLP reader calls it at each
// export, and no other reader has it.
type producer struct{ t *Pipeline }

// Produce implements sdkmetric.Producer.
func (p *producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	now := time.Now()
	var metrics []metricdata.Metrics
	if h := p.handlerDurations(now); len(h.DataPoints) > 0 {
		metrics = append(metrics, metricdata.Metrics{
			Name: mHandlerDuration.OTel, Description: mHandlerDuration.Help, Unit: mHandlerDuration.Unit, Data: h,
		})
	}
	if src := p.t.sources.Load(); src != nil {
		var depths []metricdata.DataPoint[int64]
		var omitted int
		sampleDepths(src.proc, p.t.opts.ActorSeriesCap, func(series []actorDepth, om int) {
			depths = make([]metricdata.DataPoint[int64], len(series))
			for i, s := range series {
				depths[i] = metricdata.DataPoint[int64]{
					Attributes: attribute.NewSet(attribute.String(labelActor, s.name), attribute.String(labelActorType, s.typ)),
					Time:       now,
					Value:      s.depth,
				}
			}
			omitted = om
		})
		if len(depths) > 0 {
			metrics = append(metrics, gaugeData(mActorQueueDepth, depths))
		}
		metrics = append(metrics, gaugeData(mActorQueueOmitted, []metricdata.DataPoint[int64]{{Time: now, Value: int64(omitted)}}))
	}
	if len(metrics) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{
		Scope:   instrumentation.Scope{Name: scopeName, Version: p.t.opts.ServiceVersion},
		Metrics: metrics,
	}}, nil
}

// handlerDurations is the handler histogram, cumulative since each type's
// first message.
func (p *producer) handlerDurations(now time.Time) metricdata.Histogram[float64] {
	out := metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality}
	p.t.handler.each(func(s *typeStats) {
		h := s.snapshot()
		out.DataPoints = append(out.DataPoints, metricdata.HistogramDataPoint[float64]{
			Attributes:   s.attrs,
			StartTime:    s.start,
			Time:         now,
			Count:        h.count,
			Bounds:       handlerBuckets,
			BucketCounts: h.counts,
			Sum:          h.sum,
		})
	})
	return out
}

func gaugeData(s metricSpec, points []metricdata.DataPoint[int64]) metricdata.Metrics {
	return metricdata.Metrics{Name: s.OTel, Description: s.Help, Unit: s.Unit, Data: metricdata.Gauge[int64]{DataPoints: points}}
}
