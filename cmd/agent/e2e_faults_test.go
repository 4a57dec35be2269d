package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/internal/testenv"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// The faults an agent left running for months meets: a collector that
// takes the push and never answers, subscribers that vanish all at once,
// and a storm of crashing workers.

// silentCollector accepts connections on loopback, reads whatever comes,
// and never answers. It counts the bytes it took.
type silentCollector struct {
	ln    net.Listener
	bytes atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startSilentCollector(t *testing.T) *silentCollector {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &silentCollector{ln: ln}
	c.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			c.wg.Go(func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := conn.Read(buf)
					c.bytes.Add(int64(n))
					if err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		c.mu.Lock()
		for _, conn := range c.conns {
			_ = conn.Close()
		}
		c.mu.Unlock()
		c.wg.Wait()
	})
	return c
}

// TestE2ECollectorNeverAnswers: with a collector that accepts the OTLP
// connection and never answers, the agent keeps serving, its memory stays
// bounded, and StopAll → exit stays within its bound with exit code 0.
func TestE2ECollectorNeverAnswers(t *testing.T) {
	col := startSilentCollector(t)
	const flush = time.Second
	a := startAgentEnv(t, []string{"OTEL_METRIC_EXPORT_INTERVAL=200", "OTEL_BSP_SCHEDULE_DELAY=100", "OTEL_EXPORTER_OTLP_TIMEOUT=1000"},
		"--otlp-endpoint", "http://"+col.ln.Addr().String(), "--flush-timeout", flush.String())
	a.mustCtl(t, "create", "echo", "echo")
	testenv.Eventually(t, "the agent to push to the silent collector", func() bool { return col.bytes.Load() > 0 })
	rssBefore := rssOf(t, a.cmd.Process.Pid)
	for i := range 50 {
		a.mustCtl(t, "create", fmt.Sprintf("e%d", i), "echo")
		a.mustCtl(t, "send", "echo", `"ping"`, "--wait")
	}
	testenv.Eventually(t, "an export to fail against the silent collector", func() bool {
		return strings.Contains(a.stderr.String(), "telemetry export")
	})
	if rss := rssOf(t, a.cmd.Process.Pid); rss > rssBefore+64<<20 {
		t.Errorf("agent RSS grew from %d to %d bytes with a collector that never answers", rssBefore, rss)
	}
	if code := a.stopAllWithin(t, flush); code != 0 {
		t.Fatalf("exit code = %d with a silent collector, want 0; stderr:\n%s", code, a.stderr)
	}
}

// TestE2ECollectorDownFromTheStart: a collector that is down from the
// agent's start and comes up later receives the agent's export once it is
// up; meanwhile the agent serves, and the exit code is unaffected.
func TestE2ECollectorDownFromTheStart(t *testing.T) {
	col := testenv.NewCollector(t)
	a := startAgentEnv(t, []string{"OTEL_METRIC_EXPORT_INTERVAL=300", "OTEL_BSP_SCHEDULE_DELAY=200", "OTEL_EXPORTER_OTLP_TIMEOUT=1000"},
		"--otlp-endpoint", "http://"+col.Endpoint(), "--flush-timeout", "1s")
	a.mustCtl(t, "create", "echo", "echo")
	testenv.EventuallyWithin(t, 30*time.Second, "an export to fail while the collector is down", func() bool {
		return strings.Contains(a.stderr.String(), "telemetry export")
	})
	rssBefore := rssOf(t, a.cmd.Process.Pid)
	for i := range 20 {
		a.mustCtl(t, "create", fmt.Sprintf("e%d", i), "echo")
	}
	up := time.Now()
	col.Start()
	col.WaitForMetric(t, "procagent.actors", func(p testenv.Point) bool {
		return p.Time.After(up) && p.Attributes["status"] == "RUNNING" && p.Value >= 21
	}, 60*time.Second)
	if rss := rssOf(t, a.cmd.Process.Pid); rss > rssBefore+64<<20 {
		t.Errorf("agent RSS grew from %d to %d bytes while the collector was down", rssBefore, rss)
	}
	a.mustCtl(t, "stopall")
	if code := a.wait(t); code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, a.stderr)
	}
}

// agentGauge reads one unlabelled gauge of the agent's /metrics.
func (a *servedAgent) agentGauge(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get(a.url + "/metrics") //nolint:noctx // a short read of loopback
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// openFDs counts the file descriptors of pid.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestE2ESubscribersVanish: 1,000 StreamState subscribers that vanish at
// once (their connections cut without a goodbye) leave the agent's
// goroutines and file descriptors back at their baseline.
func TestE2ESubscribersVanish(t *testing.T) {
	const subscribers = 1000
	a := startAgent(t)
	a.mustCtl(t, "create", "echo", "echo")
	pid := a.cmd.Process.Pid
	baseG, baseFD := a.agentGauge(t, "go_goroutines"), openFDs(t, pid)

	// HTTP/2 over as many connections as the server's stream limit asks;
	// the dialer keeps them, so that the subscribers can vanish by having
	// their connections cut, with no RST_STREAM and no goodbye.
	var (
		connMu sync.Mutex
		conns  []net.Conn
	)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			connMu.Lock()
			conns = append(conns, conn)
			connMu.Unlock()
		}
		return conn, err
	}
	c := procagentv1connect.NewProcAgentServiceClient(&http.Client{Transport: tr}, a.url, connect.WithGRPC())
	ctx, cancel := context.WithCancel(t.Context())
	var (
		wg       sync.WaitGroup
		received atomic.Int64
	)
	for range subscribers {
		wg.Go(func() {
			s, err := c.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "echo"}))
			if err != nil {
				return
			}
			defer s.Close()
			if s.Receive() {
				received.Add(1)
			}
			for s.Receive() { // until the cut
			}
		})
	}
	testenv.EventuallyWithin(t, 60*time.Second, "every subscriber's first state", func() bool { return received.Load() == subscribers })
	if g := a.agentGauge(t, "go_goroutines"); g < baseG+subscribers {
		t.Fatalf("goroutines with %d subscribers = %v, baseline %v: the streams are not held", subscribers, g, baseG)
	}
	peakFD := openFDs(t, pid)
	connMu.Lock()
	for _, conn := range conns {
		_ = conn.Close()
	}
	t.Logf("%d subscribers over %d connections", subscribers, len(conns))
	connMu.Unlock()
	cancel()
	wg.Wait()
	tr.CloseIdleConnections()
	// The slack covers the metrics scrape's own connection and goroutines.
	testenv.EventuallyWithin(t, 30*time.Second, "goroutines and fds back to the baseline", func() bool {
		return a.agentGauge(t, "go_goroutines") <= baseG+10 && openFDs(t, pid) <= baseFD+4
	})
	t.Logf("%d subscribers: fds %d → %d → %d", subscribers, baseFD, peakFD, openFDs(t, pid))
	a.mustCtl(t, "list") // still serving
}

