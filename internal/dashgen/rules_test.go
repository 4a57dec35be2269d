package dashgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The Prometheus files, relative to the module root.
const (
	promDir       = "dashboards/prometheus"
	rulesFile     = promDir + "/procagent-rules.yml"
	rulesTestFile = promDir + "/procagent-rules.test.yml"
	promConfig    = promDir + "/prometheus.yml"
	runbookFile   = promDir + "/RUNBOOK.md"
)

// rule is one recording or alerting rule.
type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// loadRules reads the rules file's rules, every group's.
func loadRules(t testing.TB) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readFile(t, rulesFile), &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return rules
}

// promtool returns the promtool binary; without it the test fails in CI and is skipped
// elsewhere, as internal/testenv does for prometheus.
func promtool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found on PATH; run `make deps`")
		}
		t.Skip("promtool not found on PATH; run `make deps` to run this test")
	}
	return p
}

// runPromtool runs promtool with args in dir under the module root and returns its output.
func runPromtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool(t), args...)
	cmd.Dir = filepath.Join(moduleRoot(t), dir)
	out, err := cmd.CombinedOutput()
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("promtool %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// promtool accepts the rules and the Prometheus config as committed.
func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, promDir, "check", "rules", filepath.Base(rulesFile))
	runPromtool(t, promDir, "check", "config", filepath.Base(promConfig))
}

// The rules' unit tests pass: every alert fires when it should and not when it should not.
func TestPromtoolTestRules(t *testing.T) {
	out := runPromtool(t, promDir, "test", "rules", filepath.Base(rulesTestFile))
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules did not report SUCCESS")
	}
}

// wantAlerts are the alerts the issue asks for (one name each).
var wantAlerts = []string{
	"ProcAgentDown", "ProcAgentRestarting", "ProcAgentProcPoisoned", "ProcAgentActorFailures",
	"ProcAgentSpawnErrors", "ProcAgentHandlerErrorRatio", "ProcAgentHandlerSlow",
	"ProcAgentQueueBacklog", "ProcAgentActorSeriesCapped", "ProcAgentWorkerMemoryGrowth",
	"ProcAgentMemoryGrowth", "ProcAgentFdsNearLimit", "ProcAgentRPCErrors",
}

var runbookHeading = regexp.MustCompile(`(?m)^## (ProcAgent\w+)\s*$`)

// Every alert has a severity, a summary and a description, a runbook section and a unit
// test; the runbook has no section for an alert that does not exist.
func TestAlertsComplete(t *testing.T) {
	var alerts []string
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		alerts = append(alerts, r.Alert)
		switch r.Labels["severity"] {
		case "critical", "warning", "info":
		default:
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, r.Labels["severity"])
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: needs a summary and a description", r.Alert)
		}
	}
	for _, a := range wantAlerts {
		if !slices.Contains(alerts, a) {
			t.Errorf("no alert %s", a)
		}
	}
	var sections []string
	for _, m := range runbookHeading.FindAllStringSubmatch(string(readFile(t, runbookFile)), -1) {
		sections = append(sections, m[1])
	}
	slices.Sort(alerts)
	slices.Sort(sections)
	if !slices.Equal(alerts, sections) {
		t.Errorf("%s has sections %v, the rules alerts %v", runbookFile, sections, alerts)
	}
	tests := string(readFile(t, rulesTestFile))
	for _, a := range alerts {
		if !strings.Contains(tests, "alertname: "+a+"\n") {
			t.Errorf("%s has no unit test of %s", rulesTestFile, a)
		}
	}
}
