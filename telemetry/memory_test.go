package telemetry

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/runtime"
)

// The readers cmd/agent may give procagent.WithMemoryReader.
var (
	_ procagent.MemoryReader = (*Pipeline)(nil)
	_ procagent.MemoryReader = (*MemoryReporter)(nil)
)

const testProcID = "proc-0"

// statmFixtures are the statm files of the reporter's fixture processes
// (pages of os.Getpagesize() bytes): 100 and 103 live, 101 a zombie (all
// zeros), 102 malformed.
var statmFixtures = map[int]string{
	100: "2500 1200 300 5 0 900 0\n",
	101: "0 0 0 0 0 0 0\n",
	102: "garbage\n",
	103: "7000 3000 10 5 0 6000 0\n",
}

// procRoot returns a temporary procfs root holding a statm file per pid.
func procRoot(t testing.TB, statm map[int]string) string {
	t.Helper()
	root := t.TempDir()
	for pid, line := range statm {
		writeStatm(t, root, pid, line)
	}
	return root
}

// writeStatm writes <root>/<pid>/statm, in place when it exists (a
// kept-open reader sees the new contents).
func writeStatm(t testing.TB, root string, pid int, line string) {
	t.Helper()
	statm := filepath.Join(root, strconv.Itoa(pid), "statm")
	if err := os.MkdirAll(filepath.Dir(statm), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(statm, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
}

// memKey is one memory series: its labels.
type memKey struct {
	ProcID string
	Pid    int64
	Actor  string
}

// memPoint is one series' two gauges, in bytes.
type memPoint struct {
	RSS, VM int64
}

// newManualMeter returns a meter backed by a real SDK MeterProvider with a
// ManualReader, shut down at the end of the test.
func newManualMeter(t testing.TB) (*sdkmetric.ManualReader, *sdkmetric.MeterProvider) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return r, mp
}

// collectMemory collects r and returns the memory series it holds.
func collectMemory(t testing.TB, r *sdkmetric.ManualReader) map[memKey]memPoint {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(t.Context(), &rm); err != nil {
		t.Fatalf("collect: %v", err)
	}
	got := map[memKey]memPoint{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			spec := mMemoryUsage
			switch m.Name {
			case mMemoryUsage.OTel:
			case mMemoryVirtual.OTel:
				spec = mMemoryVirtual
			default:
				continue
			}
			if m.Unit != "By" {
				t.Errorf("%s unit = %q, want By", m.Name, m.Unit)
			}
			if m.Unit != spec.Unit || m.Description != spec.Help {
				t.Errorf("%s unit %q, description %q; want the name table's %q, %q", m.Name, m.Unit, m.Description, spec.Unit, spec.Help)
			}
			g, ok := m.Data.(metricdata.Gauge[int64])
			if !ok {
				t.Fatalf("%s data is %T, want metricdata.Gauge[int64]", m.Name, m.Data)
			}
			for _, dp := range g.DataPoints {
				procID, _ := dp.Attributes.Value(labelProcID)
				pid, _ := dp.Attributes.Value(labelPid)
				actor, ok := dp.Attributes.Value(labelActor)
				if !ok || dp.Attributes.Len() != 3 {
					t.Errorf("%s attributes = %v, want proc_id, pid, actor", m.Name, dp.Attributes.ToSlice())
				}
				k := memKey{ProcID: procID.AsString(), Pid: pid.AsInt64(), Actor: actor.AsString()}
				p := got[k]
				if m.Name == mMemoryUsage.OTel {
					p.RSS = dp.Value
				} else {
					p.VM = dp.Value
				}
				got[k] = p
			}
		}
	}
	return got
}

// processList is a concurrency-safe list for the reporter.
type processList struct {
	mu   sync.Mutex
	refs []ProcessRef
}

func (l *processList) set(refs ...ProcessRef) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refs = refs
}

func (l *processList) get() []ProcessRef {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ProcessRef(nil), l.refs...)
}

