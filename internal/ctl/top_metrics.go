package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The series top reads from an agent's /metrics: what no RPC carries (the
// agent's version, each process-backed actor's memory) and the per-actor
// queue depths, which would otherwise cost one QueryChild per actor. The
// names are the agent's (telemetry/names.go; README "Metrics and traces").
const (
	metricBuildInfo     = "procagent_build_info"
	metricActorQueue    = "procagent_actor_queue_depth"
	metricQueueOmitted  = "procagent_actor_queue_depth_omitted"
	metricMemoryUsage   = "process_memory_usage_bytes"
	metricMemoryVirtual = "process_memory_virtual_bytes"
)

// maxMetricsBytes bounds the /metrics body top reads: an agent at its
// actor series cap answers well under a megabyte.
const maxMetricsBytes = 32 << 20

// errNoMetrics is an agent that does not serve /metrics where top asked
// (metrics_addr moves it to a listener of its own).
var errNoMetrics = errors.New("/metrics is not served on this address (metrics_addr?)")

// agentMetrics is what top reads from one scrape of an agent's /metrics.
type agentMetrics struct {
	// version is the agent's build version; "" when not exported.
	version string
	// queue maps a live actor to its queue depth; the agent exports at most
	// actor_series_cap of them, the deepest first, and counts the others in
	// queueOmitted.
	queue        map[string]uint64
	queueOmitted uint64
	// mem maps an actor id ("" for the agent itself) to its process's
	// memory, as the agent last republished it.
	mem map[string]procMemory
}

// procMemory is one process's memory as the agent reports it.
type procMemory struct {
	pid     int64
	rss, vm uint64
}

// parseMetrics reads the series top uses from a Prometheus text
// exposition; other series are skipped.
func parseMetrics(r io.Reader) (*agentMetrics, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse /metrics: %w", err)
	}
	m := &agentMetrics{queue: map[string]uint64{}, mem: map[string]procMemory{}}
	for _, s := range fams[metricBuildInfo].GetMetric() {
		if v := label(s, "version"); v != "" {
			m.version = v
		}
	}
	for _, s := range fams[metricActorQueue].GetMetric() {
		m.queue[label(s, "actor")] = gaugeValue(s)
	}
	for _, s := range fams[metricQueueOmitted].GetMetric() {
		m.queueOmitted = gaugeValue(s)
	}
	for name, set := range map[string]func(*procMemory, uint64){
		metricMemoryUsage:   func(p *procMemory, v uint64) { p.rss = v },
		metricMemoryVirtual: func(p *procMemory, v uint64) { p.vm = v },
	} {
		for _, s := range fams[name].GetMetric() {
			actor := label(s, "actor")
			p := m.mem[actor]
			p.pid, _ = strconv.ParseInt(label(s, "pid"), 10, 64)
			set(&p, gaugeValue(s))
			m.mem[actor] = p
		}
	}
	return m, nil
}

// label returns the value of a sample's label, "" when absent.
func label(s *dto.Metric, name string) string {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// gaugeValue is a gauge's (or an untyped sample's) value as a count; a
// negative or NaN value reads as 0.
func gaugeValue(s *dto.Metric) uint64 {
	v := s.GetGauge().GetValue()
	if s.GetGauge() == nil {
		v = s.GetUntyped().GetValue()
	}
	if !(v > 0) {
		return 0
	}
	return uint64(v)
}

// metricsReader scrapes one agent's /metrics.
type metricsReader struct {
	client *http.Client
	url    string // the agent's base URL + "/metrics"
}

// read scrapes the agent once. A 404 is errNoMetrics.
func (r *metricsReader) read(ctx context.Context) (*agentMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	// The classic text format: what every agent version serves.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	res, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound:
		return nil, errNoMetrics
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("scrape /metrics: HTTP %s", res.Status)
	}
	return parseMetrics(io.LimitReader(res.Body, maxMetricsBytes))
}
