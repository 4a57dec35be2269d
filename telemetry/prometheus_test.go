package telemetry

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/runtime"
)

// expo is the exposition text of one family: HELP and TYPE from the name
// table, then the samples.
func expo(s metricSpec, samples ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", s.Prom, s.Help, s.Prom, s.Kind)
	for _, l := range samples {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func TestPrometheusMetrics(t *testing.T) {
	f := newFixture(t, Options{})
	exercise(t, f, false)

	want := expo(mQueueDepth, "procagent_queue_depth 3") +
		expo(mQueueDepthMax, "procagent_queue_depth_max 3") +
		expo(mQueueNonzeroAge, "procagent_queue_last_nonzero_age_seconds 0") +
		expo(mActorQueueDepth, `procagent_actor_queue_depth{actor="s1",actor_type="sleep"} 3`) +
		expo(mActorQueueOmitted, "procagent_actor_queue_depth_omitted 0") +
		expo(mActors,
			`procagent_actors{status="FAILED"} 2`,
			`procagent_actors{status="RUNNING"} 1`,
			`procagent_actors{status="STOPPED"} 1`,
			`procagent_actors{status="STOPPING"} 0`,
			`procagent_actors{status="TIMEOUT"} 0`) +
		expo(mPoisoned, "procagent_proc_poisoned 1") +
		expo(mFailedActors, "procagent_proc_failed_actors 1") +
		expo(mSpawns,
			`procagent_actor_spawns_total{error="false"} 3`,
			`procagent_actor_spawns_total{error="true"} 1`) +
		expo(mStops, "procagent_actor_stops_total 1") +
		expo(mSupervision,
			`procagent_supervision_events_total{error="false",status="STOPPED"} 1`,
			`procagent_supervision_events_total{error="true",status="FAILED"} 1`) +
		expo(mMessagesHandled,
			`procagent_messages_handled_total{actor_type="echo",error="false"} 1`,
			`procagent_messages_handled_total{actor_type="fail",error="false"} 0`,
			`procagent_messages_handled_total{actor_type="fail",error="true"} 1`) +
		expo(mBuildInfo, fmt.Sprintf(`procagent_build_info{go_version=%q,version=%q} 1`, goVersion(), mainVersion()))
	names := []string{
		mQueueDepth.Prom, mQueueDepthMax.Prom, mQueueNonzeroAge.Prom, mActorQueueDepth.Prom, mActorQueueOmitted.Prom,
		mActors.Prom, mPoisoned.Prom, mFailedActors.Prom, mSpawns.Prom, mStops.Prom, mSupervision.Prom,
		mMessagesHandled.Prom, mBuildInfo.Prom,
	}
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	// The high-water mark is at least the depth (the first message may have
	// been queued alone before the sleep actor took it).
	if hwm := gatherOne(t, f.reg, mQueueHighWater.Prom, nil).GetGauge().GetValue(); hwm < 3 || hwm > 4 {
		t.Errorf("high-water mark %v, want 3 or 4", hwm)
	}
	// One handler call each for echo and fail; the sleep handler is still
	// running, so it is not recorded yet.
	for typ, n := range map[string]uint64{"echo": 1, "fail": 1} {
		h := gatherOne(t, f.reg, mHandlerDuration.Prom, map[string]string{labelActorType: typ}).GetHistogram()
		if h.GetSampleCount() != n || h.GetSampleSum() <= 0 || len(h.GetBucket()) != len(handlerBuckets) {
			t.Errorf("%s handler histogram: count %d sum %v buckets %d, want count %d, a positive sum, %d buckets",
				typ, h.GetSampleCount(), h.GetSampleSum(), len(h.GetBucket()), n, len(handlerBuckets))
		}
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// gatherOne returns the one metric of family name whose labels include
// labels.
func gatherOne(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			return m
		}
	}
	t.Fatalf("no %s%v gathered", name, labels)
	return nil
}

func TestActorSeriesCap(t *testing.T) {
	f := newFixture(t, Options{ActorSeriesCap: 2})
	// Four idle actors and one with 2 queued messages: the deepest first,
	// then by name.
	for _, id := range []string{"d", "c", "b", "a"} {
		f.create(t, id, "echo", nil)
	}
	f.create(t, "z", "sleep", map[string]any{"ms": 120_000})
	for i := range 3 {
		if _, _, err := f.agent.Send(context.Background(), "z", i, false); err != nil {
			t.Fatal(err)
		}
	}
	testenv.EventuallyWithin(t, 10*time.Second, "2 messages queued", func() bool { return f.proc.Stats().QueueDepthTotal == 2 })
	want := expo(mActorQueueDepth,
		`procagent_actor_queue_depth{actor="a",actor_type="echo"} 0`,
		`procagent_actor_queue_depth{actor="z",actor_type="sleep"} 2`) +
		expo(mActorQueueOmitted, "procagent_actor_queue_depth_omitted 3")
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), mActorQueueDepth.Prom, mActorQueueOmitted.Prom); err != nil {
		t.Error(err)
	}
	// An actor that ends leaves the family (and the collector's cache).
	if _, err := f.agent.Stop("z", "test"); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(t, "z", runtime.StatusStopped)
	want = expo(mActorQueueDepth,
		`procagent_actor_queue_depth{actor="a",actor_type="echo"} 0`,
		`procagent_actor_queue_depth{actor="b",actor_type="echo"} 0`) +
		expo(mActorQueueOmitted, "procagent_actor_queue_depth_omitted 2")
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), mActorQueueDepth.Prom, mActorQueueOmitted.Prom); err != nil {
		t.Error(err)
	}
}

// TestPromtool runs `promtool check metrics` on a real scrape of a busy
// agent (skipped when promtool is not installed).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	f := newFixture(t, Options{})
	exercise(t, f, true)
	body := scrape(t, f.tel.MetricsHandler())
	path := filepath.Join(t.TempDir(), "metrics.txt")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = in
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
