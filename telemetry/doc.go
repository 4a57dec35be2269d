// Package telemetry owns procagent's observability: one OpenTelemetry
// MeterProvider whose readers are the Prometheus exporter (served by
// MetricsHandler on a registry the caller makes, beside client_golang's
// process and Go collectors) and, when an endpoint is configured, a
// periodic OTLP/gRPC push; a TracerProvider that batches spans to
// OTLP/gRPC; the instruments and the name table (names.go, which the
// README's metrics table is generated from); the memory republish
// (memory.go, reading /proc through internal/osproc); and the providers
// the RPC edge records its calls with (rpcserver.NewInterceptor).
//
// It is plugged in, not stacked on top: it implements the small interfaces
// its consumers declare, in standard and runtime types only —
// procagent.Observer (explicit lifecycle events: created, stop requested,
// ended, orphaned, stop-all; and the agent's counts, handed over once by
// Attach), procagent.Flusher, procagent.MemoryReader (the agent's own
// sample from the memory republish's cache, so QueryChild and the gauges
// agree), and runtime.HandlerObserver (handler
// durations, HandlerObserver). Everything else is read at collection time
// from the runtime's atomics and the agent's counts. cmd/agent wires it:
//
//	tel, err := telemetry.New(ctx, telemetry.Options{Registry: reg, ...})
//	proc := runtime.NewProc(name, runtime.WithHandlerObserver(tel.HandlerObserver()))
//	agent := procagent.New(proc, procagent.WithObserver(tel), procagent.WithFlusher(tel),
//		procagent.WithMemoryReader(tel))
//	mux.Handle("/metrics", tel.MetricsHandler())
//	icpt, err := rpcserver.NewInterceptor(tel) // RPC metrics and spans
//	defer tel.Shutdown(ctx)
//
// It imports runtime and no other package of this module but
// internal/osproc (depguard in .golangci.yml; its tests may drive a real
// procagent.Agent). It never touches OTel's or Prometheus's global
// providers and registries.
package telemetry
