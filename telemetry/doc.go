// Package telemetry owns procagent's observability (SPEC §8): one
// OpenTelemetry MeterProvider whose readers are the Prometheus exporter
// (served by MetricsHandler on a registry the caller makes, beside
// client_golang's process and Go collectors) and, when an endpoint is
// configured, a periodic OTLP/gRPC push; a TracerProvider that batches spans
// to OTLP/gRPC; the instruments and the name table (names.go, documented in
// the README); the procfs memory republish (memory.go, statm.go); and the
// Connect interceptor for RPC metrics and spans.
//
// It implements the small interfaces its consumers declare:
// runtime.HandlerObserver (handler durations), procagent.Observer (spawns,
// stops, supervision events, actor spans) and procagent.Flusher; and it
// reads the proc and the agent at collection time through ProcSource and
// AgentSource, which it declares. cmd/agent plugs it in:
//
//	tel, err := telemetry.New(ctx, telemetry.Options{Registry: reg, ...})
//	proc := runtime.NewProc(name, runtime.WithHandlerObserver(tel.HandlerObserver()))
//	agent := procagent.New(proc, procagent.WithObserver(tel.Observer()), procagent.WithFlusher(tel))
//	err = tel.Observe(proc, agent)
//	mux.Handle("/metrics", tel.MetricsHandler())
//	// Connect handlers get connect.WithInterceptors(tel.Interceptor()).
//	defer tel.Shutdown(ctx)
//
// It may import runtime and procagent; it must not import cmd nor profiling,
// and never touches OTel's or Prometheus's global providers and registries.
package telemetry