// startReporter starts m and shuts it down at the end of the test.
func startReporter(t testing.TB, m *MemoryReporter) {
	t.Helper()
	m.Start(t.Context())
	t.Cleanup(func() {
		if err := m.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

func atLeast(m *MemoryReporter, n uint64) func() bool {
	return func() bool { return m.Republishes() >= n }
}

func exactly(m *MemoryReporter, n uint64) func() bool {
	return func() bool { return m.Republishes() == n }
}

func TestMemoryReporterFixtures(t *testing.T) {
	r, mp := newManualMeter(t)
	page := int64(os.Getpagesize())
	list := func() []ProcessRef {
		return []ProcessRef{
			{Actor: "", Pid: 100},
			{Actor: "trainer[0]", Pid: 103},
			{Actor: "trainer[0]", Pid: 103}, // a duplicate pid is read once
			{Actor: "zombie[0]", Pid: 101},
			{Actor: "garbled[0]", Pid: 102},
			{Actor: "gone[0]", Pid: 999},
			{Actor: "bogus", Pid: 0},
		}
	}
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list, WithProcRoot(procRoot(t, statmFixtures)))
	if err != nil {
		t.Fatal(err)
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))

	want := map[memKey]memPoint{
		{ProcID: testProcID, Pid: 100, Actor: ""}:           {RSS: 1200 * page, VM: 2500 * page},
		{ProcID: testProcID, Pid: 103, Actor: "trainer[0]"}: {RSS: 3000 * page, VM: 7000 * page},
	}
	if diff := cmp.Diff(want, collectMemory(t, r)); diff != "" {
		t.Errorf("memory series (-want +got):\n%s", diff)
	}

	if err := m.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if diff := cmp.Diff(map[memKey]memPoint{}, collectMemory(t, r)); diff != "" {
		t.Errorf("memory series after Shutdown (-want +got):\n%s", diff)
	}
}

// TestMemoryReporterScrapeReadsCache checks that a collection reports the
// cache and does not read statm: a change shows only after a republish.
func TestMemoryReporterScrapeReadsCache(t *testing.T) {
	root := procRoot(t, map[int]string{42: "20 10 1 1 0 5 0\n"})
	r, mp := newManualMeter(t)
	page := int64(os.Getpagesize())
	list := func() []ProcessRef { return []ProcessRef{{Actor: "a", Pid: 42}} }
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list,
		WithProcRoot(root), WithCoalesce(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))

	key := memKey{ProcID: testProcID, Pid: 42, Actor: "a"}
	// Rewritten in place: the kept-open descriptor sees the new contents.
	writeStatm(t, root, 42, "40 30 1 1 0 5 0\n")
	if diff := cmp.Diff(map[memKey]memPoint{key: {RSS: 10 * page, VM: 20 * page}}, collectMemory(t, r)); diff != "" {
		t.Errorf("before the republish (-want +got):\n%s", diff)
	}
	m.Trigger()
	testenv.Eventually(t, "the triggered republish", atLeast(m, 2))
	if diff := cmp.Diff(map[memKey]memPoint{key: {RSS: 30 * page, VM: 40 * page}}, collectMemory(t, r)); diff != "" {
		t.Errorf("after the republish (-want +got):\n%s", diff)
	}
}

