package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Collector is a running OpenTelemetry Collector (scripts/otelcol/manifest.yaml): an OTLP/gRPC
// receiver on 127.0.0.1 whose metrics and traces go to two files of OTLP JSON lines, which
// ReadMetrics and ReadSpans parse. Stop and Start restart it on the same port and files,
// appending. Its methods are safe for concurrent use, but Stop and Start must not race.
type Collector struct {
	t           testing.TB
	bin         string
	configPath  string
	endpoint    string
	metricsPath string
	tracesPath  string

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartCollector starts the collector with a generated config: the otlp receiver on a free
// 127.0.0.1 port (gRPC only), file exporters writing JSON to MetricsPath and TracesPath with a
// 100 ms flush interval, its own telemetry off (service.telemetry.metrics.level: none) and
// its logs at warn. It returns once the port accepts connections; the collector is stopped
// in t.Cleanup. Without the binary the test fails in CI and is skipped elsewhere.
func StartCollector(t testing.TB) *Collector {
	t.Helper()
	c := NewCollector(t)
	c.Start()
	return c
}

// NewCollector is StartCollector without the start: the collector's config, port and files
// are chosen, and nothing listens on Endpoint until Start. It stands for a collector that
// is down when its clients start.
func NewCollector(t testing.TB) *Collector {
	t.Helper()
	bin := otelcolBinary(t)
	dir := t.TempDir()
	c := &Collector{
		t:           t,
		bin:         bin,
		configPath:  filepath.Join(dir, "otelcol.yaml"),
		endpoint:    FreeAddr(t),
		metricsPath: filepath.Join(dir, "metrics.json"),
		tracesPath:  filepath.Join(dir, "traces.json"),
	}
	if err := os.WriteFile(c.configPath, c.configYAML(), 0o600); err != nil {
		t.Fatalf("start collector: %v", err)
	}
	t.Cleanup(func() {
		if err := c.stop(); err != nil {
			t.Errorf("stop collector: %v", err)
		}
	})
	return c
}

// configYAML is the collector's config. Paths and addresses are quoted with %q: a JSON
// string is a YAML string.
func (c *Collector) configYAML() []byte {
	return fmt.Appendf(nil, `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
exporters:
  file/metrics:
    path: %q
    format: json
    append: true
    flush_interval: 100ms
  file/traces:
    path: %q
    format: json
    append: true
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [file/metrics]
    traces:
      receivers: [otlp]
      exporters: [file/traces]
`, c.endpoint, c.metricsPath, c.tracesPath)
}

// Endpoint returns the host:port of the OTLP/gRPC receiver (plaintext), the same across
// Stop and Start.
func (c *Collector) Endpoint() string { return c.endpoint }

// MetricsPath returns the file the metrics are written to, one ExportMetricsServiceRequest
// as OTLP JSON per line.
func (c *Collector) MetricsPath() string { return c.metricsPath }

// TracesPath returns the file the spans are written to, one ExportTraceServiceRequest as
// OTLP JSON per line.
func (c *Collector) TracesPath() string { return c.tracesPath }

// Start starts the collector again after Stop, on the same port and appending to the same
// files, and returns once the port accepts connections. It fails the test if the collector
// is running or does not come up.
func (c *Collector) Start() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		c.t.Fatalf("start collector: already running")
	}
	proc, err := startProcess("otelcol", c.bin, "--config="+c.configPath)
	if err != nil {
		c.t.Fatalf("%v", err)
	}
	if err := waitListening(c.t.Context(), proc, c.endpoint); err != nil {
		_ = proc.stop() // err says how it ended, or that it never listened
		c.t.Fatalf("start collector: %v\noutput:\n%s", err, proc.output())
	}
	c.proc = proc
}

// Stop stops the collector (SIGTERM, which flushes the file exporters, then waits for the
// exit); the files keep what it wrote. It fails the test unless the collector exits cleanly.
// Stopping a stopped collector does nothing.
func (c *Collector) Stop() {
	c.t.Helper()
	if err := c.stop(); err != nil {
		c.t.Fatalf("stop collector: %v", err)
	}
}

func (c *Collector) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	proc := c.proc
	c.proc = nil
	if err := proc.stop(); err != nil {
		return fmt.Errorf("%w\noutput:\n%s", err, proc.output())
	}
	return nil
}

// waitListening dials addr until it accepts, proc exits or readyTimeout passes. The
// collector starts its receivers after its exporters, so an accepting port means the
// pipelines are up.
func waitListening(ctx context.Context, proc *process, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var d net.Dialer
	var last error
	for {
		if done, err := proc.exited(); done {
			return fmt.Errorf("exited before listening on %s: %w", addr, err)
		}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn.Close()
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s after %v: %w", addr, readyTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
