package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/procagent/procagent/internal/testenv"
)

// meshCtl runs the real `agent ctl ARGS…` (a mesh command) and returns
// its stdout, stderr and exit code. The agents are on loopback, so ctl
// sends them the local token file's token, as it would by itself.
func meshCtl(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), buildAgent(t), append([]string{"ctl"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// writeFile writes body to name in a new temporary directory and returns
// its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// delayingProxy serves h2c on loopback and forwards every request to the
// agent at addr only once the test ends (or never, when the caller gives
// up first): a real agent that answers past any deadline.
func delayingProxy(t *testing.T, addr string) string {
	t.Helper()
	release := make(chan struct{})
	backend := &url.URL{Scheme: "http", Host: addr}
	transport := &http.Transport{Protocols: testenv.H2COnly()}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(backend) }, Transport: transport}
	srv := testenv.NewH2CServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(release)
		transport.CloseIdleConnections()
	})
	return srv.Addr
}

// tlsProxy serves HTTP/2 over TLS on loopback in front of the agent at
// addr, as a TLS-terminating proxy does, and returns its address and the
// path of its CA certificate as a PEM file.
func tlsProxy(t *testing.T, addr string) (proxyAddr, caFile string) {
	t.Helper()
	backend := &url.URL{Scheme: "http", Host: addr}
	transport := &http.Transport{Protocols: testenv.H2COnly()}
	srv := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(backend) }, Transport: transport})
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv.Listener.Addr().String(), writeFile(t, "ca.pem", string(ca))
}