// TestMemoryReporterReadMemory checks the agent's own cached sample: absent
// before the first republish, equal to what the gauges report in the same
// collection, changed only by a republish, and absent after Shutdown.
func TestMemoryReporterReadMemory(t *testing.T) {
	root := procRoot(t, map[int]string{42: "20 10 1 1 0 5 0\n", 43: "80 60 1 1 0 5 0\n"})
	r, mp := newManualMeter(t)
	page := uint64(os.Getpagesize())
	list := func() []ProcessRef { return []ProcessRef{{Actor: "worker[0]", Pid: 43}, {Pid: 42}} }
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list,
		WithProcRoot(root), WithCoalesce(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if rss, vm, ok := m.ReadMemory(); ok {
		t.Errorf("ReadMemory before the first republish = %d, %d, ok; want absent", rss, vm)
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))

	self := memKey{ProcID: testProcID, Pid: 42, Actor: ""}
	check := func(when string, want memPoint) {
		t.Helper()
		rss, vm, ok := m.ReadMemory()
		gauges, found := collectMemory(t, r)[self]
		if !ok || !found {
			t.Fatalf("%s: ReadMemory ok %v, the agent's series present %v; want both", when, ok, found)
		}
		got := memPoint{RSS: int64(rss), VM: int64(vm)}
		if diff := cmp.Diff(gauges, got); diff != "" {
			t.Errorf("%s: ReadMemory against the gauges of the same collection (-gauges +ReadMemory):\n%s", when, diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: ReadMemory (-want +got):\n%s", when, diff)
		}
	}
	check("after the start republish", memPoint{RSS: int64(10 * page), VM: int64(20 * page)})
	writeStatm(t, root, 42, "40 30 1 1 0 5 0\n")
	check("before the next republish", memPoint{RSS: int64(10 * page), VM: int64(20 * page)})
	m.Trigger()
	testenv.Eventually(t, "the triggered republish", atLeast(m, 2))
	check("after the republish", memPoint{RSS: int64(30 * page), VM: int64(40 * page)})

	// The agent turns unreadable: its sample is dropped, not kept stale.
	writeStatm(t, root, 42, "0 0 0 0 0 0 0\n")
	m.Trigger()
	testenv.Eventually(t, "the republish of a gone agent", atLeast(m, 3))
	if rss, vm, ok := m.ReadMemory(); ok {
		t.Errorf("ReadMemory of an unreadable agent = %d, %d, ok; want absent", rss, vm)
	}

	if err := m.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if rss, vm, ok := m.ReadMemory(); ok {
		t.Errorf("ReadMemory after Shutdown = %d, %d, ok; want absent", rss, vm)
	}
}

// TestTelemetryReadMemory checks the reader cmd/agent gives procagent: the
// reporter's sample, absent while there is none and after Shutdown.
func TestTelemetryReadMemory(t *testing.T) {
	tel := &Pipeline{}
	if _, _, ok := tel.ReadMemory(); ok {
		t.Error("ReadMemory without a reporter: ok, want absent")
	}
	_, mp := newManualMeter(t)
	list := func() []ProcessRef { return []ProcessRef{{Pid: 100}} }
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list, WithProcRoot(procRoot(t, statmFixtures)))
	if err != nil {
		t.Fatal(err)
	}
	tel.memory.Store(m)
	if _, _, ok := tel.ReadMemory(); ok {
		t.Error("ReadMemory before the first republish: ok, want absent")
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))
	page := uint64(os.Getpagesize())
	if rss, vm, ok := tel.ReadMemory(); !ok || rss != 1200*page || vm != 2500*page {
		t.Errorf("ReadMemory = %d, %d, %v; want %d, %d, true", rss, vm, ok, 1200*page, 2500*page)
	}
	if err := m.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, _, ok := tel.ReadMemory(); ok {
		t.Error("ReadMemory after Shutdown: ok, want absent")
	}
}

// TestQueryChildReportsTheGauges wires telemetry into an agent as cmd/agent
// does (procagent.WithMemoryReader) and checks that QueryChild's RSS and VM
// are the agent's process.memory.* sample on /metrics: one sample, not
// three reads.
func TestQueryChildReportsTheGauges(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	tel, err := New(ctx, Options{Registry: reg, ProcID: "testproc"}) // no periodic republish
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	proc := runtime.NewProc("testproc")
	agent := procagent.New(proc, procagent.WithMemoryReader(tel), procagent.WithOrphanTimeout(0))
	if err := agent.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := agent.Shutdown(ctx); err != nil {
			t.Errorf("agent shutdown: %v", err)
		}
		if err := proc.Close(ctx); err != nil {
			t.Errorf("proc close: %v", err)
		}
		if err := tel.Shutdown(ctx); err != nil {
			t.Errorf("telemetry shutdown: %v", err)
		}
	})
	testenv.Eventually(t, "the start republish", func() bool { _, _, ok := tel.ReadMemory(); return ok })

	n, err := agent.QueryChild("")
	if err != nil {
		t.Fatal(err)
	}
	if n.Proc == nil || n.Proc.RSSBytes == nil || n.Proc.VMBytes == nil {
		t.Fatalf("QueryChild(\"\") = %+v, want the proc with its RSS and VM", n.Proc)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	gauge := func(family string) float64 {
		t.Helper()
		for _, f := range families {
			if f.GetName() != family {
				continue
			}
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels[labelActor] == "" && labels[labelPid] == strconv.Itoa(os.Getpid()) {
					return m.GetGauge().GetValue()
				}
			}
		}
		t.Fatalf("no %s series of the agent", family)
		return 0
	}
	if got, want := float64(*n.Proc.RSSBytes), gauge(mMemoryUsage.Prom); got != want {
		t.Errorf("QueryChild RSS = %v, %s = %v", got, mMemoryUsage.Prom, want)
	}
	if got, want := float64(*n.Proc.VMBytes), gauge(mMemoryVirtual.Prom); got != want {
		t.Errorf("QueryChild VM = %v, %s = %v", got, mMemoryVirtual.Prom, want)
	}
}

