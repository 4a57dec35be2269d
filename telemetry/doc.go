// Package telemetry will own procagent's OpenTelemetry meter and tracer
// providers, the Prometheus /metrics handler, the OTLP/gRPC exporters, the
// procfs memory readers and the instruments (SPEC §8). It implements the
// small interfaces procagent declares (procagent.Observer,
// procagent.Flusher) and is plugged in by cmd/agent.
//
// It must not import procagent's consumers (cmd) nor profiling.
package telemetry
