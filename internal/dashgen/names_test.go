package dashgen

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// leftOut are the families of the names table no panel shows, and why.
var leftOut = map[string]string{
	"target_info":               "the OTel resource as labels; up and the Versions table identify each agent",
	"promhttp_metric_handler_*": "the /metrics handler's own bookkeeping; Prometheus's up says whether scrapes work",
}

// Names queried that are not the agent's: Prometheus's own series for each target, and the
// collector's own metrics (the fleet dashboard's OTLP export row).
const (
	promUp          = "up"
	collectorPrefix = "otelcol_"
)

// nameResolver says which family of the names table a queried name belongs to.
type nameResolver struct {
	exact    map[string]Family // by Prom name, histograms also by _bucket, _count and _sum
	patterns []Family          // the "prefix_*" families
	records  map[string]bool   // recording rules
}

func newNameResolver(fams []Family, rules []rule) nameResolver {
	r := nameResolver{exact: map[string]Family{}, records: map[string]bool{}}
	for _, f := range fams {
		if strings.HasSuffix(f.Prom, "*") {
			r.patterns = append(r.patterns, f)
			continue
		}
		r.exact[f.Prom] = f
		if f.Kind == "histogram" {
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				r.exact[f.Prom+suf] = f
			}
		}
	}
	for _, rl := range rules {
		if rl.Record != "" {
			r.records[rl.Record] = true
		}
	}
	return r
}

// family returns the family name names, "" with ok for the names allowed without one, or an
// error.
func (r nameResolver) family(name string, collectorAllowed bool) (string, error) {
	if f, ok := r.exact[name]; ok {
		return f.Prom, nil
	}
	for _, f := range r.patterns {
		if strings.HasPrefix(name, strings.TrimSuffix(f.Prom, "*")) {
			return f.Prom, nil
		}
	}
	switch {
	case name == promUp:
		return "", nil
	case r.records[name]:
		return "", nil
	case strings.HasPrefix(name, collectorPrefix) && collectorAllowed:
		return "", nil
	case strings.Contains(name, ":"):
		return "", fmt.Errorf("%s is not a recording rule of %s", name, rulesFile)
	}
	return "", fmt.Errorf("%s is not a metric the agent exports (%s)", name, NamesFile)
}

// queriedNames returns every metric name the dashboards' targets and variables select.
func queriedNames(t *testing.T) map[string][]string {
	t.Helper()
	names := map[string][]string{} // name -> where
	add := func(where, expr string) {
		sels, err := scanPromQL(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			return
		}
		for _, s := range sels {
			names[s.metric] = append(names[s.metric], where)
		}
	}
	for _, file := range committedDashboards(t) {
		d := loadDashboard(t, file)
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			sel, _, err := labelValuesArgs(v.queryString())
			if err != nil {
				t.Errorf("%s variable %s: %v", file, v.Name, err)
				continue
			}
			add(file+" variable "+v.Name, sel)
		}
		for _, p := range d.queryPanels() {
			for _, tg := range p.Targets {
				add(fmt.Sprintf("%s panel %q", file, p.Title), tg.Expr)
			}
		}
	}
	return names
}

// Every metric a dashboard queries is one the agent exports (or up, a recording rule, or the
// collector's own), every family the agent exports appears on some panel or is left out on
// purpose, and the rules name only metrics the agent exports.
func TestDashboardMetricNames(t *testing.T) {
	fams, err := LoadFamilies(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	rules := loadRules(t)
	res := newNameResolver(fams, rules)

	shown := map[string]bool{}
	for name, where := range queriedNames(t) {
		fam, err := res.family(name, true)
		if err != nil {
			t.Errorf("%v (queried by %s)", err, where[0])
			continue
		}
		if fam != "" {
			shown[fam] = true
		}
	}
	for _, f := range fams {
		reason, out := leftOut[f.Prom]
		switch {
		case shown[f.Prom] && out:
			t.Errorf("%s is shown but listed as left out (%s)", f.Prom, reason)
		case !shown[f.Prom] && !out:
			t.Errorf("%s (%s) appears on no panel: show it or list it in leftOut with a reason", f.Prom, NamesFile)
		}
	}
	for name := range leftOut {
		if !slices.ContainsFunc(fams, func(f Family) bool { return f.Prom == name }) {
			t.Errorf("leftOut names %s, which is not in %s", name, NamesFile)
		}
	}

	// The rules' expressions, and every recording rule is read by an alert or a dashboard.
	read := map[string]bool{}
	for name := range queriedNames(t) {
		read[name] = true
	}
	for _, rl := range rules {
		sels, err := scanPromQL(rl.Expr)
		if err != nil {
			t.Errorf("rule %s%s: %v", rl.Record, rl.Alert, err)
			continue
		}
		for _, s := range sels {
			if _, err := res.family(s.metric, false); err != nil {
				t.Errorf("rule %s%s: %v", rl.Record, rl.Alert, err)
			}
			read[s.metric] = true
		}
	}
	for _, rl := range rules {
		if rl.Record != "" && !read[rl.Record] {
			t.Errorf("recording rule %s is read by no alert and no dashboard", rl.Record)
		}
	}
}

// The names table is read whole: every family the README's table lists, in its order.
func TestLoadFamilies(t *testing.T) {
	fams, err := LoadFamilies(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(readFile(t, "README.md"))
	for _, f := range fams {
		if f.Kind == "" || f.Help == "" {
			t.Errorf("%s: kind %q, help %q", f.Prom, f.Kind, f.Help)
		}
		if !strings.Contains(readme, "`"+f.Prom+"`") {
			t.Errorf("%s is not in the README's metrics table", f.Prom)
		}
	}
	for _, want := range []string{mQueueDepth, mHandlerDuration, mMemoryUsage, "go_*"} {
		if !slices.ContainsFunc(fams, func(f Family) bool { return f.Prom == want }) {
			t.Errorf("LoadFamilies lacks %s", want)
		}
	}
}
