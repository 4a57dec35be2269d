package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"
)

// scopeName is the instrumentation scope of this package's meter and tracer.
const scopeName = "github.com/procagent/procagent/telemetry"

// Pipeline owns the agent's OTel meter and tracer providers, the
// Prometheus /metrics handler, the OTLP exporters and the memory
// republish. Make one with New, give its HandlerObserver to the proc and
// the Pipeline itself to the agent (it is a procagent.Observer and
// procagent.Flusher), and Shutdown on exit. It is safe for concurrent use.
type Pipeline struct {
	opts Options
	log  *slog.Logger

	mp     *sdkmetric.MeterProvider
	meter  metric.Meter
	tr     tracing
	tracer trace.Tracer

	metrics http.Handler
	inst    *instruments
	handler *handlerStats
	spans   *lifetimes

	registered []prometheus.Collector // on opts.Registry, unregistered by Shutdown

	sources atomic.Pointer[sources] // set by Attach
	memory  atomic.Pointer[MemoryReporter]

	shutdownOnce sync.Once
	shutdownErr  error
}

// New builds the providers and exporters: one MeterProvider whose readers
// are the OTel Prometheus exporter (registered on opts.Registry, beside
// client_golang's process and Go collectors) and, when OTLP is configured,
// a periodic OTLP/gRPC push; and a TracerProvider that batches spans to
// OTLP/gRPC when configured (spans are not recorded otherwise). Exporters
// connect lazily: an unreachable collector is not an error here. A failure
// part way unwinds what was built.
func New(ctx context.Context, opts Options) (*Pipeline, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	t := &Pipeline{opts: opts, log: opts.Logger, handler: newHandlerStats()}
	if err := t.build(ctx); err != nil {
		// Nothing was handed out, so nothing is flushed: release at once.
		release, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cancel()
		if serr := t.Shutdown(release); serr != nil && !errors.Is(serr, context.Canceled) {
			err = errors.Join(err, serr)
		}
		return nil, err
	}
	return t, nil
}

// build makes the providers, the instruments and the handler. Whatever it
// made before failing is released by Shutdown.
func (t *Pipeline) build(ctx context.Context) error {
	res, err := newResource(ctx, t.opts)
	if err != nil {
		return err
	}
	for _, c := range selfCollectors() {
		if err := t.register(c); err != nil {
			return err
		}
	}
	t.mp, err = newMeterProvider(ctx, t.opts, res, &producer{t: t})
	if err != nil {
		return err
	}
	t.meter = t.mp.Meter(scopeName, metric.WithInstrumentationVersion(t.opts.ServiceVersion))
	if t.tr, err = newTracing(ctx, t.opts, res); err != nil {
		return err
	}
	t.tracer = t.tr.provider.Tracer(scopeName, trace.WithInstrumentationVersion(t.opts.ServiceVersion))
	t.spans = newLifetimes(t.tracer, t.opts.ProcID)
	if t.inst, err = newInstruments(t.meter, t.opts, t.handler); err != nil {
		return err
	}
	if err := t.register(newCollector(t)); err != nil {
		return err
	}
	in := t.inst
	if _, err := t.meter.RegisterCallback(t.observeProc,
		in.queueDepth, in.queueDepthMax, in.queueHighWater, in.queueAge,
		in.actors, in.poisoned, in.failedActors,
	); err != nil {
		return fmt.Errorf("register proc callback: %w", err)
	}
	mem, err := NewMemoryReporter(t.meter, t.opts.ProcID, t.opts.MemoryInterval, t.processRefs,
		WithMemoryLogger(t.log))
	if err != nil {
		return err
	}
	t.memory.Store(mem)
	mem.Start(ctx)
	t.metrics = newMetricsHandler(t.opts.Registry, t.log)
	return nil
}

// register registers c on the registry, to be unregistered by Shutdown. A
// collector registered before (client_golang's process and Go collectors,
// say) is left to its owner.
func (t *Pipeline) register(c prometheus.Collector) error {
	if err := t.opts.Registry.Register(c); err != nil {
		if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			return nil
		}
		return fmt.Errorf("register collector: %w", err)
	}
	t.registered = append(t.registered, c)
	return nil
}

// MetricsHandler serves the registry in the Prometheus text format
// (OpenMetrics is not negotiated). Scrape errors are logged and the
// families that worked are served.
func (t *Pipeline) MetricsHandler() http.Handler { return t.metrics }

// Registry returns the Prometheus registry /metrics serves.
func (t *Pipeline) Registry() *prometheus.Registry { return t.opts.Registry }

// MeterProvider returns the agent's meter provider (never the global one),
// for instruments recorded elsewhere: the RPC edge's interceptor.
func (t *Pipeline) MeterProvider() metric.MeterProvider { return t.mp }

// TracerProvider returns the agent's tracer provider (never the global
// one); spans are recorded only when OTLP is configured.
func (t *Pipeline) TracerProvider() trace.TracerProvider { return t.tr.provider }

// Propagator returns the propagator of trace context across RPCs.
func (t *Pipeline) Propagator() propagation.TextMapPropagator { return propagator() }

// Meter returns the meter of this package's scope, for instruments that
// live elsewhere in telemetry (the memory reporter).
func (t *Pipeline) Meter() metric.Meter { return t.meter }

// ErrorHandler returns an OTel error handler that logs to the Logger of
// the options. The SDK reports export failures only to the global handler,
// so cmd/agent installs this one with otel.SetErrorHandler.
func (t *Pipeline) ErrorHandler() otel.ErrorHandler {
	return otel.ErrorHandlerFunc(func(err error) { t.log.Warn("telemetry export", "err", err) })
}

// Flush exports what is buffered now (metrics and spans), bounded by ctx.
// It implements procagent.Flusher. Without OTLP it does nothing.
func (t *Pipeline) Flush(ctx context.Context) error {
	var errs []error
	if err := t.tr.flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush spans: %w", err))
	}
	if err := t.mp.ForceFlush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush metrics: %w", err))
	}
	return errors.Join(errs...)
}

// Shutdown stops the memory republish, ends the spans of actors still
// alive, flushes both exporters and releases them, and unregisters its
// collectors from the registry, bounded by ctx: an export still under way
// at the deadline is abandoned to finish (or time out) in the background.
// It is idempotent: later calls return the first call's result. The
// Observer and HandlerObserver stay safe to call afterwards, and nothing
// they record is exported.
func (t *Pipeline) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		var errs []error
		if m := t.memory.Load(); m != nil {
			if err := m.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("memory republish: %w", err))
			}
		}
		if t.spans != nil {
			t.spans.close()
		}
		if err := t.tr.shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("tracer provider: %w", err))
		}
		if t.mp != nil {
			if err := t.mp.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("meter provider: %w", err))
			}
		}
		for _, c := range t.registered {
			t.opts.Registry.Unregister(c)
		}
		t.shutdownErr = errors.Join(errs...)
	})
	return t.shutdownErr
}
