package testenv

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestPrometheusScrapesItself(t *testing.T) {
	t.Parallel()
	addr := FreeAddr(t)
	p := StartPrometheus(t, []string{addr}, time.Second, WithPrometheusListenAddr(addr))

	// The first scrape lands about 5 s after the start.
	got := p.WaitFor(t, `up{job="procagent"}`, func(s []Sample) bool {
		return len(s) == 1 && s[0].Value == 1
	}, 30*time.Second)
	if inst := got[0].Labels["instance"]; inst != addr {
		t.Errorf("up: instance = %q, want %q", inst, addr)
	}

	if _, err := p.Query(t.Context(), `up{`); err == nil {
		t.Errorf("Query(%q): no error for a malformed query", `up{`)
	}
	s, err := p.Query(t.Context(), `scalar(vector(2))`)
	if err != nil || len(s) != 1 || s[0].Value != 2 {
		t.Errorf("Query(scalar(vector(2))) = %v, %v; want one sample of 2", s, err)
	}
}

// pusher is the OTel SDK set up as the agent sets it up: a meter provider exporting with
// otlpmetricgrpc and a tracer provider exporting with otlptracegrpc, both to the collector.
type pusher struct {
	mp    *sdkmetric.MeterProvider
	tp    *sdktrace.TracerProvider
	gauge metric.Int64Gauge
}

func newPusher(t *testing.T, endpoint string) *pusher {
	t.Helper()
	ctx := t.Context()
	res := resource.NewSchemaless(attribute.String("service.name", "testenv"))
	mexp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatalf("otlpmetricgrpc: %v", err)
	}
	// Exports only on ForceFlush: the test decides when.
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp, sdkmetric.WithInterval(time.Hour))),
	)
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatalf("otlptracegrpc: %v", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := mp.Shutdown(ctx); err != nil {
			t.Errorf("meter provider shutdown: %v", err)
		}
		if err := tp.Shutdown(ctx); err != nil {
			t.Errorf("tracer provider shutdown: %v", err)
		}
	})
	gauge, err := mp.Meter("testenv").Int64Gauge("testenv.gauge", metric.WithUnit("By"))
	if err != nil {
		t.Fatalf("gauge: %v", err)
	}
	return &pusher{mp: mp, tp: tp, gauge: gauge}
}

// push records v on the gauge and ends a span carrying v, then flushes both; flushes that
// fail (the collector restarting) are retried until timeout. It returns the span's context.
func (p *pusher) push(t *testing.T, v int64, timeout time.Duration) trace.SpanContext {
	t.Helper()
	ctx := t.Context()
	p.gauge.Record(ctx, v, metric.WithAttributes(attribute.String("round", "r"+time.Now().Format("150405.000"))))
	_, span := p.tp.Tracer("testenv").Start(ctx, "testenv.push", trace.WithAttributes(attribute.Int64("value", v)))
	span.AddEvent("pushed", trace.WithAttributes(attribute.Int64("value", v)))
	span.SetStatus(codes.Error, "on purpose")
	span.End()
	deadline := time.Now().Add(timeout)
	for {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := p.mp.ForceFlush(fctx)
		if err == nil {
			err = p.tp.ForceFlush(fctx)
		}
		cancel()
		if err == nil {
			return span.SpanContext()
		}
		if time.Now().After(deadline) {
			t.Fatalf("flush: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestCollectorReceivesAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	c := StartCollector(t)
	p := newPusher(t, c.Endpoint())

	first := p.push(t, 42, 30*time.Second)
	gauge := c.WaitForMetric(t, "testenv.gauge", func(pt Point) bool { return pt.Value == 42 }, 10*time.Second)
	if gauge.Kind != "gauge" || gauge.Unit != "By" || gauge.Resource["service.name"] != "testenv" || gauge.Scope != "testenv" {
		t.Errorf("gauge point = %+v; want kind gauge, unit By, service.name testenv, scope testenv", gauge)
	}
	span := c.WaitForSpan(t, "testenv.push", func(s Span) bool { return s.Attributes["value"] == "42" }, 10*time.Second)
	if span.TraceID != first.TraceID().String() || span.SpanID != first.SpanID().String() {
		t.Errorf("span ids = %s/%s, want %s/%s", span.TraceID, span.SpanID, first.TraceID(), first.SpanID())
	}
	if span.Status != (Status{Code: codes.Error.String(), Message: "on purpose"}) {
		t.Errorf("span status = %+v, want Error: on purpose", span.Status)
	}
	if len(span.Events) != 1 || span.Events[0].Name != "pushed" || span.Events[0].Attributes["value"] != "42" {
		t.Errorf("span events = %+v, want one \"pushed\" with value 42", span.Events)
	}

	c.Stop()
	c.Start()

	// The same providers, as an agent that kept running: export resumes on the same port.
	p.push(t, 7, 30*time.Second)
	c.WaitForMetric(t, "testenv.gauge", func(pt Point) bool { return pt.Value == 7 }, 10*time.Second)
	c.WaitForSpan(t, "testenv.push", func(s Span) bool { return s.Attributes["value"] == "7" }, 10*time.Second)
	// What was written before the restart is still there.
	c.WaitForMetric(t, "testenv.gauge", func(pt Point) bool { return pt.Value == 42 }, time.Second)
}
