package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// g7Actors is the number of actor series of benchmark G7.
const g7Actors = 10_000

// BenchmarkG7_Metrics is goal G7: gather and encode /metrics with 10,000
// per-actor queue-depth series. /actor is this package's handler over a
// real proc and agent with 10,000 live echo actors (and everything else it
// serves: the proc gauges, counters, histograms, target_info, process_* and
// go_*); /baseline is client_golang at its cheapest, one GaugeVec holding
// the same 10,000 series beside the same process and Go collectors, served
// by the same promhttp handler. Target: actor ≤ 1.2 × baseline.
func BenchmarkG7_Metrics(b *testing.B) {
	f := newFixture(b, Options{ActorSeriesCap: g7Actors, Logger: slog.New(slog.DiscardHandler)})
	for i := range g7Actors {
		f.create(b, actorName(i), "echo", nil)
	}
	vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mActorQueueDepth.Prom, Help: mActorQueueDepth.Help}, mActorQueueDepth.Labels)
	for i := range g7Actors {
		vec.WithLabelValues(actorName(i), "echo").Set(0)
	}
	baseline := prometheus.NewRegistry()
	baseline.MustRegister(vec)
	for _, c := range selfCollectors() {
		baseline.MustRegister(c)
	}

	b.Run("actor", func(b *testing.B) { benchScrape(b, f.tel.MetricsHandler(), g7Actors) })
	b.Run("baseline", func(b *testing.B) {
		benchScrape(b, newMetricsHandler(baseline, slog.New(slog.DiscardHandler)), g7Actors)
	})
	b.Run("otel", benchOTelExporter)
}

// benchOTelExporter is for reference, not part of the goal: the same
// 10,000 series as an OTel observable gauge (attribute sets made once)
// served through the OTel Prometheus exporter, the path the per-actor
// family does not take.
func benchOTelExporter(b *testing.B) {
	reg := prometheus.NewRegistry()
	for _, c := range selfCollectors() {
		reg.MustRegister(c)
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		b.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithCardinalityLimit(g7Actors+1))
	defer func() {
		if err := mp.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	}()
	sets := make([]metric.ObserveOption, g7Actors)
	for i := range sets {
		sets[i] = metric.WithAttributeSet(attribute.NewSet(
			attribute.String(labelActor, actorName(i)), attribute.String(labelActorType, "echo")))
	}
	_, err = mp.Meter("g7").Int64ObservableGauge(mActorQueueDepth.OTel, metric.WithUnit(mActorQueueDepth.Unit),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			for _, s := range sets {
				o.Observe(0, s)
			}
			return nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	benchScrape(b, newMetricsHandler(reg, slog.New(slog.DiscardHandler)), g7Actors)
}

func actorName(i int) string { return fmt.Sprintf("a%05d", i) }

// benchScrape serves /metrics b.N times and checks the first answer holds
// the actor series.
func benchScrape(b *testing.B, h http.Handler, wantSeries int) {
	b.Helper()
	body := scrape(b, h)
	if got := countSeries(body, mActorQueueDepth.Prom+"{"); got != wantSeries {
		b.Fatalf("scrape has %d %s series, want %d", got, mActorQueueDepth.Prom, wantSeries)
	}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := discardWriter{header: http.Header{}}
		h.ServeHTTP(&w, req)
	}
}

// discardWriter is a ResponseWriter that drops the body, so the benchmark
// measures gather and encode, not a recorder's buffer.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return io.Discard.Write(p) }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkHandlerObserver is the per-message cost the telemetry adds to
// a handler call (the runtime's clock reads excepted).
func BenchmarkHandlerObserver(b *testing.B) {
	tel, err := New(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	}()
	obs := tel.HandlerObserver()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			obs.Handled("echo", 3*time.Microsecond, false)
		}
	})
}
