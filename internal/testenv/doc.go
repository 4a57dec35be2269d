// Package testenv starts the real components the tests talk to: a Prometheus server that
// scrapes, and an OpenTelemetry Collector that receives OTLP/gRPC and writes what it receives
// to JSON files the tests read back. No mocks: each is the real binary, started on 127.0.0.1
// with a generated config and temporary storage, and stopped in t.Cleanup.
//
// Where the binaries come from:
//   - prometheus: the Debian package, on PATH (`make deps` installs it), or $PROCAGENT_PROMETHEUS.
//   - the collector: $PROCAGENT_OTELCOL (`make test` sets it), else the newest
//     .tools/otelcol/*/otelcol-procagent under the module root (`make otelcol` builds it from
//     scripts/otelcol/manifest.yaml).
//
// A missing binary fails the test when CI=true and skips it otherwise.
//
// testenv is imported only by tests. It must not import the project's packages: it knows
// the components, not the agent.
package testenv
