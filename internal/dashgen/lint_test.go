package dashgen

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/units"
	"go.yaml.in/yaml/v3"
)

// lintFile holds the exceptions, in the dashboard-linter's .lint format.
const lintFile = Dir + "/.lint"

type lintConfig struct {
	Exclusions map[string]struct {
		Reason  string `yaml:"reason"`
		Entries []struct {
			Dashboard string `yaml:"dashboard"`
			Panel     string `yaml:"panel"`
			TargetIdx *int   `yaml:"targetIdx"`
		} `yaml:"entries"`
	} `yaml:"exclusions"`
}

// excluded reports whether rule is excluded for the target idx of panel on dash, and marks
// the entry used.
func (c lintConfig) excluded(used map[string]bool, rule, dash, panel string, idx int) bool {
	ex, ok := c.Exclusions[rule]
	if !ok {
		return false
	}
	if len(ex.Entries) == 0 {
		return true
	}
	for i, e := range ex.Entries {
		if (e.Dashboard == "" || e.Dashboard == dash) && (e.Panel == "" || e.Panel == panel) &&
			(e.TargetIdx == nil || *e.TargetIdx == idx) {
			used[fmt.Sprintf("%s/%d", rule, i)] = true
			return true
		}
	}
	return false
}

// knownUnits are Grafana unit ids (the Foundation SDK's units package).
var knownUnits = map[string]bool{
	units.NoUnit: true, units.Short: true, units.Percent: true, units.PercentUnit: true,
	units.Seconds: true, units.Milliseconds: true, units.BytesIEC: true, units.BytesPerSecondIEC: true,
	units.EventsPerSecond: true, units.MessagesPerSecond: true, units.OpsPerSecond: true,
	units.RequestsPerSecond: true, units.CountsPerSecond: true, units.DurationSeconds: true,
}

// counterSuffixes mark the series of counters and of histograms' and summaries' counters.
var counterSuffixes = []string{"_total", "_count", "_sum", "_bucket"}

// Every dashboard follows the conventions Grafana's dashboard-linter enforces (rule names
// as the linter's), and the house's: unique ids, panels on the grid without overlap, rows,
// stable uids, tags and links that keep time and variables.
func TestDashboardsLint(t *testing.T) {
	var cfg lintConfig
	if err := yaml.Unmarshal(readFile(t, lintFile), &cfg); err != nil {
		t.Fatalf("%s: %v", lintFile, err)
	}
	for rule, ex := range cfg.Exclusions {
		if strings.TrimSpace(ex.Reason) == "" {
			t.Errorf("%s: the exclusion of %s has no reason", lintFile, rule)
		}
	}
	used := map[string]bool{}
	for _, file := range committedDashboards(t) {
		d := loadDashboard(t, file)
		for _, msg := range lintDashboard(d, cfg, used) {
			t.Errorf("%s: %s", file, msg)
		}
	}
	for rule, ex := range cfg.Exclusions {
		for i := range ex.Entries {
			if !used[fmt.Sprintf("%s/%d", rule, i)] {
				t.Errorf("%s: exclusion %s entry %d matches no target", lintFile, rule, i)
			}
		}
	}
}

// lintDashboard returns every violation in d.
func lintDashboard(d dashJSON, cfg lintConfig, used map[string]bool) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	// The dashboard: stable uid, tag, read-only (template-uneditable-rule), links.
	if d.UID != FleetUID && d.UID != ProcUID {
		bad("uid %q is not one of the stable uids", d.UID)
	}
	if !slices.Contains(d.Tags, Tag) {
		bad("tags %v lack %q", d.Tags, Tag)
	}
	if d.Editable {
		bad("template-uneditable-rule: the dashboard is editable")
	}
	if d.Title == "" || d.Description == "" {
		bad("the dashboard needs a title and a description")
	}
	linked := false
	for _, l := range d.Links {
		if l.Type == "dashboards" && slices.Equal(l.Tags, []string{Tag}) && l.IncludeVars && l.KeepTime {
			linked = true
		}
	}
	if !linked {
		bad("no link to the %q dashboards keeping time and variables", Tag)
	}

	errs = append(errs, lintVariables(d)...)
	errs = append(errs, lintGrid(d)...)

	for _, p := range d.queryPanels() {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.Title == "" || strings.TrimSpace(p.Description) == "" {
			bad("panel-title-description-rule: %s needs a title and a description", where)
		}
		if !knownUnits[p.FieldConfig.Defaults.Unit] {
			bad("panel-units-rule: %s has unit %q", where, p.FieldConfig.Defaults.Unit)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			bad("panel-datasource-rule: %s does not use ${datasource}", where)
		}
		if len(p.Targets) == 0 {
			bad("panel-no-targets-rule: %s has no target", where)
		}
		refs := map[string]bool{}
		for i, tg := range p.Targets {
			if refs[tg.RefID] || tg.RefID == "" {
				bad("%s target %d: refId %q is empty or repeated", where, i, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				bad("panel-datasource-rule: %s target %d does not use ${datasource}", where, i)
			}
			skipJob := cfg.excluded(used, "target-job-rule", d.Title, p.Title, i)
			skipInstance := cfg.excluded(used, "target-instance-rule", d.Title, p.Title, i)
			for _, msg := range lintTarget(tg, skipJob, skipInstance) {
				bad("%s target %d: %s", where, i, msg)
			}
		}
	}
	return errs
}

