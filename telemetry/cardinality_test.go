package telemetry

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// overflowKey is the attribute the OTel SDK puts on the series it folds
// when an instrument exceeds its cardinality limit.
const overflowKey = "otel.metric.overflow"

// TestCardinality10k: with the cap raised, 10,000 live actors give 10,000
// per-actor series on /metrics and over OTLP, and an SDK instrument with a
// series per actor (as the memory gauges have) keeps all 10,000 too:
// nothing is folded into an overflow series.
func TestCardinality10k(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 actors")
	}
	const n = 10_000
	sink := startOTLPSink(t)
	f := newFixture(t, Options{OTLPEndpoint: sink.endpoint, ExportInterval: time.Hour, ActorSeriesCap: n})
	for i := range n {
		f.create(t, actorName(i), "echo", nil)
	}
	sets := make([]metric.ObserveOption, n)
	for i := range sets {
		sets[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String(labelActor, actorName(i))))
	}
	if _, err := f.tel.Meter().Int64ObservableGauge("procagent.test.per_actor",
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			for _, s := range sets {
				o.Observe(1, s)
			}
			return nil
		})); err != nil {
		t.Fatal(err)
	}

	body := scrape(t, f.tel.MetricsHandler())
	for _, family := range []string{mActorQueueDepth.Prom, "procagent_test_per_actor"} {
		if got := countSeries(body, family+"{"); got != n {
			t.Errorf("/metrics has %d %s series, want %d", got, family, n)
		}
	}
	if strings.Contains(body, "otel_metric_overflow") {
		t.Error("/metrics has an overflow series")
	}
	if !strings.Contains(body, mActorQueueOmitted.Prom+" 0\n") {
		t.Errorf("%s is not 0", mActorQueueOmitted.Prom)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.tel.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{mActorQueueDepth.OTel, "procagent.test.per_actor"} {
		pts := sink.points(name)
		if len(pts) != n {
			t.Errorf("OTLP has %d %s points, want %d", len(pts), name, n)
		}
		for _, p := range pts {
			if _, ok := p.attrs[overflowKey]; ok {
				t.Errorf("OTLP %s has an overflow point", name)
				break
			}
		}
	}
}
