package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Resource attribute keys (OTel semantic conventions, and the proc id).
const (
	resServiceName       = attribute.Key("service.name")
	resServiceVersion    = attribute.Key("service.version")
	resServiceInstanceID = attribute.Key("service.instance.id")
	resProcID            = attribute.Key("procagent.proc.id")
)

// newResource describes the agent: service.name, service.version,
// service.instance.id, host.name, process.pid and procagent.proc.id, with
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME honoured where the options
// leave a default.
func newResource(ctx context.Context, o Options) (*resource.Resource, error) {
	explicit := []attribute.KeyValue{
		resServiceVersion.String(o.ServiceVersion),
		resServiceInstanceID.String(o.InstanceID),
		resProcID.String(o.ProcID),
	}
	if o.ServiceName != "" {
		explicit = append(explicit, resServiceName.String(o.ServiceName))
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(resServiceName.String(DefaultServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithFromEnv(),
		resource.WithAttributes(explicit...),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	return res, nil
}

// selfCollectors are the agent process's own metrics: process_* and go_*.
func selfCollectors() []prometheus.Collector {
	return []prometheus.Collector{
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	}
}

// newMeterProvider makes the one MeterProvider: the Prometheus exporter
// registered on o.Registry, and a periodic OTLP/gRPC reader when
// configured, which also pushes the per-actor families from actors.
func newMeterProvider(ctx context.Context, o Options, res *resource.Resource, actors sdkmetric.Producer) (*sdkmetric.MeterProvider, error) {
	prom, err := otelprom.New(
		otelprom.WithRegisterer(o.Registry),
		// Scope labels on every series would only repeat this package's
		// name; the resource is served once, as target_info.
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mpOpts := []sdkmetric.Option{
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(prom),
		sdkmetric.WithCardinalityLimit(o.cardinalityLimit()),
	}
	if o.otlpSignal("METRICS") {
		exp, err := otlpmetricgrpc.New(ctx, metricEndpoint(o.OTLPEndpoint)...)
		if err != nil {
			return nil, fmt.Errorf("otlp metric exporter: %w", err)
		}
		readerOpts := []sdkmetric.PeriodicReaderOption{sdkmetric.WithProducer(actors)}
		if o.ExportInterval > 0 {
			readerOpts = append(readerOpts, sdkmetric.WithInterval(o.ExportInterval))
		}
		mpOpts = append(mpOpts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, readerOpts...)))
	}
	return sdkmetric.NewMeterProvider(mpOpts...), nil
}

// tracing is the TracerProvider: an SDK provider batching to OTLP/gRPC
// when configured, else a no-op one (spans cost nothing and the actor
// lifetimes keep no state).
type tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil for the no-op provider
	batcher  sdktrace.SpanProcessor   // the OTLP batcher, shut down first
}

func newTracing(ctx context.Context, o Options, res *resource.Resource) (tracing, error) {
	if !o.otlpSignal("TRACES") {
		return tracing{provider: noop.NewTracerProvider()}, nil
	}
	exp, err := otlptracegrpc.New(ctx, traceEndpoint(o.OTLPEndpoint)...)
	if err != nil {
		return tracing{}, fmt.Errorf("otlp trace exporter: %w", err)
	}
	bsp := sdktrace.NewBatchSpanProcessor(exp)
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSpanProcessor(bsp))
	return tracing{provider: tp, sdk: tp, batcher: bsp}, nil
}

// flush exports the spans batched so far.
func (tr tracing) flush(ctx context.Context) error {
	if tr.sdk == nil {
		return nil
	}
	return tr.sdk.ForceFlush(ctx)
}

// shutdown flushes and releases the exporter. The batcher is shut down
// directly first: the provider skips its processors when ctx has already
// ended, which would leave the batcher's goroutine and connection behind.
func (tr tracing) shutdown(ctx context.Context) error {
	if tr.sdk == nil {
		return nil
	}
	return errors.Join(tr.batcher.Shutdown(ctx), tr.sdk.Shutdown(ctx))
}

// metricEndpoint turns the endpoint option into exporter options: none
// when empty (the SDK reads its variables).
func metricEndpoint(ep string) []otlpmetricgrpc.Option {
	switch {
	case ep == "":
		return nil
	case strings.Contains(ep, "://"):
		return []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(ep)}
	default:
		return []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(ep)}
	}
}

// traceEndpoint is metricEndpoint for the span exporter.
func traceEndpoint(ep string) []otlptracegrpc.Option {
	switch {
	case ep == "":
		return nil
	case strings.Contains(ep, "://"):
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(ep)}
	default:
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(ep)}
	}
}

// propagator reads and writes W3C trace context and baggage on RPCs.
func propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// newMetricsHandler serves reg in the text format, counting its own
// scrapes (promhttp_metric_handler_*).
func newMetricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrintln{log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	}))
}

// slogPrintln adapts a slog.Logger to promhttp.Logger.
type slogPrintln struct{ log *slog.Logger }

func (l slogPrintln) Println(v ...any) { l.log.Warn("metrics scrape", "err", fmt.Sprint(v...)) }
