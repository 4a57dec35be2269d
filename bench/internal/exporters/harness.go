package exporters

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/procagent/procagent/bench/internal/results"
)

// The three exporters, by the names the results use.
const (
	Agent           = "procagent"
	NodeExporter    = "node-exporter"
	ProcessExporter = "process-exporter"
)

// Names lists the exporters in report order.
var Names = []string{Agent, NodeExporter, ProcessExporter}

// Config says what to run and how long to measure.
type Config struct {
	// Binaries: the agent, the two exporters, and the Python the workers run.
	Agent, NodeExporter, ProcessExporter, Python string
	// Ns are the worker counts, in increasing order: the workers of one are
	// kept and more are added for the next.
	Ns []int
	// Idle is the idle window per N, split into Windows equal parts.
	Idle    time.Duration
	Windows int
	// Reps is the number of interleaved repetitions of the scrape and the
	// republish measurements; Scrapes the scrapes of one exporter per rep.
	Reps, Scrapes int
	// Seed orders the exporters within each repetition.
	Seed uint64
	// Dir receives the logs and the process-exporter config.
	Dir string
	// Log, when set, is told about progress.
	Log func(format string, args ...any)
}

type harness struct {
	cfg     Config
	logf    func(string, ...any)
	token   string
	procs   map[string]*proc
	agent   agentClient
	workers int
	rng     *rand.Rand
}

// Run starts the agent and both exporters, grows the workers through
// cfg.Ns and measures each exporter at each N. Everything it started is
// gone when it returns, on success or not.
func Run(ctx context.Context, cfg Config) (res results.Exporters, err error) {
	h := &harness{
		cfg:   cfg,
		logf:  cfg.Log,
		token: fmt.Sprintf("procagent-bench-%d-%d", os.Getpid(), time.Now().UnixNano()),
		procs: map[string]*proc{},
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5851f42d4c957f2d)), //nolint:gosec // G404: a reproducible order, not a secret
	}
	if h.logf == nil {
		h.logf = func(string, ...any) {}
	}
	res.Token = h.token
	defer func() { err = errors.Join(err, h.cleanup()) }()
	if err := h.startAll(ctx); err != nil {
		return res, err
	}
	res.Versions = versions(ctx, cfg)
	for _, n := range cfg.Ns {
		if need, avail := memoryNeed(n-h.workers), memAvailable(); avail > 0 && need > avail {
			msg := fmt.Sprintf("N=%d: needs about %d MiB for the workers, %d MiB available", n, need>>20, avail>>20)
			h.logf("skip %s", msg)
			res.Skipped = append(res.Skipped, msg)
			continue
		}
		pts, err := h.measureN(ctx, n)
		if err != nil {
			return res, fmt.Errorf("at N=%d: %w", n, err)
		}
		res.Points = append(res.Points, pts...)
	}
	return res, nil
}

func (h *harness) startAll(ctx context.Context) error {
	cfgPath := filepath.Join(h.cfg.Dir, "process-exporter.yml")
	conf := fmt.Sprintf("process_names:\n  - name: sleepers\n    cmdline:\n      - '%s'\n", regexp.QuoteMeta(h.token))
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		return err
	}
	// The agent gets a token file of the run's own, so it neither reads nor
	// creates the user's.
	token, tokenPath, err := newToken(h.cfg.Dir)
	if err != nil {
		return err
	}
	env := cleanEnv()
	type spec struct {
		name, bin string
		args      func(addr string) []string
		token     string
	}
	specs := []spec{
		{Agent, h.cfg.Agent, func(addr string) []string {
			return []string{"serve", "--addr", addr, "--log-level", "warn", "--auth-token-file", tokenPath}
		}, token},
		{NodeExporter, h.cfg.NodeExporter, func(addr string) []string {
			return []string{"--web.listen-address=" + addr, "--collector.processes", "--no-collector.systemd"}
		}, ""},
		{ProcessExporter, h.cfg.ProcessExporter, func(addr string) []string {
			return []string{"-config.path", cfgPath, "-web.listen-address", addr}
		}, ""},
	}
	for _, s := range specs {
		addr, err := freePort(ctx)
		if err != nil {
			return err
		}
		p, err := start(s.name, s.bin, s.args(addr), env, addr, "/metrics", filepath.Join(h.cfg.Dir, s.name+".log"), s.token)
		if err != nil {
			return err
		}
		h.procs[s.name] = p
		if err := p.waitReady(ctx, 30*time.Second); err != nil {
			return err
		}
		h.logf("started %s (pid %d) on %s", s.name, p.pid(), addr)
	}
	h.agent = agentClient{base: "http://" + h.procs[Agent].addr, token: token}
	return nil
}

