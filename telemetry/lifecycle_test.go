package telemetry

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/procagent/procagent/runtime"
)

// refusedEndpoint is a loopback address nothing listens on.
func refusedEndpoint(t testing.TB) string {
	t.Helper()
	lis, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// blackholeEndpoint accepts connections and never answers.
func blackholeEndpoint(t testing.TB) string {
	t.Helper()
	lis, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = lis.Close()
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + lis.Addr().String()
}

// TestFlushShutdownDeadline: with an OTLP endpoint that refuses or never
// answers, Flush and Shutdown return by their deadline, and Shutdown is
// idempotent.
func TestFlushShutdownDeadline(t *testing.T) {
	for _, c := range []struct {
		name     string
		endpoint func(testing.TB) string
	}{
		{"refused", refusedEndpoint},
		{"blackhole", blackholeEndpoint},
	} {
		t.Run(c.name, func(t *testing.T) {
			// An export under way when Shutdown's deadline passes finishes
			// in the background, bounded by the exporter's own timeout:
			// keep that short, and wait for it at the end.
			t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "500")
			endpoint := c.endpoint(t)
			before := goleak.IgnoreCurrent()
			defer goleak.VerifyNone(t, before)
			tel, err := New(context.Background(), Options{OTLPEndpoint: endpoint, ExportInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			// Something to export: a span and a counter.
			tel.Created("a", "echo", 0, 0, nil)
			tel.StopRequested("a", "test")

			const deadline = 300 * time.Millisecond
			const slack = 2 * time.Second
			timed := func(what string, f func(context.Context) error) error {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				start := time.Now()
				err := f(ctx)
				if took := time.Since(start); took > deadline+slack {
					t.Errorf("%s took %s with a %s deadline", what, took, deadline)
				}
				return err
			}
			if err := timed("Flush", tel.Flush); err == nil {
				t.Error("Flush to an unreachable endpoint succeeded")
			}
			first := timed("Shutdown", tel.Shutdown)
			if second := timed("second Shutdown", tel.Shutdown); !errors.Is(second, first) && (first != nil || second != nil) {
				t.Errorf("second Shutdown = %v, want the first's %v", second, first)
			}
		})
	}
}

// TestNewUnwinds: a New that fails part way (here, a registry already
// holding a conflicting family) releases what it built: the exporters'
// goroutines (goleak checks at exit) and its collectors on the registry.
func TestNewUnwinds(t *testing.T) {
	reg := prometheus.NewRegistry()
	conflict := prometheus.NewGauge(prometheus.GaugeOpts{Name: mActorQueueOmitted.Prom, Help: "someone else's"})
	reg.MustRegister(conflict)
	tel, err := New(context.Background(), Options{Registry: reg, OTLPEndpoint: refusedEndpoint(t)})
	if err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatal("New succeeded on a registry with a conflicting family")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	if len(names) != 1 || names[0] != mActorQueueOmitted.Prom {
		t.Errorf("registry after a failed New serves %v, want only the conflicting %s", names, mActorQueueOmitted.Prom)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{ExportInterval: -1}, {MemoryInterval: -1}, {ActorSeriesCap: -1}} {
		if _, err := New(context.Background(), o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.ActorSeriesCap != DefaultActorSeriesCap || o.Registry == nil || o.Logger == nil || o.ProcID == "" ||
		o.InstanceID != o.ProcID || o.ServiceVersion == "" {
		t.Errorf("defaults not applied: %+v", o)
	}
	if got := (Options{ActorSeriesCap: 50_000}).cardinalityLimit(); got <= 50_000 {
		t.Errorf("cardinality limit %d does not leave room for 50,000 actor series", got)
	}
}

// TestOTLPConfigured: OTLP is on with the option, or with the SDK's
// variables, and off otherwise or with OTEL_*_EXPORTER=none.
func TestOTLPConfigured(t *testing.T) {
	for _, c := range []struct {
		name            string
		option          string
		env             map[string]string
		metrics, traces bool
	}{
		{name: "nothing"},
		{name: "option", option: "collector:4317", metrics: true, traces: true},
		{name: "option beats none", option: "collector:4317", env: map[string]string{"OTEL_METRICS_EXPORTER": "none"}, metrics: true, traces: true},
		{name: "env", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, metrics: true, traces: true},
		{name: "env metrics only", env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4317"}, metrics: true},
		{name: "env traces only", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317"}, traces: true},
		{name: "env none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_TRACES_EXPORTER": "none"}, metrics: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_METRICS_EXPORTER", "OTEL_TRACES_EXPORTER"} {
				t.Setenv(k, c.env[k])
			}
			o := Options{OTLPEndpoint: c.option}
			if got := o.otlpSignal("METRICS"); got != c.metrics {
				t.Errorf("metrics %v, want %v", got, c.metrics)
			}
			if got := o.otlpSignal("TRACES"); got != c.traces {
				t.Errorf("traces %v, want %v", got, c.traces)
			}
		})
	}
}

// TestOTLPFromEnv: with no option, OTEL_EXPORTER_OTLP_ENDPOINT alone turns
// the push on.
func TestOTLPFromEnv(t *testing.T) {
	sink := startOTLPSink(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.endpoint)
	f := newFixture(t, Options{ExportInterval: time.Hour})
	f.create(t, "e1", "echo", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.tel.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := sink.last(mSpawns.OTel, map[string]string{labelError: "false"}); !ok {
		t.Error("no spawn counter pushed")
	}
	sink.span(t, spanSpawn, map[string]string{string(attrActorID): "e1"})
}

// TestAttachOnce: only the first Attach counts; the agent it was given
// keeps being what the gauges read.
func TestAttachOnce(t *testing.T) {
	f := newFixture(t, Options{})
	f.create(t, "e1", "echo", nil)
	var bogus runtime.StatusCounts
	bogus[runtime.StatusRunning] = 99
	f.tel.Attach(runtime.NewProc("other"), func() (runtime.StatusCounts, int) { return bogus, 7 })
	if got := gatherOne(t, f.reg, mActors.Prom, map[string]string{labelStatus: "RUNNING"}).GetGauge().GetValue(); got != 1 {
		t.Errorf("RUNNING actors after a second Attach = %v, want the agent's 1", got)
	}
	if got := gatherOne(t, f.reg, mFailedActors.Prom, nil).GetGauge().GetValue(); got != 0 {
		t.Errorf("failed actors after a second Attach = %v, want the agent's 0", got)
	}
	tel, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	tel.Attach(f.proc, f.agent.Counts) // after Shutdown: nothing to start
	// After Shutdown the registry serves none of its families.
	mfs, err := tel.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "procagent_") || mf.GetName() == "target_info" {
			t.Errorf("%s still served after Shutdown", mf.GetName())
		}
	}
}
