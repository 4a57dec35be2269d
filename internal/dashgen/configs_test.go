package dashgen

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The config files under dashboards/, relative to the module root.
const (
	targetsFile      = promDir + "/targets/agents.yml"
	collectorFile    = "dashboards/otelcol/collector.yaml"
	datasourceFile   = Dir + "/provisioning/datasources/prometheus.yaml"
	dashProviderFile = Dir + "/provisioning/dashboards/procagent.yaml"
)

// yamlMap decodes a YAML file under the module root into generic maps.
func yamlMap(t testing.TB, rel string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(readFile(t, rel), &m); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return m
}

// dig follows keys (strings for maps, ints for lists) into a decoded YAML value.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// scrapeJob returns the scrape config of the job named name in a Prometheus config.
func scrapeJob(cfg map[string]any, name string) map[string]any {
	jobs, _ := cfg["scrape_configs"].([]any)
	for _, j := range jobs {
		if m, ok := j.(map[string]any); ok && m["job_name"] == name {
			return m
		}
	}
	return nil
}

// The Prometheus config scrapes the agents from file_sd files and the collector's own
// metrics where collector.yaml serves them, and loads the rules file.
func TestPrometheusConfig(t *testing.T) {
	cfg := yamlMap(t, promConfig)
	agents := scrapeJob(cfg, "procagent")
	if agents == nil {
		t.Fatalf("%s has no job procagent (the alerts select job=\"procagent\")", promConfig)
	}
	files, _ := dig(agents, "file_sd_configs", 0, "files").([]any)
	if len(files) == 0 {
		t.Fatalf("job procagent has no file_sd files")
	}
	if ok, err := filepath.Match(files[0].(string), "targets/agents.yml"); err != nil || !ok {
		t.Errorf("file_sd pattern %v does not match %s", files[0], targetsFile)
	}
	col := scrapeJob(cfg, "otelcol")
	target, _ := dig(col, "static_configs", 0, "targets", 0).(string)
	_, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Fatalf("job otelcol target %q: %v", target, err)
	}
	if want := strconv.Itoa(dig(yamlMap(t, collectorFile), "service", "telemetry", "metrics", "readers", 0, "pull", "exporter", "prometheus", "port").(int)); port != want {
		t.Errorf("job otelcol scrapes port %s, %s serves its metrics on %s", port, collectorFile, want)
	}
	rules, _ := cfg["rule_files"].([]any)
	if len(rules) != 1 || rules[0] != filepath.Base(rulesFile) {
		t.Errorf("rule_files = %v, want [%s]", rules, filepath.Base(rulesFile))
	}
}

// The targets file is a file_sd file: a list of groups of host:port targets.
func TestTargetsFile(t *testing.T) {
	var groups []struct {
		Targets []string          `yaml:"targets"`
		Labels  map[string]string `yaml:"labels"`
	}
	if err := yaml.Unmarshal(readFile(t, targetsFile), &groups); err != nil {
		t.Fatalf("%s: %v", targetsFile, err)
	}
	if len(groups) == 0 || len(groups[0].Targets) == 0 {
		t.Fatalf("%s lists no target", targetsFile)
	}
	for _, g := range groups {
		for _, tg := range g.Targets {
			if _, _, err := net.SplitHostPort(tg); err != nil {
				t.Errorf("%s: target %q: %v", targetsFile, tg, err)
			}
		}
	}
}

// The collector config receives OTLP/gRPC on 4317 (the port agent serve --otlp-endpoint
// names), every pipeline uses only components it defines, and it serves its own metrics.
func TestCollectorConfig(t *testing.T) {
	cfg := yamlMap(t, collectorFile)
	endpoint, _ := dig(cfg, "receivers", "otlp", "protocols", "grpc", "endpoint").(string)
	if _, port, err := net.SplitHostPort(endpoint); err != nil || port != "4317" {
		t.Errorf("otlp grpc endpoint %q: want port 4317", endpoint)
	}
	pipelines, _ := dig(cfg, "service", "pipelines").(map[string]any)
	for _, signal := range []string{"metrics", "traces"} {
		p, ok := pipelines[signal].(map[string]any)
		if !ok {
			t.Errorf("no %s pipeline", signal)
			continue
		}
		for _, kind := range []string{"receivers", "processors", "exporters"} {
			ids, _ := p[kind].([]any)
			if kind != "processors" && len(ids) == 0 {
				t.Errorf("pipeline %s has no %s", signal, kind)
			}
			defined, _ := dig(cfg, kind).(map[string]any)
			for _, id := range ids {
				if name, _ := id.(string); name == "" || !hasKey(defined, name) {
					t.Errorf("pipeline %s uses %s %v, which is not defined", signal, kind, id)
				}
			}
		}
	}
	if dig(cfg, "service", "telemetry", "metrics", "readers", 0, "pull", "exporter", "prometheus") == nil {
		t.Errorf("the collector does not serve its own metrics for Prometheus")
	}
}

// Dropping provisioning/ into a Grafana gives it the Prometheus data source and the
// dashboards, and the data source's interval is the scrape interval.
func TestProvisioning(t *testing.T) {
	ds := yamlMap(t, datasourceFile)
	if dig(ds, "apiVersion") != 1 || dig(ds, "datasources", 0, "type") != "prometheus" {
		t.Errorf("%s: want apiVersion 1 and a prometheus data source", datasourceFile)
	}
	if got, want := dig(ds, "datasources", 0, "jsonData", "timeInterval"), dig(yamlMap(t, promConfig), "global", "scrape_interval"); got != want {
		t.Errorf("%s: timeInterval %v, the scrape interval is %v", datasourceFile, got, want)
	}
	p := yamlMap(t, dashProviderFile)
	if dig(p, "apiVersion") != 1 || dig(p, "providers", 0, "type") != "file" || dig(p, "providers", 0, "options", "path") == nil {
		t.Errorf("%s: want apiVersion 1 and a file provider with a path", dashProviderFile)
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
