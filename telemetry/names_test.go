package telemetry

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the table in the README from the name table")

const (
	metricsDoc = "../README.md"
	tableBegin = "<!-- BEGIN metrics table: generated from names.go by `go test ./telemetry -run TestMetricsDoc -update` -->\n"
	tableEnd   = "<!-- END metrics table -->\n"
)

// renderTable is the README's table: one row per family.
func renderTable() string {
	var b strings.Builder
	b.WriteString("| OTel name | Unit | Prometheus name | Type | Labels | Meaning |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	code := func(s string) string {
		if s == "" {
			return "—"
		}
		return "`" + s + "`"
	}
	for _, s := range metricTable() {
		labels := "—"
		if len(s.Labels) > 0 {
			labels = "`" + strings.Join(s.Labels, "`, `") + "`"
		}
		meaning := s.Help
		if s.Seed != "" {
			meaning += " Monarch's name: `" + s.Seed + "`."
		}
		if s.Source != "" {
			meaning += " Emitted by " + s.Source + "."
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			code(s.OTel), code(s.Unit), code(s.Prom), s.Kind, labels, strings.ReplaceAll(meaning, "|", `\|`))
	}
	return b.String()
}

// TestMetricsDoc keeps the README's table equal to the name table.
func TestMetricsDoc(t *testing.T) {
	doc, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(tableBegin)), bytes.Index(doc, []byte(tableEnd))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the table markers", metricsDoc)
	}
	want := renderTable()
	if *update {
		out := slices.Concat(doc[:i+len(tableBegin)], []byte(want), doc[j:])
		if err := os.WriteFile(metricsDoc, out, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(string(doc[i+len(tableBegin):j]), "\n")); diff != "" {
		t.Errorf("%s is stale; run go test ./telemetry -run TestMetricsDoc -update (-want +got):\n%s", metricsDoc, diff)
	}
}

// TestScrapeNames checks the name table against a real scrape of a busy
// agent: every family is served with its documented type and labels, the
// families this package makes with the table's Help as their HELP, and
// every procagent_* family served is documented.
func TestScrapeNames(t *testing.T) {
	f := newFixture(t, Options{})
	_, err := exec.LookPath("python3")
	exercise(t, f, err == nil)
	body := scrape(t, f.tel.MetricsHandler())

	types := map[string]string{} // family → TYPE
	helps := map[string]string{} // family → HELP
	for line := range strings.Lines(body) {
		if fields := strings.Fields(line); len(fields) == 4 && fields[1] == "TYPE" {
			types[fields[2]] = fields[3]
		}
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(strings.TrimSuffix(rest, "\n"), " ")
			helps[name] = help
		}
	}
	for _, s := range append(slices.Clone(emitted), mMemoryUsage, mMemoryVirtual) {
		if got, ok := helps[s.Prom]; ok && got != s.Help {
			t.Errorf("%s HELP = %q, want the name table's %q", s.Prom, got, s.Help)
		}
	}
	documented := map[string]bool{}
	for _, s := range metricTable() {
		documented[s.Prom] = true
		if prefix, ok := strings.CutSuffix(s.Prom, "*"); ok {
			if !slices.ContainsFunc(slices.Collect(maps.Keys(types)), func(n string) bool { return strings.HasPrefix(n, prefix) }) {
				t.Errorf("no %s family served", s.Prom)
			}
			continue
		}
		typ, ok := types[s.Prom]
		switch {
		case !ok:
			t.Errorf("%s (%s) not served", s.Prom, s.OTel)
			continue
		case typ != s.Kind:
			t.Errorf("%s is a %s, documented as a %s", s.Prom, typ, s.Kind)
		}
		allowed := map[string]bool{"le": s.Kind == "histogram"}
		for _, l := range s.Labels {
			allowed[strings.TrimSuffix(l, "*")] = true
		}
		for line := range strings.Lines(body) {
			if !isSample(line, s.Prom) {
				continue
			}
			for _, l := range labelNames(line) {
				if !allowed[l] && !prefixAllowed(allowed, l) {
					t.Errorf("%s has undocumented label %q: %s", s.Prom, l, strings.TrimSpace(line))
				}
			}
		}
	}
	for name := range types {
		if strings.HasPrefix(name, "procagent_") && !documented[name] {
			t.Errorf("%s is served but not in the name table", name)
		}
	}
}

// prefixAllowed reports whether l matches a documented label prefix
// ("telemetry_sdk_*" is kept as "telemetry_sdk_").
func prefixAllowed(allowed map[string]bool, l string) bool {
	for a, ok := range allowed {
		if ok && strings.HasSuffix(a, "_") && strings.HasPrefix(l, a) {
			return true
		}
	}
	return false
}

// labelNames returns the label names of one exposition sample line.
func labelNames(line string) []string {
	open, end := strings.IndexByte(line, '{'), strings.LastIndexByte(line, '}')
	if open < 0 || end < open {
		return nil
	}
	var names []string
	rest := line[open+1 : end]
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			break
		}
		names = append(names, strings.TrimLeft(rest[:eq], ","))
		// Skip the quoted value.
		i := eq + 2
		for i < len(rest) && rest[i] != '"' {
			if rest[i] == '\\' {
				i++
			}
			i++
		}
		rest = rest[min(i+1, len(rest)):]
	}
	return names
}

// isSample reports whether line is a sample of family (a histogram's
// samples are family_bucket, _sum and _count).
func isSample(line, family string) bool {
	rest, ok := strings.CutPrefix(line, family)
	if !ok {
		return false
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if r, ok := strings.CutPrefix(rest, suffix); ok {
			rest = r
			break
		}
	}
	return strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")
}
