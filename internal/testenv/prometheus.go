package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readyTimeout bounds how long a component may take to start listening.
const readyTimeout = 60 * time.Second

// Prometheus is a running Prometheus server that scrapes the targets it was started with,
// as job "procagent". Its methods are safe for concurrent use.
type Prometheus struct {
	addr   string
	client *http.Client
	proc   *process
}

// Sample is one element of an instant-query result: the series' labels (with __name__ when
// the query keeps it), its value and the evaluation time.
type Sample struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// PrometheusOption configures StartPrometheus.
type PrometheusOption func(*prometheusConfig)

type prometheusConfig struct {
	listenAddr string
}

// WithPrometheusListenAddr makes Prometheus listen on addr (host:port) instead of a free
// port of its choosing; a test that wants Prometheus to scrape itself passes the same
// address as a target.
func WithPrometheusListenAddr(addr string) PrometheusOption {
	return func(c *prometheusConfig) { c.listenAddr = addr }
}

// StartPrometheus starts Prometheus on 127.0.0.1 scraping scrapeTargets (host:port, path
// /metrics) every scrapeInterval (also the scrape timeout), with storage in a temporary
// directory, and waits until it is ready. Its first scrape lands about 5 s after the start.
// It is stopped in t.Cleanup. Without a prometheus binary the test fails in CI and is
// skipped elsewhere.
func StartPrometheus(t testing.TB, scrapeTargets []string, scrapeInterval time.Duration, opts ...PrometheusOption) *Prometheus {
	t.Helper()
	if scrapeInterval < time.Millisecond {
		t.Fatalf("start prometheus: scrape interval %v is below 1ms", scrapeInterval)
	}
	configPath := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(configPath, prometheusYAML(scrapeTargets, scrapeInterval), 0o600); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	return StartPrometheusFile(t, configPath, opts...)
}

// StartPrometheusFile is StartPrometheus with a config file of the test's own, such as the
// committed one with its paths and intervals changed: a test about file_sd, rules or jobs.
func StartPrometheusFile(t testing.TB, configPath string, opts ...PrometheusOption) *Prometheus {
	t.Helper()
	bin := prometheusBinary(t)
	cfg := prometheusConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.listenAddr == "" {
		cfg.listenAddr = FreeAddr(t)
	}
	proc, err := startProcess("prometheus", bin,
		"--config.file="+configPath,
		"--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"),
		"--web.listen-address="+cfg.listenAddr,
	)
	if err != nil {
		t.Fatalf("%v", err)
	}
	p := &Prometheus{
		addr: cfg.listenAddr,
		// No keep-alive: no idle connection outlives a request (goleak).
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		proc:   proc,
	}
	t.Cleanup(func() {
		if err := proc.stop(); err != nil {
			t.Errorf("stop prometheus: %v\n%s", err, proc.output())
		}
	})
	if err := p.waitReady(t.Context()); err != nil {
		t.Fatalf("start prometheus: %v\noutput:\n%s", err, proc.output())
	}
	return p
}

// prometheusYAML is the config: one job, "procagent", scraping targets. Quoted with %q: a
// JSON string is a YAML string.
func prometheusYAML(targets []string, interval time.Duration) []byte {
	d := strconv.FormatInt(interval.Milliseconds(), 10) + "ms"
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n", d, d, d)
	b.WriteString("scrape_configs:\n  - job_name: procagent\n    static_configs:\n      - targets: [")
	for i, tg := range targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", tg)
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

// Addr returns the host:port Prometheus listens on.
func (p *Prometheus) Addr() string { return p.addr }

// URL returns the base URL of Prometheus' web and HTTP API, without a trailing slash.
func (p *Prometheus) URL() string { return "http://" + p.addr }

// waitReady polls /-/ready until it answers 200, the process exits or readyTimeout passes.
func (p *Prometheus) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		if done, err := p.proc.exited(); done {
			return fmt.Errorf("exited before it was ready: %w", err)
		}
		last = p.ready(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %w", readyTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *Prometheus) ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/-/ready", http.NoBody)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/-/ready: %s", resp.Status)
	}
	return nil
}

// Query evaluates promql at the current time through /api/v1/query. A vector result comes
// back as its samples (none when the query matches no series); a scalar as one sample
// without labels. An error result, or any other result type, is an error.
func (p *Prometheus) Query(ctx context.Context, promql string) ([]Sample, error) {
	u := p.URL() + "/api/v1/query?" + url.Values{"query": {promql}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", promql, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", promql, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("query %q: read: %w", promql, err)
	}
	samples, err := parseQueryResponse(body)
	if err != nil {
		return nil, fmt.Errorf("query %q: %s: %w", promql, resp.Status, err)
	}
	return samples, nil
}

// WaitFor queries promql every 250 ms until cond accepts the result, and returns that
// result; the test fails with the last result or error after timeout.
func (p *Prometheus) WaitFor(t testing.TB, promql string, cond func([]Sample) bool, timeout time.Duration) []Sample {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var (
		last    []Sample
		lastErr error
	)
	for {
		s, err := p.Query(ctx, promql)
		switch {
		case err == nil && cond(s):
			return s
		case err == nil:
			last, lastErr = s, nil
		case ctx.Err() == nil:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				t.Fatalf("prometheus: %s: not satisfied after %v: last error: %v", promql, timeout, lastErr)
			}
			t.Fatalf("prometheus: %s: not satisfied after %v: last result: %v", promql, timeout, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
