package dashgen

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// liveInterval is the scrape and rule evaluation interval of the live test's Prometheus.
const liveInterval = "1s"

// writeYAML writes v as YAML to path.
func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// livePrometheusConfig writes the config the live test's Prometheus runs with and returns
// its path: dashboards/prometheus/prometheus.yml with the test's 1 s intervals, its rule
// files by absolute path, the agent in a file_sd file shaped like targets/agents.yml, and
// the collector's own metrics at collectorAddr. Job names and everything else are the file's.
func livePrometheusConfig(t *testing.T, root, dir, agentAddr, collectorAddr string) string {
	t.Helper()
	cfg := yamlMap(t, promConfig)
	global, _ := cfg["global"].(map[string]any)
	if global == nil {
		t.Fatalf("%s has no global section", promConfig)
	}
	global["scrape_interval"] = liveInterval
	global["scrape_timeout"] = liveInterval
	global["evaluation_interval"] = liveInterval

	ruleFiles, _ := cfg["rule_files"].([]any)
	for i, f := range ruleFiles {
		ruleFiles[i] = filepath.Join(root, promDir, f.(string))
	}

	agents := scrapeJob(cfg, "procagent")
	sd, _ := dig(agents, "file_sd_configs", 0).(map[string]any)
	if sd == nil {
		t.Fatalf("%s: job procagent has no file_sd_configs", promConfig)
	}
	sd["files"] = []any{filepath.Join(dir, "targets", "*.yml")}
	var groups []map[string]any
	if err := yaml.Unmarshal(readFile(t, targetsFile), &groups); err != nil || len(groups) == 0 {
		t.Fatalf("%s: %v", targetsFile, err)
	}
	groups[0]["targets"] = []string{agentAddr}
	writeYAML(t, filepath.Join(dir, "targets", "agents.yml"), groups[:1])

	static, _ := dig(scrapeJob(cfg, "otelcol"), "static_configs", 0).(map[string]any)
	if static == nil {
		t.Fatalf("%s: job otelcol has no static_configs", promConfig)
	}
	static["targets"] = []string{collectorAddr}

	path := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, path, cfg)
	return path
}

// liveCollectorConfig writes the config the live test's collector runs with and returns its
// path: dashboards/otelcol/collector.yaml's receivers and service.telemetry on the test's
// addresses, with a file exporter in place of its processors and exporters (the collector
// scripts/otelcol builds has the OTLP receiver and the file exporter only).
func liveCollectorConfig(t *testing.T, dir, otlpAddr, metricsAddr string) string {
	t.Helper()
	cfg := yamlMap(t, collectorFile)
	grpc, _ := dig(cfg, "receivers", "otlp", "protocols", "grpc").(map[string]any)
	if grpc == nil {
		t.Fatalf("%s: no receivers.otlp.protocols.grpc", collectorFile)
	}
	grpc["endpoint"] = otlpAddr

	prom, _ := dig(cfg, "service", "telemetry", "metrics", "readers", 0, "pull", "exporter", "prometheus").(map[string]any)
	if prom == nil {
		t.Fatalf("%s: no service.telemetry.metrics.readers[0].pull.exporter.prometheus", collectorFile)
	}
	host, port, err := net.SplitHostPort(metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	prom["host"] = host
	prom["port"], _ = strconv.Atoi(port)
	telemetry, _ := dig(cfg, "service", "telemetry").(map[string]any)
	telemetry["logs"] = map[string]any{"level": "warn"}

	delete(cfg, "processors")
	cfg["exporters"] = map[string]any{"file": map[string]any{"path": filepath.Join(dir, "otlp.json")}}
	pipelines, _ := dig(cfg, "service", "pipelines").(map[string]any)
	for name, p := range pipelines {
		pm, _ := p.(map[string]any)
		if pm == nil {
			t.Fatalf("%s: pipeline %s is not a map", collectorFile, name)
		}
		delete(pm, "processors")
		pm["exporters"] = []string{"file"}
	}

	path := filepath.Join(dir, "otelcol.yaml")
	writeYAML(t, path, cfg)
	return path
}