// lintTarget checks one query.
func lintTarget(tg targetJSON, skipJob, skipInstance bool) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	sels, err := scanPromQL(tg.Expr)
	if err != nil {
		return []string{"target-promql-rule: " + err.Error()}
	}
	if len(sels) == 0 {
		bad("target-promql-rule: %s selects no series", tg.Expr)
	}
	for _, s := range sels {
		// target-job-rule and target-instance-rule; the collector's panels carry its own pair.
		switch {
		case !skipJob && !s.hasRegex("job", "$job"):
			bad("target-job-rule: %s lacks job=~\"$job\"", s.metric)
		case skipJob && !s.hasRegex("job", "$otelcol_job"):
			bad("an excluded target's %s lacks job=~\"$otelcol_job\"", s.metric)
		}
		switch {
		case !skipInstance && !s.hasRegex("instance", "$instance"):
			bad("target-instance-rule: %s lacks instance=~\"$instance\"", s.metric)
		case skipInstance && !s.hasRegex("instance", "$otelcol_instance"):
			bad("an excluded target's %s lacks instance=~\"$otelcol_instance\"", s.metric)
		}
		// target-rate-interval-rule, for every range (rate, increase, changes).
		if s.rng != "" && s.rng != RateInterval {
			bad("target-rate-interval-rule: %s[%s] is not over %s", s.metric, s.rng, RateInterval)
		}
		errs = append(errs, lintCounter(s, tg)...)
	}
	return errs
}

// lintCounter checks target-counter-agg-rule (a counter goes through rate, irate or
// increase, then an aggregation) and the histogram rule (buckets are summed by le, then
// go to histogram_quantile or a heatmap).
func lintCounter(s selector, tg targetJSON) []string {
	isCounter := false
	for _, suf := range counterSuffixes {
		isCounter = isCounter || strings.HasSuffix(s.metric, suf)
	}
	if !isCounter || strings.Contains(s.metric, ":") {
		return nil
	}
	var errs []string
	inner := s.innermost()
	if s.rng == "" || inner == nil || (inner.name != "rate" && inner.name != "irate" && inner.name != "increase") {
		return []string{fmt.Sprintf("target-counter-agg-rule: counter %s is not in rate, irate or increase", s.metric)}
	}
	var outerAgg *call
	quantile := false
	for i := len(s.calls) - 1; i >= 0; i-- {
		c := s.calls[i]
		if aggregations[c.name] && outerAgg == nil {
			outerAgg = c
		}
		if c.name == "histogram_quantile" && outerAgg != nil {
			quantile = true
		}
	}
	if outerAgg == nil {
		errs = append(errs, fmt.Sprintf("target-counter-agg-rule: %s(%s) is not aggregated", inner.name, s.metric))
	}
	if strings.HasSuffix(s.metric, "_bucket") {
		if outerAgg == nil || outerAgg.without || !slices.Contains(outerAgg.by, "le") {
			errs = append(errs, fmt.Sprintf("histogram: the buckets of %s are not summed by le", s.metric))
		}
		if !quantile && tg.Format != "heatmap" {
			errs = append(errs, fmt.Sprintf("histogram: the buckets of %s go to neither histogram_quantile nor a heatmap", s.metric))
		}
	}
	return errs
}

// lintVariables checks template-datasource-rule, template-job-rule, template-instance-rule,
// template-label-promql-rule and template-on-time-change-reload-rule, and that each
// instance variable is chained to its job variable.
func lintVariables(d dashJSON) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	vars := map[string]varJSON{}
	datasources := 0
	for _, v := range d.Templating.List {
		vars[v.Name] = v
		if v.Type == "datasource" {
			datasources++
			if v.Name != "datasource" || v.Label != "Data source" || v.queryString() != "prometheus" {
				bad("template-datasource-rule: datasource variable %q labelled %q of %q", v.Name, v.Label, v.queryString())
			}
			continue
		}
		if v.Type != "query" {
			bad("variable %s: type %q", v.Name, v.Type)
			continue
		}
		if v.Datasource == nil || (v.Datasource.UID != "${datasource}" && v.Datasource.UID != "$datasource") {
			bad("variable %s does not use the datasource variable", v.Name)
		}
		if v.Refresh != 2 {
			bad("template-on-time-change-reload-rule: variable %s refreshes %d, want 2", v.Name, v.Refresh)
		}
		if !v.Multi || !v.IncludeAll || v.AllValue != ".+" {
			bad("variable %s: want multi, include All and allValue \".+\"", v.Name)
		}
		selector, label, err := labelValuesArgs(v.queryString())
		if err == nil {
			_, err = scanPromQL(selector)
		}
		if err != nil || label == "" {
			bad("template-label-promql-rule: variable %s: %q: %v", v.Name, v.queryString(), err)
		}
	}
	if datasources != 1 {
		bad("template-datasource-rule: %d datasource variables, want 1", datasources)
	}
	for name, label := range map[string]string{"job": "Job", "instance": "Instance"} {
		v, ok := vars[name]
		if !ok {
			bad("template-%s-rule: no %s variable", name, name)
			continue
		}
		if v.Label != label {
			bad("template-%s-rule: labelled %q, want %q", name, v.Label, label)
		}
	}
	for inst, job := range map[string]string{"instance": "job", "otelcol_instance": "otelcol_job"} {
		if v, ok := vars[inst]; ok && !strings.Contains(v.queryString(), `job=~"$`+job+`"`) {
			bad("variable %s is not chained to $%s: %q", inst, job, v.queryString())
		}
	}
	return errs
}

