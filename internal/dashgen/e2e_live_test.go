package dashgen

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// liveRateInterval is what Grafana makes of $__rate_interval with a 1 s step over a 1 s
// scrape interval: four scrape intervals.
const liveRateInterval = "4s"

// liveWait bounds each wait of the live test on Prometheus (its first scrape comes about
// 5 s after it starts) and the whole evaluation of the panels.
const liveWait = 45 * time.Second

// The real agent with the demo actors file, a real Prometheus scraping it (and the
// collector's own metrics) every second with the rules loaded, and a real collector
// receiving the agent's OTLP. A workload fills the slow actor's queue, calls every kind of
// RPC, stops actors cleanly, poisons the proc with an exec worker exiting 1, fails a
// handler and has a spawn refused. Then every target of every panel, with the variables
// filled from their own queries, is evaluated over the run through query_range and must
// answer with at least one series; every rule is healthy; the proc-poisoned alert is
// pending or firing; and the agent exits 1.
func TestE2EDashboardsLive(t *testing.T) {
	began := time.Now()
	root := moduleRoot(t)
	promBin := requireBinary(t, "prometheus", "PROCAGENT_PROMETHEUS", "make deps", onPath("prometheus"))
	colBin := requireBinary(t, "the OpenTelemetry Collector", "PROCAGENT_OTELCOL", "make otelcol", newestOtelcol(root))
	requireBinary(t, "python3 (the demo actors' worker)", "", "apt-get install python3", onPath("python3"))
	dir := t.TempDir()
	agentBin := buildAgent(t, root, dir)

	otlpAddr, colMetricsAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	col := startLive(t, "otelcol", colBin, nil, "--config="+liveCollectorConfig(t, dir, otlpAddr, colMetricsAddr))
	waitListening(t, col, otlpAddr)

	ag := startLiveAgent(t, agentBin, filepath.Join(root, "examples", "demo-actors.yaml"), otlpAddr)

	promAddr := testenv.FreeAddr(t)
	prom := startLive(t, "prometheus", promBin, nil,
		"--config.file="+livePrometheusConfig(t, root, dir, ag.addr, colMetricsAddr),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr)
	api := newPromAPI(promAddr)
	failWith := func(what string) string {
		return fmt.Sprintf("%s\nprometheus:\n%s\nagent:\n%s\ncollector:\n%s", what,
			lastLines(prom.out.String(), 20), lastLines(ag.proc.out.String(), 20), lastLines(col.out.String(), 20))
	}

	// A healthy proc at work: handled messages, clean stops, every kind of RPC and two
	// refused ones; then, once Prometheus scrapes, a backlog behind the slow actor.
	ag.healthyTraffic(t)
	waitProm(t, api, `up{job="procagent"} == 1`, failWith)
	ag.fillSlowQueue(t)
	waitProm(t, api, `max_over_time(procagent_queue_depth{job="procagent"}[1m]) > 0`, failWith)
	waitProm(t, api, `up{job="otelcol"} == 1`, failWith)

	// Then the failures: the exec worker exits 1 (the proc is poisoned), a handler fails,
	// a spawn is refused.
	ag.failures(t)
	waitProm(t, api, `procagent_proc_poisoned{job="procagent"} == 1`, failWith)
	poisoned := waitAlert(t, api, "ProcAgentProcPoisoned", ag.addr)
	t.Logf("alert ProcAgentProcPoisoned is %s", poisoned)

	// The variables, from their own queries: the job the scrape config names, the agent,
	// and the collector.
	vars := map[string]string{"__rate_interval": liveRateInterval}
	for _, file := range committedDashboards(t) {
		for _, v := range loadDashboard(t, file).Templating.List {
			if v.Type == "query" {
				vars[v.Name] = fillVariable(t, api, v, vars, began)
			}
		}
	}
	for name, want := range map[string]string{"job": "procagent", "instance": ag.addr, "otelcol_job": "otelcol", "otelcol_instance": colMetricsAddr} {
		if vars[name] != promRegex(want) {
			t.Fatalf("variable %s = %q, want %q", name, vars[name], promRegex(want))
		}
	}

	evaluatePanels(t, api, vars, began)
	waitRulesHealthy(t, api)

	if code := ag.proc.stop(); code != 1 {
		t.Errorf("agent exit code %d, want 1 (an actor failed)", code)
	}
	t.Logf("TestE2EDashboardsLive wall time: %v", time.Since(began).Round(100*time.Millisecond))
}

// liveTarget is one query of one panel and what it answered.
type liveTarget struct {
	file, panel, ref, expr string
	series                 int
	err                    error
}

// evaluatePanels evaluates every target of every committed panel over [began, now] until
// each answers with a series, then logs the table panel → series count.
func evaluatePanels(t *testing.T, api promAPI, vars map[string]string, began time.Time) {
	t.Helper()
	var targets []*liveTarget
	for _, file := range committedDashboards(t) {
		for _, p := range loadDashboard(t, file).queryPanels() {
			for _, tg := range p.Targets {
				expr := fillVars(tg.Expr, vars)
				if strings.Contains(expr, "$") {
					t.Fatalf("%s %q: a variable is left in %s", file, p.Title, expr)
				}
				targets = append(targets, &liveTarget{file: file, panel: p.Title, ref: tg.RefID, expr: expr})
			}
		}
	}
	defer logTargets(t, targets)
	testenv.EventuallyWithin(t, liveWait, "every panel's every target to answer with a series", throttled(time.Second, func() bool {
		done := true
		for _, tg := range targets {
			if tg.series > 0 {
				continue
			}
			s, err := api.queryRange(t.Context(), tg.expr, began, time.Now(), time.Second)
			tg.series, tg.err = len(s), err
			done = done && err == nil && len(s) > 0
		}
		return done
	}))
	// The table shows what each target answers over the whole run.
	for _, tg := range targets {
		s, err := api.queryRange(t.Context(), tg.expr, began, time.Now(), time.Second)
		tg.series, tg.err = len(s), err
		if err != nil || len(s) == 0 {
			t.Errorf("%s %q %s: %d series, %v", tg.file, tg.panel, tg.ref, len(s), err)
		}
	}
}