func TestMemoryReporterRealProcesses(t *testing.T) {
	child := exec.CommandContext(t.Context(), "sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	var reaped bool
	t.Cleanup(func() {
		if !reaped {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
	})
	self, kid := os.Getpid(), child.Process.Pid

	r, mp := newManualMeter(t)
	var procs processList
	procs.set(ProcessRef{Pid: self}, ProcessRef{Actor: "sleeper[0]", Pid: kid})
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, procs.get, WithCoalesce(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))

	agentKey := memKey{ProcID: testProcID, Pid: int64(self), Actor: ""}
	childKey := memKey{ProcID: testProcID, Pid: int64(kid), Actor: "sleeper[0]"}
	got := collectMemory(t, r)
	if len(got) != 2 {
		t.Fatalf("memory series = %v, want the agent and the child", got)
	}
	for _, k := range []memKey{agentKey, childKey} {
		p, ok := got[k]
		if !ok {
			t.Fatalf("no series %+v in %v", k, got)
		}
		if p.RSS <= 0 || p.RSS > p.VM {
			t.Errorf("series %+v = %+v, want 0 < RSS <= VM", k, p)
		}
	}

	// Kill and reap the child; it stays listed, and the next republish
	// drops it because its kept-open statm answers ESRCH.
	_ = child.Process.Kill()
	_ = child.Wait()
	reaped = true
	m.Trigger()
	testenv.Eventually(t, "the triggered republish", atLeast(m, 2))
	got = collectMemory(t, r)
	if _, ok := got[childKey]; ok {
		t.Errorf("the reaped child's series %+v is still reported: %v", childKey, got)
	}
	if p, ok := got[agentKey]; !ok || p.RSS <= 0 || p.RSS > p.VM {
		t.Errorf("agent series = %+v (present %v), want 0 < RSS <= VM", p, ok)
	}
}

func TestMemoryReporterCoalesce(t *testing.T) {
	const window = 50 * time.Millisecond
	_, mp := newManualMeter(t)
	list := func() []ProcessRef { return []ProcessRef{{Pid: os.Getpid()}} }
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list, WithCoalesce(window))
	if err != nil {
		t.Fatal(err)
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))

	start := time.Now()
	for range 20 {
		m.Trigger()
	}
	testenv.Eventually(t, "the coalesced republish", atLeast(m, 2))
	if elapsed := time.Since(start); elapsed < window {
		t.Errorf("coalesced republish after %v, want at least %v", elapsed, window)
	}
	testenv.Holds(t, 4*window, "exactly one republish for 20 triggers", exactly(m, 2))
}

func TestMemoryReporterPeriodic(t *testing.T) {
	_, mp := newManualMeter(t)
	list := func() []ProcessRef { return []ProcessRef{{Pid: os.Getpid()}} }
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 5*time.Millisecond, list)
	if err != nil {
		t.Fatal(err)
	}
	startReporter(t, m)
	testenv.Eventually(t, "five republishes", atLeast(m, 5))
}