// lintGrid checks unique panel ids and that every panel lies on the 24-column grid without
// overlapping another; rows come first and hold the panels below them.
func lintGrid(d dashJSON) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(d.Panels) == 0 || d.Panels[0].Type != "row" {
		bad("the first panel is not a row")
	}
	ids := map[int]bool{}
	type cell struct{ x, y int }
	taken := map[cell]string{}
	var all []panelJSON
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	for _, p := range all {
		if ids[p.ID] || p.ID <= 0 {
			bad("panel id %d (%q) is repeated or not positive", p.ID, p.Title)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			bad("panel %d (%q) lies off the grid: %+v", p.ID, p.Title, g)
			continue
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := taken[cell{x, y}]; ok {
					bad("panel %d (%q) overlaps %s at (%d,%d)", p.ID, p.Title, other, x, y)
					return errs
				}
				taken[cell{x, y}] = fmt.Sprintf("panel %d (%q)", p.ID, p.Title)
			}
		}
	}
	return errs
}

// The lint catches what it claims to: a broken copy of a committed dashboard fails it.
func TestDashboardsLintCatches(t *testing.T) {
	file := committedDashboards(t)[0]
	var cfg lintConfig
	if err := yaml.Unmarshal(readFile(t, lintFile), &cfg); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*dashJSON)
		want   string
	}{
		{"missing job matcher", func(d *dashJSON) {
			d.Panels[1].Targets[0].Expr = `sum(up{instance=~"$instance"})`
		}, "target-job-rule"},
		{"fixed range", func(d *dashJSON) {
			d.Panels[1].Targets[0].Expr = `sum(rate(x_total{job=~"$job",instance=~"$instance"}[5m]))`
		}, "target-rate-interval-rule"},
		{"raw counter", func(d *dashJSON) {
			d.Panels[1].Targets[0].Expr = `sum(x_total{job=~"$job",instance=~"$instance"})`
		}, "target-counter-agg-rule"},
		{"unaggregated rate", func(d *dashJSON) {
			d.Panels[1].Targets[0].Expr = `rate(x_total{job=~"$job",instance=~"$instance"}[$__rate_interval])`
		}, "is not aggregated"},
		{"buckets without le", func(d *dashJSON) {
			d.Panels[1].Targets[0].Expr = `histogram_quantile(0.9, sum by (job) (rate(h_bucket{job=~"$job",instance=~"$instance"}[$__rate_interval])))`
		}, "not summed by le"},
		{"no unit", func(d *dashJSON) { d.Panels[1].FieldConfig.Defaults.Unit = "" }, "panel-units-rule"},
		{"no description", func(d *dashJSON) { d.Panels[1].Description = "" }, "panel-title-description-rule"},
		{"fixed datasource", func(d *dashJSON) { d.Panels[1].Datasource = &dsJSON{UID: "prom"} }, "panel-datasource-rule"},
		{"repeated id", func(d *dashJSON) { d.Panels[2].ID = d.Panels[1].ID }, "repeated"},
		{"overlap", func(d *dashJSON) { d.Panels[2].GridPos = d.Panels[1].GridPos }, "overlaps"},
		{"single-value job", func(d *dashJSON) { d.Templating.List[1].Multi = false }, "want multi"},
		{"editable", func(d *dashJSON) { d.Editable = true }, "template-uneditable-rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := loadDashboard(t, file)
			tt.mutate(&d)
			errs := lintDashboard(d, cfg, map[string]bool{})
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Fatalf("want a %q violation, got %v", tt.want, errs)
			}
		})
	}
	if errs := lintDashboard(loadDashboard(t, file), cfg, map[string]bool{}); len(errs) > 0 {
		t.Fatalf("the unbroken %s: %v", filepath.Base(file), errs)
	}
}
