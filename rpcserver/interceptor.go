package rpcserver

import (
	"fmt"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is what RPCs are recorded with: providers that are never the
// global ones. *telemetry.Pipeline implements it.
type Telemetry interface {
	MeterProvider() metric.MeterProvider
	TracerProvider() trace.TracerProvider
	Propagator() propagation.TextMapPropagator
}

// NewInterceptor returns the Connect interceptor that records RPC metrics
// (rpc.server.call.duration, OTel's RPC semantic conventions) and a span
// per RPC with t's providers. Give it to Mount with
// connect.WithInterceptors.
func NewInterceptor(t Telemetry) (connect.Interceptor, error) {
	i, err := otelconnect.NewInterceptor(
		otelconnect.WithMeterProvider(t.MeterProvider()),
		otelconnect.WithTracerProvider(t.TracerProvider()),
		otelconnect.WithPropagator(t.Propagator()),
	)
	if err != nil {
		return nil, fmt.Errorf("rpc interceptor: %w", err)
	}
	return i, nil
}