// logTargets logs the table panel → series count (and what failed).
func logTargets(t *testing.T, targets []*liveTarget) {
	t.Helper()
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "dashboard\tpanel\ttarget\tseries")
	for _, tg := range targets {
		n := fmt.Sprint(tg.series)
		if tg.err != nil {
			n = "error: " + tg.err.Error()
		} else if tg.series == 0 {
			n = "0 (no data): " + tg.expr
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", tg.file, tg.panel, tg.ref, n)
	}
	_ = w.Flush() // a strings.Builder does not fail
	t.Logf("%d targets evaluated through query_range:\n%s", len(targets), b.String())
}

var varRef = regexp.MustCompile(`\$\{\w+\}|\$\w+`)

// fillVars replaces $name and ${name} by the variables' values.
func fillVars(expr string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(expr, func(m string) string {
		if v, ok := vars[strings.Trim(m, "${}")]; ok {
			return v
		}
		return m
	})
}

// promRegex formats a value of a multi-value variable as Grafana's Prometheus data source
// does inside a regex matcher: regex-escaped, then escaped for the PromQL string.
func promRegex(v string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
}

// fillVariable answers a label_values variable query as Grafana does, over the run, with
// the variables before it filled in, and returns the one value as the variable's value.
func fillVariable(t *testing.T, api promAPI, v varJSON, vars map[string]string, began time.Time) string {
	t.Helper()
	selector, label, err := labelValuesArgs(v.queryString())
	if err != nil {
		t.Fatalf("variable %s: %v", v.Name, err)
	}
	vals, err := api.labelValues(t.Context(), label, fillVars(selector, vars), began, time.Now())
	if err != nil || len(vals) != 1 {
		t.Fatalf("variable %s: label_values(%s, %s) = %v, %v; want one value", v.Name, fillVars(selector, vars), label, vals, err)
	}
	return promRegex(vals[0])
}

// throttled runs cond at most once per d and reports false in between: a poll of
// Prometheus is an HTTP request, not a memory read.
func throttled(d time.Duration, cond func() bool) func() bool {
	var last time.Time
	return func() bool {
		if time.Since(last) < d {
			return false
		}
		last = time.Now()
		return cond()
	}
}

// waitProm waits until expr answers with at least one series.
func waitProm(t *testing.T, api promAPI, expr string, failWith func(string) string) {
	t.Helper()
	var lastErr error
	ok := false
	defer func() {
		if !ok {
			t.Log(failWith(fmt.Sprintf("last error of %s: %v", expr, lastErr)))
		}
	}()
	testenv.EventuallyWithin(t, liveWait, expr, throttled(250*time.Millisecond, func() bool {
		s, err := api.query(t.Context(), expr)
		lastErr = err
		return err == nil && len(s) > 0
	}))
	ok = true
}

// waitAlert waits until alertname is pending or firing for instance and returns its state.
func waitAlert(t *testing.T, api promAPI, alertname, instance string) string {
	t.Helper()
	state := ""
	testenv.EventuallyWithin(t, liveWait, alertname+" pending or firing", throttled(250*time.Millisecond, func() bool {
		alerts, err := api.alerts(t.Context())
		if err != nil {
			return false
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == alertname && a.Labels["instance"] == instance && (a.State == "pending" || a.State == "firing") {
				state = a.State
				return true
			}
		}
		return false
	}))
	return state
}

// waitRulesHealthy waits until every rule has been evaluated without error.
func waitRulesHealthy(t *testing.T, api promAPI) {
	t.Helper()
	var bad []string
	n := 0
	defer func() {
		if len(bad) > 0 {
			t.Logf("unhealthy rules: %v", bad)
		}
	}()
	testenv.EventuallyWithin(t, liveWait, "every rule healthy", throttled(250*time.Millisecond, func() bool {
		rules, err := api.rules(t.Context())
		if err != nil {
			return false
		}
		bad, n = nil, len(rules)
		for _, r := range rules {
			if r.Health != "ok" {
				bad = append(bad, fmt.Sprintf("%s: %s %s", r.Name, r.Health, r.LastError))
			}
		}
		return n > 0 && len(bad) == 0
	}))
	if want := len(loadRules(t)); n != want {
		t.Errorf("Prometheus loaded %d rules, %s has %d", n, rulesFile, want)
	}
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, p *liveProc, addr string) {
	t.Helper()
	var d net.Dialer
	testenv.EventuallyWithin(t, liveWait, p.name+" listening on "+addr, throttled(50*time.Millisecond, func() bool {
		if p.exited() {
			t.Fatalf("%s exited:\n%s", p.name, p.out.String())
		}
		c, err := d.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}))
}