// cleanEnv is this process's environment without what would make the agent
// push telemetry somewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "PROCAGENT_") || strings.HasPrefix(kv, "HYPERACTOR_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// cleanup stops the agent (which stops its workers), the exporters, and
// kills any process still carrying the run's token.
func (h *harness) cleanup() error {
	var errs []error
	if a := h.procs[Agent]; a != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := h.agent.stopAll(ctx); err != nil {
			h.logf("StopAll: %v (killing the agent instead)", err)
		}
		cancel()
		a.stop(20 * time.Second)
	}
	for _, name := range []string{NodeExporter, ProcessExporter} {
		if p := h.procs[name]; p != nil {
			p.stop(5 * time.Second)
		}
	}
	// The workers die with the agent (SIGTERM from StopAll, SIGKILL by
	// Pdeathsig at worst); whatever is left carries the token.
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := pidsWithToken(h.token)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("%d workers still alive after cleanup: %v", len(left), left))
			break
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// grow creates workers until there are n, several creates at a time.
func (h *harness) grow(ctx context.Context, n int) error {
	params := map[string]any{
		"argv":         []string{h.cfg.Python, "-S", "-c", "import time; time.sleep(86400)", h.token},
		"grace_period": "2s",
	}
	ids := make(chan string)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for id := range ids {
				if err := h.agent.create(ctx, id, "exec", params); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := h.workers; i < n; i++ {
		select {
		case ids <- fmt.Sprintf("w%05d", i):
		case err = <-errc:
			break feed
		}
	}
	close(ids)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		return err
	}
	h.workers = n
	return nil
}

// settle waits until n workers exist, process-exporter counts them all,
// and they have finished starting (no worker used CPU for a second).
func (h *harness) settle(ctx context.Context, n int) error {
	deadline := time.Now().Add(5 * time.Minute)
	re := regexp.MustCompile(`(?m)^namedprocess_namegroup_num_procs\{groupname="sleepers"\} (\d+)`)
	var last time.Duration = -1
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("workers did not settle")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		pids := pidsWithToken(h.token)
		seen := -1
		if b, _, err := h.procs[ProcessExporter].scrape(ctx); err == nil {
			if m := re.FindSubmatch(b); m != nil {
				seen, _ = strconv.Atoi(string(m[1]))
			}
		}
		cpu := totalCPU(pids)
		if len(pids) == n && seen == n && last >= 0 && cpu-last <= 20*time.Millisecond {
			return nil
		}
		last = cpu
		time.Sleep(time.Second)
	}
}

// measureN grows the workers to n and measures every exporter.
func (h *harness) measureN(ctx context.Context, n int) ([]results.Point, error) {
	h.logf("N=%d: starting workers", n)
	t0 := time.Now()
	if err := h.grow(ctx, n); err != nil {
		return nil, err
	}
	if err := h.settle(ctx, n); err != nil {
		return nil, err
	}
	h.logf("N=%d: %d workers up in %s", n, n, time.Since(t0).Round(time.Millisecond))
	pts := map[string]*results.Point{}
	for _, name := range Names {
		pts[name] = &results.Point{Exporter: name, N: n}
	}
	// Two scrapes each first: the first after new processes appear is not
	// the steady state.
	for _, name := range Names {
		for range 2 {
			if _, _, err := h.procs[name].scrape(ctx); err != nil {
				return nil, err
			}
		}
	}
	idleRate, err := h.idle(ctx, pts)
	if err != nil {
		return nil, err
	}
	if err := h.scrapes(ctx, pts); err != nil {
		return nil, err
	}
	if err := h.republish(ctx, n, pts[Agent], idleRate); err != nil {
		return nil, err
	}
	out := make([]results.Point, 0, len(Names))
	for _, name := range Names {
		out = append(out, *pts[name])
	}
	return out, nil
}

