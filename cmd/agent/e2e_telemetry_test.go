package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// telemetryActors: an echo, a slow consumer to queue behind, and a Python
// worker whose memory must show up labelled by actor and pid.
const telemetryActors = `actors:
  - id: echo
    type: echo
  - id: slow
    type: sleep
    params: {ms: 600000}
  - id: worker
    type: exec
    params:
      argv: [python3, -c, "import time\nwhile True: time.sleep(0.2)"]
`

func writeActors(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "actors.yaml")
	if err := os.WriteFile(path, []byte(telemetryActors), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// actorPid reads an actor's pid through `agent ctl -o json get`.
func (a *servedAgent) actorPid(t *testing.T, id string) int {
	t.Helper()
	pid := 0
	testenv.Eventually(t, "a pid for "+id, func() bool {
		out, code := a.ctl(t, "-o", "json", "get", id)
		var res struct {
			State struct {
				Actor struct {
					Pid string `json:"pid"`
				} `json:"actor"`
			} `json:"state"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
			return false
		}
		pid, _ = strconv.Atoi(res.State.Actor.Pid)
		return pid > 0
	})
	return pid
}

// queueBehindSlow sends messages to the slow actor so its mailbox fills.
func (a *servedAgent) queueBehindSlow(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		if _, code := a.ctl(t, "send", "slow", strconv.Itoa(i)); code != 0 {
			t.Fatalf("send %d to slow failed", i)
		}
	}
}

// A real Prometheus scrapes a running agent; its query API returns the
// queue-depth and memory series with the right labels.
func TestE2EPrometheusScrapesAgent(t *testing.T) {
	a := startAgent(t, "--actors", writeActors(t))
	workerPid := a.actorPid(t, "worker")
	a.queueBehindSlow(t, 5) // one in the handler, four waiting
	prom := testenv.StartPrometheus(t, []string{a.addr}, time.Second)
	wait := 60 * time.Second

	prom.WaitFor(t, `procagent_queue_depth{job="procagent"}`, func(s []testenv.Sample) bool {
		return len(s) == 1 && s[0].Value >= 4
	}, wait)
	prom.WaitFor(t, `procagent_actor_queue_depth{actor="slow"}`, func(s []testenv.Sample) bool {
		return len(s) == 1 && s[0].Value >= 4 && s[0].Labels["actor_type"] == "sleep"
	}, wait)
	prom.WaitFor(t, `procagent_queue_depth_high_water_mark`, func(s []testenv.Sample) bool {
		return len(s) == 1 && s[0].Value >= 4
	}, wait)
	prom.WaitFor(t, `process_memory_usage_bytes{actor="worker"}`, func(s []testenv.Sample) bool {
		return len(s) == 1 && s[0].Value > 0 && s[0].Labels["pid"] == strconv.Itoa(workerPid) && s[0].Labels["proc_id"] != ""
	}, wait)
	prom.WaitFor(t, `process_memory_virtual_bytes{actor=""}`, func(s []testenv.Sample) bool {
		return len(s) == 1 && s[0].Value > 0 && s[0].Labels["pid"] == strconv.Itoa(a.cmd.Process.Pid)
	}, wait)
	prom.WaitFor(t, `procagent_actors{status="RUNNING"}`, func(s []testenv.Sample) bool {
		return len(s) == 1 && s[0].Value == 3
	}, wait)
	prom.WaitFor(t, `rpc_server_call_duration_seconds_count{rpc_method=~".*Send"}`, func(s []testenv.Sample) bool {
		return len(s) >= 1 && s[0].Value >= 5
	}, wait)
	prom.WaitFor(t, `process_resident_memory_bytes`, func(s []testenv.Sample) bool { return len(s) == 1 && s[0].Value > 0 }, wait)

	// Every metric in the README's table reaches Prometheus once each kind of
	// event has happened: a handled message, a stop, a supervision event.
	a.exerciseAll(t)
	for _, m := range readmeMetrics(t) {
		if m.prom == "" {
			continue
		}
		q := m.prom
		if m.kind == "histogram" {
			q += "_count"
		}
		prom.WaitFor(t, q, func(s []testenv.Sample) bool { return len(s) > 0 }, wait)
	}

	a.ctl(t, "stopall")
	if code := a.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// A real OpenTelemetry Collector receives the agent's OTLP push: memory
// gauges, queue depth, the supervision-event counter and spans. Then the
// collector goes away for a while: the agent keeps running with bounded
// memory, and export resumes when it is back.
func TestE2ECollectorReceivesAndResumes(t *testing.T) {
	col := testenv.StartCollector(t)
	a := startAgentEnv(t, []string{"OTEL_METRIC_EXPORT_INTERVAL=300", "OTEL_BSP_SCHEDULE_DELAY=200"},
		"--actors", writeActors(t), "--otlp-endpoint", "http://"+col.Endpoint())
	workerPid := a.actorPid(t, "worker")
	a.queueBehindSlow(t, 3)
	if out, code := a.ctl(t, "create", "crash", "exec", "--params", `{"argv":["python3","-c","import sys; sys.exit(3)"]}`); code != 0 {
		t.Fatalf("create crash: %s", out)
	}
	wait := 60 * time.Second

	col.WaitForMetric(t, "process.memory.usage", func(p testenv.Point) bool {
		return p.Attributes["actor"] == "worker" && p.Attributes["pid"] == strconv.Itoa(workerPid) && p.Value > 0
	}, wait)
	col.WaitForMetric(t, "procagent.queue.depth", func(p testenv.Point) bool { return p.Value >= 2 }, wait)
	col.WaitForMetric(t, "procagent.supervision.events", func(p testenv.Point) bool {
		return p.Attributes["status"] == "FAILED" && p.Value >= 1
	}, wait)
	span := col.WaitForSpan(t, "procagent.actor", func(s testenv.Span) bool {
		if s.Attributes["procagent.actor.id"] != "crash" && !strings.Contains(fmt.Sprint(s.Attributes), "crash") {
			return false
		}
		for _, ev := range s.Events {
			if ev.Attributes["process.exit.code"] == "3" {
				return true
			}
		}
		return false
	}, wait)
	if span.Status.Code != "Error" {
		t.Fatalf("the crashed actor's span status = %+v", span.Status)
	}
	if span.Resource["service.name"] != "procagent" {
		t.Fatalf("span resource = %v", span.Resource)
	}

	a.exerciseAll(t)
	for _, m := range readmeMetrics(t) {
		if m.otel != "" {
			col.WaitForMetric(t, m.otel, nil, wait)
		}
	}

	col.Stop()
	rssBefore := rssOf(t, a.cmd.Process.Pid)
	for i := range 20 { // keep the agent busy while nothing receives
		if _, code := a.ctl(t, "create", fmt.Sprintf("outage-%d", i), "echo"); code != 0 {
			t.Fatalf("the agent stopped answering during the outage")
		}
	}
	testenv.EventuallyWithin(t, 30*time.Second, "an export to fail while the collector is down", func() bool {
		return strings.Contains(a.stderr.String(), "telemetry export")
	})
	if rss := rssOf(t, a.cmd.Process.Pid); rss > rssBefore+64<<20 {
		t.Fatalf("agent RSS grew from %d to %d bytes while the collector was down", rssBefore, rss)
	}
	restarted := time.Now()
	col.Start()
	// The crash poisoned the proc, so the outage's creates were refused:
	// FAILED counts them, and only an export made after the restart can.
	col.WaitForMetric(t, "procagent.actors", func(p testenv.Point) bool {
		return p.Time.After(restarted) && p.Attributes["status"] == "FAILED" && p.Value >= 21
	}, wait)

	a.ctl(t, "stopall")
	if code := a.wait(t); code != 1 { // the crash actor failed
		t.Fatalf("exit code %d, want 1", code)
	}
}

// exerciseAll makes every kind of event the metrics count happen: a
// handled message, a stop and its supervision event.
func (a *servedAgent) exerciseAll(t *testing.T) {
	t.Helper()
	if _, code := a.ctl(t, "send", "echo", `"ping"`, "--wait"); code != 0 {
		t.Fatal("send to echo failed")
	}
	a.ctl(t, "stop", "slow") // interrupts its sleep: a clean stop
	if out, code := a.ctl(t, "wait", "slow", "--min", "STOPPED"); code != 0 || !strings.Contains(out, "STOPPED") {
		t.Fatalf("slow did not stop: %s", out)
	}
}

// metricRow is one row of the README's metrics table.
type metricRow struct {
	otel, prom, kind string
}

// readmeMetrics reads the README's metrics table: the OTel and Prometheus
// name of every family the agent itself emits (rows naming a family of
// another library, like process_*, carry no single name and are skipped).
func readmeMetrics(t *testing.T) []metricRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	begin := strings.Index(text, "<!-- BEGIN metrics table")
	end := strings.Index(text, "<!-- END metrics table -->")
	if begin < 0 || end < begin {
		t.Fatal("README has no metrics table")
	}
	var rows []metricRow
	for _, line := range strings.Split(text[begin:end], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") && strings.TrimSpace(cells[1]) != "—" {
			continue
		}
		name := func(c string) string {
			c = strings.TrimSpace(c)
			if !strings.HasPrefix(c, "`") || strings.Contains(c, "*") {
				return ""
			}
			return strings.Trim(c, "`")
		}
		r := metricRow{otel: name(cells[1]), prom: name(cells[3]), kind: strings.TrimSpace(cells[4])}
		if r.otel != "" || r.prom != "" {
			rows = append(rows, r)
		}
	}
	if len(rows) < 10 {
		t.Fatalf("only %d metrics in the README table", len(rows))
	}
	return rows
}

// rssOf reads a process's resident set size from /proc.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}