func TestMemoryReporterIntervalZero(t *testing.T) {
	const window = 10 * time.Millisecond
	r, mp := newManualMeter(t)
	list := func() []ProcessRef { return []ProcessRef{{Pid: os.Getpid()}} }
	m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list, WithCoalesce(window))
	if err != nil {
		t.Fatal(err)
	}
	startReporter(t, m)
	testenv.Eventually(t, "the start republish", atLeast(m, 1))
	if got := collectMemory(t, r); len(got) != 1 {
		t.Errorf("memory series = %v, want the agent's", got)
	}
	testenv.Holds(t, 20*window, "no periodic republish", exactly(m, 1))
	m.Trigger()
	testenv.Eventually(t, "the triggered republish", atLeast(m, 2))
}

func TestMemoryReporterShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	t.Run("idempotent", func(t *testing.T) {
		_, mp := newManualMeter(t)
		list := func() []ProcessRef { return []ProcessRef{{Pid: os.Getpid()}} }
		m, err := NewMemoryReporter(mp.Meter("test"), testProcID, time.Millisecond, list)
		if err != nil {
			t.Fatal(err)
		}
		m.Start(t.Context())
		m.Start(t.Context()) // a second Start does nothing
		testenv.Eventually(t, "a republish", atLeast(m, 1))
		for i := range 2 {
			if err := m.Shutdown(t.Context()); err != nil {
				t.Fatalf("Shutdown #%d: %v", i+1, err)
			}
		}
		select {
		case <-m.done:
		default:
			t.Fatal("the goroutine is still running after Shutdown")
		}
		n := m.Republishes()
		m.Trigger() // never blocks, even with nobody listening
		m.Trigger()
		m.Start(t.Context()) // Start after Shutdown does nothing
		testenv.Holds(t, 20*time.Millisecond, "no republish after Shutdown", exactly(m, n))
	})

	t.Run("never started", func(t *testing.T) {
		m, err := NewMemoryReporter(noop.NewMeterProvider().Meter("test"), testProcID, time.Second,
			func() []ProcessRef { return nil })
		if err != nil {
			t.Fatal(err)
		}
		m.Trigger()
		if err := m.Shutdown(t.Context()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	})

	t.Run("honours the deadline", func(t *testing.T) {
		_, mp := newManualMeter(t)
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		list := func() []ProcessRef {
			once.Do(func() { close(entered) })
			<-release
			return nil
		}
		m, err := NewMemoryReporter(mp.Meter("test"), testProcID, 0, list)
		if err != nil {
			t.Fatal(err)
		}
		m.Start(t.Context())
		<-entered
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		if err := m.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown with a stuck republish: err = %v, want DeadlineExceeded", err)
		}
		close(release)
		if err := m.Shutdown(t.Context()); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
	})
}

func TestNewMemoryReporterErrors(t *testing.T) {
	meter := noop.NewMeterProvider().Meter("test")
	list := func() []ProcessRef { return nil }
	tests := []struct {
		name     string
		list     func() []ProcessRef
		interval time.Duration
		opts     []MemoryOption
	}{
		{name: "nil list", interval: time.Second},
		{name: "negative interval", list: list, interval: -time.Second},
		{name: "zero coalesce", list: list, opts: []MemoryOption{WithCoalesce(0)}},
		{name: "missing proc root", list: list, opts: []MemoryOption{WithProcRoot("testdata/no-such-proc")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMemoryReporter(meter, testProcID, tt.interval, tt.list, tt.opts...); err == nil {
				t.Fatal("NewMemoryReporter = nil error, want one")
			}
		})
	}
	t.Run("nil meter", func(t *testing.T) {
		if _, err := NewMemoryReporter(nil, testProcID, 0, list); err == nil {
			t.Fatal("NewMemoryReporter = nil error, want one")
		}
	})
	t.Run("defaults", func(t *testing.T) {
		m, err := NewMemoryReporter(meter, testProcID, 0, list)
		if err != nil {
			t.Fatal(err)
		}
		if m.coalesce != DefaultCoalesce || m.root != "/proc" {
			t.Errorf("defaults: coalesce %v, root %q; want %v, /proc", m.coalesce, m.root, DefaultCoalesce)
		}
	})
}