// The mesh commands through the real binary against real `agent serve`
// processes, with the token each agent requires: ranks 0–2 healthy, rank 3
// a worker that exits 3 (its proc is poisoned from then on), rank 4 a
// closed port, rank 5 a real agent behind a proxy that answers past the
// deadline. Every command completes with every rank's status and exits 1;
// the stop-all ends the agents that answered, with their exit codes; an
// https target is reached through a TLS proxy with --ca-file.
func TestE2EMesh(t *testing.T) {
	agents := []*servedAgent{startAgent(t), startAgent(t), startAgent(t), startAgentEnv(t, []string{"FAIL=3"}), startAgent(t)}
	slow := delayingProxy(t, agents[4].addr)
	down := testenv.FreeAddr(t)
	inventory := writeFile(t, "agents.yml", fmt.Sprintf(`# ranks 0-3 by position, then two by their rank label
- targets: [%s, %s, %s, %s]
  labels: {env: e2e}
- targets: [%s]
  labels: {rank: 4}
- targets: [%s]
  labels: {rank: 5, role: slow}
`, agents[0].addr, agents[1].addr, agents[2].addr, agents[3].addr, down, slow))
	fleet := []string{"--targets", inventory, "--rank-timeout", "1s"}
	const (
		gone  = "4 UNKNOWN: unreachable: connection refused"
		late  = "5 TIMEOUT: no answer within 1s"
		crash = "3 FAILED: process exited with code 3"
	)
	// The worker runs until stopped, except where FAIL is set: there it
	// exits with that code.
	worker := `{"argv":["sh","-c","[ -z \"$FAIL\" ] && exec sleep 600; exit $FAIL"]}`

	out, errOut, code := meshCtl(t, append([]string{"mesh", "create", "job", "exec", "--params", worker}, fleet...)...)
	if !regexp.MustCompile(`^ranks 0–\d (RUNNING|INITIALIZING).* · `+gone+" · "+late+"\n$").MatchString(out) || code != 1 {
		t.Fatalf("mesh create: exit %d\n%s%s", code, out, errOut)
	}
	agents[3].mustCtl(t, "wait", "job", "--min", "STOPPED")

	out, errOut, code = meshCtl(t, append([]string{"mesh", "wait", "job", "--min", "RUNNING", "--timeout", "20s"}, fleet...)...)
	if want := "ranks 0–2 RUNNING · " + crash + " · " + gone + " · " + late + "\n"; out != want || code != 1 ||
		errOut != "agent ctl: 3 of 6 ranks below RUNNING: 1 FAILED, 1 TIMEOUT, 1 UNKNOWN\n" {
		t.Errorf("mesh wait: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
	}

	out, errOut, code = meshCtl(t, append([]string{"mesh", "create", "side", "echo"}, fleet...)...)
	if want := `ranks 0–2 RUNNING · 3 FAILED: proc is poisoned: actor "job" failed: process exited with code 3 (1 failed) · ` + gone + " · " + late + "\n"; out != want || code != 1 {
		t.Errorf("mesh create on a poisoned rank: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
	}

	// The token is the fleet's: a wrong one is refused by every agent that
	// answers, and the command still completes.
	out, errOut, code = meshCtl(t, "--token", "wrong", "mesh", "create", "other", "echo", "--targets", inventory, "--rank-timeout", "1s")
	if !strings.HasPrefix(out, "ranks 0–3 UNKNOWN: unauthenticated") || code != 1 {
		t.Errorf("mesh create with a wrong token: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = meshCtl(t, append([]string{"mesh", "list"}, fleet...)...)
	for _, row := range []string{
		`job\s+exec\s+0–2 RUNNING · 3 FAILED · 4 UNKNOWN · 5 TIMEOUT\n`,
		`side\s+echo\s+0–2 RUNNING · 3 FAILED · 4 UNKNOWN · 5 TIMEOUT\n`,
		"did not answer: ranks " + gone + " · " + late + "\n$",
	} {
		if !regexp.MustCompile(row).MatchString(out) || code != 1 {
			t.Errorf("mesh list: exit %d, no %q in\n%s%s", code, row, out, errOut)
		}
	}

	proxy, ca := tlsProxy(t, agents[0].addr)
	out, errOut, code = meshCtl(t, "mesh", "status", "job", "--targets", proxy, "--scheme", "https", "--ca-file", ca, "--protocol", "grpc")
	if out != "rank 0 RUNNING\n" || code != 0 {
		t.Errorf("mesh status through a TLS proxy: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = meshCtl(t, append([]string{"mesh", "stopall", "--timeout", "2s"}, fleet...)...)
	if want := "ranks 0–2 STOPPED: stopped 2 actors · 3 FAILED: an actor had failed: the agent exits 1 · " + gone +
		" · 5 TIMEOUT: no answer before the deadline\n"; out != want || code != 1 {
		t.Errorf("mesh stopall: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
	}
	for i, want := range []int{0, 0, 0, 1} {
		if got := agents[i].wait(t); got != want {
			t.Errorf("agent %d exited %d, want %d", i, got, want)
		}
	}
}

// fleetSize is how many agent processes TestE2EMeshPrometheus runs.
const fleetSize = 20

// A real Prometheus scrapes 20 real agents from the file_sd file the mesh
// commands read: the config is dashboards/prometheus/prometheus.yml with
// 1 s intervals and the test's paths. After `mesh create` and `mesh wait`
// over that file, each of the fleet dashboard's per-agent queries answers
// one series per agent, the inventory's addresses, and the agents' RUNNING
// actors add up to the fleet.
func TestE2EMeshPrometheus(t *testing.T) {
	dir := t.TempDir()
	var (
		addrs  []string
		agents []*servedAgent
	)
	for range fleetSize {
		a := startAgent(t)
		agents = append(agents, a)
		addrs = append(addrs, a.addr)
	}
	inventory := filepath.Join(dir, "targets", "agents.yml")
	if err := os.MkdirAll(filepath.Dir(inventory), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal([]map[string]any{{"targets": addrs, "labels": map[string]string{"env": "e2e"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inventory, b, 0o600); err != nil {
		t.Fatal(err)
	}
	prom := testenv.StartPrometheusFile(t, fileSDPrometheusConfig(t, dir))

	out, errOut, code := meshCtl(t, "mesh", "create", "w", "echo", "--targets", inventory)
	if !regexp.MustCompile(`^ranks 0–19 (RUNNING|INITIALIZING)`).MatchString(out) || code != 0 {
		t.Fatalf("mesh create: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code = meshCtl(t, "mesh", "wait", "w", "--min", "RUNNING", "--targets", inventory); out != "ranks 0–19 RUNNING\n" || code != 0 {
		t.Fatalf("mesh wait: exit %d\n%s%s", code, out, errOut)
	}

	queries := perAgentQueries(t)
	var last string
	defer func() {
		if t.Failed() && last != "" {
			t.Logf("last answer: %s", last)
		}
	}()
	testenv.EventuallyWithin(t, 60*time.Second, "every per-agent query answering one series per agent", func() bool {
		last = ""
		for _, q := range append(queries, `sum by (instance) (procagent_actors{job="procagent",status="RUNNING"})`) {
			got, err := instances(t.Context(), prom, q)
			if err != nil || !slices.Equal(got, sortedCopy(addrs)) {
				last = fmt.Sprintf("%s: %v %v", q, got, err)
				return false
			}
		}
		return true
	})
	if v, err := scalar(t.Context(), prom, `sum(procagent_actors{job="procagent",status="RUNNING"})`); err != nil || v != fleetSize {
		t.Errorf("RUNNING actors across the fleet = %v (%v), want %d", v, err, fleetSize)
	}
	if v, err := scalar(t.Context(), prom, `sum(up{job="procagent"})`); err != nil || v != fleetSize {
		t.Errorf("agents up = %v (%v), want %d", v, err, fleetSize)
	}
	if _, _, code := meshCtl(t, "mesh", "stopall", "--targets", inventory); code != 0 {
		t.Errorf("mesh stopall: exit %d", code)
	}
	for i, a := range agents {
		if got := a.wait(t); got != 0 {
			t.Errorf("agent %d exited %d, want 0", i, got)
		}
	}
}

// perAgentQueries are the fleet dashboard's queries that keep one series
// per agent (grouped by job and instance), with the dashboard's variables
// filled in for every agent of job procagent and a 4 s rate interval.
func perAgentQueries(t *testing.T) []string {
	t.Helper()
	// The only per-agent panel left out: its metric is absent until an
	// agent's queues have once been non-empty (README's metrics table).
	skip := map[string]bool{"Time since the queues were last non-empty": true}
	b, err := os.ReadFile(filepath.Join("..", "..", "dashboards", "grafana", "procagent-fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []dashPanel `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	perAgent := regexp.MustCompile(`^(max|sum) by \(job, instance(, version, go_version)?\) \(`)
	fill := strings.NewReplacer(`$job`, "procagent", `$instance`, ".+", `$__rate_interval`, "4s")
	var out []string
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				if perAgent.MatchString(tg.Expr) && !strings.Contains(tg.Expr, `actor!=""`) && !skip[p.Title] {
					out = append(out, fill.Replace(tg.Expr))
				}
			}
		}
	}
	walk(dash.Panels)
	if len(out) < 10 {
		t.Fatalf("only %d per-agent queries in the fleet dashboard: %q", len(out), out)
	}
	return out
}

// dashPanel is the part of a Grafana panel the test reads.
type dashPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"`
}

// fileSDPrometheusConfig writes dashboards/prometheus/prometheus.yml,
// changed only where a test must: 1 s intervals, its rule file by absolute
// path, the procagent job's file_sd files under dir/targets, and no
// collector job (no collector runs here); it returns the file's path.
func fileSDPrometheusConfig(t *testing.T, dir string) string {
	t.Helper()
	promDir := filepath.Join("..", "..", "dashboards", "prometheus")
	b, err := os.ReadFile(filepath.Join(promDir, "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["global"] = map[string]any{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
	rules, err := filepath.Abs(filepath.Join(promDir, "procagent-rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg["rule_files"] = []string{rules}
	var jobs []any
	for _, j := range cfg["scrape_configs"].([]any) {
		job := j.(map[string]any)
		if job["job_name"] != "procagent" {
			continue
		}
		sd := job["file_sd_configs"].([]any)[0].(map[string]any)
		sd["files"] = []string{filepath.Join(dir, "targets", "*.yml")}
		sd["refresh_interval"] = "1s"
		jobs = append(jobs, job)
	}
	if len(jobs) != 1 {
		t.Fatalf("prometheus.yml: %d procagent jobs, want 1", len(jobs))
	}
	cfg["scrape_configs"] = jobs
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// instances is the sorted instance labels of promql's series, one per
// series.
func instances(ctx context.Context, prom *testenv.Prometheus, promql string) ([]string, error) {
	samples, err := prom.Query(ctx, promql)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range samples {
		out = append(out, s.Labels["instance"])
	}
	slices.Sort(out)
	return out, nil
}

// scalar is the value of promql's one series.
func scalar(ctx context.Context, prom *testenv.Prometheus, promql string) (float64, error) {
	samples, err := prom.Query(ctx, promql)
	if err != nil {
		return 0, err
	}
	if len(samples) != 1 {
		return 0, fmt.Errorf("%s: %d series, want 1", promql, len(samples))
	}
	return samples[0].Value, nil
}

// sortedCopy is a sorted copy of s.
func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