// idle measures every exporter over the same idle windows and returns the
// agent's idle CPU per second of wall time.
func (h *harness) idle(ctx context.Context, pts map[string]*results.Point) (float64, error) {
	w := h.cfg.Idle / time.Duration(max(h.cfg.Windows, 1))
	var agentCPU, wall float64
	for i := range max(h.cfg.Windows, 1) {
		before := map[string]time.Duration{}
		for _, name := range Names {
			c, err := cpuTime(h.procs[name].pid())
			if err != nil {
				return 0, err
			}
			before[name] = c
		}
		start := time.Now()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(w):
		}
		el := time.Since(start).Seconds()
		for _, name := range Names {
			c, err := cpuTime(h.procs[name].pid())
			if err != nil {
				return 0, err
			}
			rss, err := rssBytes(h.procs[name].pid())
			if err != nil {
				return 0, err
			}
			p := pts[name]
			// Scaled to the nominal window, so windows of slightly different
			// lengths compare.
			cpu := (c - before[name]).Seconds() * w.Seconds() / el
			p.IdleCPUSeconds = append(p.IdleCPUSeconds, max(cpu, 0))
			p.IdleRSSBytes = append(p.IdleRSSBytes, float64(rss))
			p.WindowSeconds = w.Seconds()
			if name == Agent {
				agentCPU += (c - before[name]).Seconds()
				wall += el
			}
		}
		h.logf("N=%d: idle window %d/%d done", pts[Agent].N, i+1, h.cfg.Windows)
	}
	return agentCPU / wall, nil
}

// scrapes measures Scrapes scrapes of each exporter per repetition, the
// exporters in a shuffled order each time.
func (h *harness) scrapes(ctx context.Context, pts map[string]*results.Point) error {
	for rep := range h.cfg.Reps {
		for _, i := range h.rng.Perm(len(Names)) {
			name := Names[i]
			p := h.procs[name]
			c0, err := cpuTime(p.pid())
			if err != nil {
				return err
			}
			lats := make([]float64, 0, h.cfg.Scrapes)
			var body []byte
			for range h.cfg.Scrapes {
				b, d, err := p.scrape(ctx)
				if err != nil {
					return err
				}
				body = b
				lats = append(lats, d.Seconds())
			}
			c1, err := cpuTime(p.pid())
			if err != nil {
				return err
			}
			pt := pts[name]
			pt.ScrapeCPUSeconds = append(pt.ScrapeCPUSeconds, max((c1-c0).Seconds(), 0)/float64(h.cfg.Scrapes))
			slices.Sort(lats)
			pt.ScrapeLatencySeconds = append(pt.ScrapeLatencySeconds, lats[len(lats)/2])
			pt.Series = append(pt.Series, float64(countSeries(body)))
			pt.ScrapeBytes = append(pt.ScrapeBytes, float64(len(body)))
		}
		h.logf("N=%d: scrape repetition %d/%d done", pts[Agent].N, rep+1, h.cfg.Reps)
	}
	return nil
}

// republish measures the agent's memory republish of all n workers: each
// repetition spawns one echo actor, which triggers one coalesced republish
// (100 ms later), and takes the agent's CPU over the next half second net of
// its idle CPU. The echo actors are stopped afterwards, untimed.
func (h *harness) republish(ctx context.Context, n int, pt *results.Point, idleRate float64) error {
	pid := h.procs[Agent].pid()
	var ids []string
	for rep := range h.cfg.Reps {
		id := fmt.Sprintf("rp-%d-%d", n, rep)
		c0, err := cpuTime(pid)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := h.agent.create(ctx, id, "echo", nil); err != nil {
			return err
		}
		ids = append(ids, id)
		time.Sleep(500 * time.Millisecond)
		c1, err := cpuTime(pid)
		if err != nil {
			return err
		}
		net := (c1 - c0).Seconds() - idleRate*time.Since(start).Seconds()
		pt.RepublishCPUSeconds = append(pt.RepublishCPUSeconds, max(net, 0))
	}
	for _, id := range ids {
		if err := h.agent.stop(ctx, id); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond)
	return nil
}

// newToken writes a fresh bearer token to a file (mode 0600) in dir.
func newToken(dir string) (token, path string, err error) {
	raw := make([]byte, 32)
	if _, err := crand.Read(raw); err != nil {
		return "", "", err
	}
	token = hex.EncodeToString(raw)
	path = filepath.Join(dir, "agent.token")
	_ = os.Remove(path) // a previous run's
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return token, path, nil
}