// TestE2ECrashStorm: exec workers crash at once; the status RPCs keep
// answering throughout, every worker ends FAILED with its exit code, the
// exit code is 1, and nothing is left running. The p50/p99 of GetState
// during the storm are logged (a figure, not an assertion). It starts
// PROCAGENT_STORM_WORKERS workers, 100 by default: `make storm` (in CI)
// runs it alone with 500, whose storm would starve the tests of the other
// packages running beside it.
func TestE2ECrashStorm(t *testing.T) {
	if _, err := os.Stat("/usr/bin/flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	workers := 100
	if n, err := strconv.Atoi(os.Getenv("PROCAGENT_STORM_WORKERS")); err == nil && n > 0 {
		workers = n
	}
	m := newMarker(t)
	// Every worker waits for a shared lock on gate, which the test holds
	// exclusively: releasing it sets all of them off at once, with no
	// polling while they wait.
	gate := filepath.Join(t.TempDir(), "gate")
	lock, err := os.Create(gate)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t)
	c := a.client(t)
	script := fmt.Sprintf(`flock -s %s true; exit 3 # %s`, gate, m)
	params, err := structpb.NewStruct(map[string]any{"argv": []any{"sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make(chan string, workers)
	for i := range workers {
		ids <- fmt.Sprintf("w%03d", i)
	}
	close(ids)
	var create sync.WaitGroup
	for range 8 {
		create.Go(func() {
			for id := range ids {
				_, err := c.CreateOrUpdate(t.Context(), connect.NewRequest(&procagentv1.CreateOrUpdateRequest{
					Id: id, Spec: &procagentv1.ActorSpec{ActorType: "exec", Params: params},
				}))
				if err != nil {
					t.Errorf("create %s: %v", id, err)
				}
			}
		})
	}
	create.Wait()
	running := func() int {
		res, err := c.List(t.Context(), connect.NewRequest(&procagentv1.ListRequest{}))
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		n := 0
		for _, s := range res.Msg.GetActors() {
			if s.GetStatus() == procagentv1.Status_STATUS_RUNNING {
				n++
			}
		}
		return n
	}
	testenv.EventuallyWithin(t, 2*time.Minute, "every worker running", func() bool { return running() == workers })

	// The probe asks GetState in a loop from before the storm to its end.
	var (
		probeWG   sync.WaitGroup
		latencies []time.Duration
		probeErrs []error
	)
	stop := make(chan struct{})
	probeWG.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			begin := time.Now()
			_, err := c.GetState(ctx, connect.NewRequest(&procagentv1.GetStateRequest{Id: fmt.Sprintf("w%03d", i%workers)}))
			cancel()
			latencies = append(latencies, time.Since(begin))
			if err != nil {
				probeErrs = append(probeErrs, err)
			}
		}
	})
	stormed := time.Now()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	testenv.EventuallyWithin(t, 2*time.Minute, "every worker failed", func() bool {
		res, err := c.List(t.Context(), connect.NewRequest(&procagentv1.ListRequest{}))
		if err != nil {
			return false
		}
		failed := 0
		for _, s := range res.Msg.GetActors() {
			if s.GetStatus() == procagentv1.Status_STATUS_FAILED {
				failed++
			}
		}
		return failed == workers
	})
	storm := time.Since(stormed)
	close(stop)
	probeWG.Wait()
	if err := errors.Join(probeErrs...); err != nil {
		t.Errorf("GetState failed %d times during the storm: %v", len(probeErrs), err)
	}
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	t.Logf("crash storm of %d workers over %v: %d GetState calls, p50 %v, p99 %v, max %v",
		workers, storm.Round(time.Millisecond), len(latencies), q(0.50), q(0.99), latencies[len(latencies)-1])

	st, err := c.GetState(t.Context(), connect.NewRequest(&procagentv1.GetStateRequest{Id: "w000"}))
	if err != nil {
		t.Fatal(err)
	}
	if r := st.Msg.GetState().GetFailureReason(); !strings.Contains(r, "3") {
		t.Errorf("a crashed worker's reason = %q, want its exit status 3", r)
	}
	a.mustCtl(t, "stopall")
	if code := a.wait(t); code != 1 {
		t.Errorf("exit code after the storm = %d, want 1", code)
	}
	waitNoMarked(t, m)
}
