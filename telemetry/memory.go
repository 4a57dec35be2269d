package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/procagent/procagent/internal/osproc"
)

// DefaultCoalesce is how long a Trigger waits before its republish, so that
// a burst of supervision events costs one republish (Monarch's 100 ms).
const DefaultCoalesce = 100 * time.Millisecond

// ProcessRef names an OS process whose memory is republished. Actor is the
// id of the process-backed actor, or "" for the agent itself.
type ProcessRef struct {
	Actor string
	Pid   int
}

// MemoryOption configures a MemoryReporter.
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	root     string
	coalesce time.Duration
	log      *slog.Logger
}

// WithProcRoot reads statm files under root instead of osproc.DefaultRoot
// (tests use a directory of fixtures).
func WithProcRoot(root string) MemoryOption {
	return func(c *memoryConfig) { c.root = root }
}

// WithCoalesce sets how long a Trigger waits before its republish (default
// DefaultCoalesce).
func WithCoalesce(d time.Duration) MemoryOption {
	return func(c *memoryConfig) { c.coalesce = d }
}

// WithMemoryLogger sets the logger for readers that fail (default: discard).
func WithMemoryLogger(l *slog.Logger) MemoryOption {
	return func(c *memoryConfig) { c.log = l }
}

// MemoryReporter republishes process memory (Monarch's RepublishIntrospect): it periodically reads
// the RSS and VM of the agent and of every process-backed actor into a
// cache, which the process.memory.usage and process.memory.virtual gauges
// (names.go) report at collection time, and ReadMemory returns the agent's
// own sample from. Neither reads /proc, so a scrape stays cheap whatever
// the number of processes. Trigger asks for a coalesced republish and never
// blocks.
//
// Start, Trigger, Shutdown, Republishes and ReadMemory are safe for
// concurrent use.
type MemoryReporter struct {
	procID   string
	interval time.Duration
	coalesce time.Duration
	root     string
	list     func() []ProcessRef
	log      *slog.Logger
	reg      metric.Registration
	usage    metric.Int64ObservableGauge
	virtual  metric.Int64ObservableGauge

	trigger     chan struct{} // capacity 1: a pending trigger
	republishes atomic.Uint64

	// readers is owned by the republish goroutine (and closed by it on exit).
	readers map[int]*trackedProcess

	mu      sync.Mutex // guards samples, self, closed
	samples []memorySample
	self    *memorySample // the agent's own sample (Actor ""), nil when unread
	closed  bool          // set by Shutdown: republishes no longer store

	life    sync.Mutex // guards started, stopped, cancel, done
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// trackedProcess is one kept-open reader and the attributes of its series.
type trackedProcess struct {
	reader *osproc.StatmReader
	actor  string
	attrs  metric.MeasurementOption
}

// memorySample is one process's cached memory, reported by the callback.
type memorySample struct {
	rss, vm uint64
	attrs   metric.MeasurementOption
}

// NewMemoryReporter registers the process.memory.usage and
// process.memory.virtual gauges (mMemoryUsage, mMemoryVirtual) on meter and
// returns a reporter that fills them for the processes list returns (the
// agent itself with Actor "", and each process-backed actor). list is
// called on the reporter's goroutine once per republish and must be safe to
// call from there. interval is the periodic republish
// (process_memory_metric_interval); 0 disables the timer only: the
// republish at Start and those after Trigger still happen.
func NewMemoryReporter(meter metric.Meter, procID string, interval time.Duration, list func() []ProcessRef, opts ...MemoryOption) (*MemoryReporter, error) {
	cfg := memoryConfig{root: osproc.DefaultRoot, coalesce: DefaultCoalesce}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case meter == nil:
		return nil, errors.New("memory reporter: nil meter")
	case list == nil:
		return nil, errors.New("memory reporter: nil process list")
	case interval < 0:
		return nil, fmt.Errorf("memory reporter: negative interval %v", interval)
	case cfg.coalesce <= 0:
		return nil, fmt.Errorf("memory reporter: coalesce %v must be positive", cfg.coalesce)
	}
	if err := osproc.CheckRoot(cfg.root); err != nil {
		return nil, fmt.Errorf("memory reporter: %w", err)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	m := &MemoryReporter{
		procID:   procID,
		interval: interval,
		coalesce: cfg.coalesce,
		root:     cfg.root,
		list:     list,
		log:      cfg.log,
		trigger:  make(chan struct{}, 1),
		readers:  make(map[int]*trackedProcess),
	}
	b := instrumentBuilder{meter: meter}
	m.usage = b.gauge(mMemoryUsage)
	m.virtual = b.gauge(mMemoryVirtual)
	if b.err != nil {
		return nil, fmt.Errorf("memory reporter: %w", b.err)
	}
	var err error
	m.reg, err = meter.RegisterCallback(m.observe, m.usage, m.virtual)
	if err != nil {
		return nil, fmt.Errorf("memory reporter: register callback: %w", err)
	}
	return m, nil
}

// Start starts the reporter's goroutine and returns at once. The goroutine
// republishes immediately, then every interval and after each coalesced
// Trigger, until Shutdown. ctx is used only to start (its values are kept,
// its cancellation is not): the owner stops the goroutine with Shutdown.
// Start after Start or after Shutdown does nothing.
func (m *MemoryReporter) Start(ctx context.Context) {
	m.life.Lock()
	defer m.life.Unlock()
	if m.started || m.stopped {
		return
	}
	m.started = true
	ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.done = make(chan struct{})
	go m.run(ctx, m.done)
}

// Trigger asks for a republish after the coalesce window (a supervision
// event happened). Triggers within one window cost one republish. Trigger
// never blocks.
func (m *MemoryReporter) Trigger() {
	select {
	case m.trigger <- struct{}{}:
	default: // one is already pending
	}
}

// Republishes returns how many republishes have completed.
func (m *MemoryReporter) Republishes() uint64 { return m.republishes.Load() }

// ReadMemory returns the resident and virtual size in bytes of the agent's
// own process (the ProcessRef with Actor "") as the last republish read
// them: the sample the gauges report, not a new read. ok is false before
// the first republish, when the last one could not read the agent, and
// after Shutdown. It implements procagent.MemoryReader.
func (m *MemoryReporter) ReadMemory() (rss, vm uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.self == nil {
		return 0, 0, false
	}
	return m.self.rss, m.self.vm, true
}

// Shutdown stops the goroutine, waits for it to close its readers, and
// unregisters the gauges' callback: afterwards they report nothing. It
// returns ctx's error if ctx ends first. It is idempotent.
func (m *MemoryReporter) Shutdown(ctx context.Context) error {
	m.life.Lock()
	first := !m.stopped
	m.stopped = true
	cancel, done := m.cancel, m.done
	m.life.Unlock()

	var err error
	if first {
		err = m.reg.Unregister()
		m.mu.Lock()
		m.samples, m.self, m.closed = nil, nil, true
		m.mu.Unlock()
	}
	if cancel == nil {
		return err
	}
	cancel()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("memory reporter shutdown: %w", ctx.Err()))
	}
}

// run is the reporter's goroutine: a republish at start, then on the
// periodic timer and on the coalesce timer armed by the first Trigger of a
// window.
func (m *MemoryReporter) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	defer m.closeReaders()

	m.republish()

	var tick <-chan time.Time
	if m.interval > 0 {
		t := time.NewTicker(m.interval)
		defer t.Stop()
		tick = t.C
	}
	coalesce := time.NewTimer(m.coalesce)
	coalesce.Stop()
	defer coalesce.Stop()
	armed := false

	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			m.republish()
		case <-m.trigger:
			if !armed {
				armed = true
				coalesce.Reset(m.coalesce)
			}
		case <-coalesce.C:
			armed = false
			m.republish()
		}
	}
}

// republish reads every listed process into the cache, keeping one reader
// per pid and closing those of processes no longer listed or gone.
func (m *MemoryReporter) republish() {
	refs := m.list()
	seen := make(map[int]struct{}, len(refs))
	samples := make([]memorySample, 0, len(refs))
	var self *memorySample
	for _, ref := range refs {
		if _, dup := seen[ref.Pid]; dup || ref.Pid <= 0 {
			continue
		}
		seen[ref.Pid] = struct{}{}
		if s, ok := m.sample(ref); ok {
			samples = append(samples, s)
			if ref.Actor == "" && self == nil {
				self = &s
			}
		}
	}
	for pid, p := range m.readers {
		if _, ok := seen[pid]; !ok {
			_ = p.reader.Close()
			delete(m.readers, pid)
		}
	}
	m.mu.Lock()
	if !m.closed {
		m.samples, m.self = samples, self
	}
	m.mu.Unlock()
	m.republishes.Add(1)
}

// sample reads one process, opening its reader if needed. A reader whose
// read fails is dropped and opened afresh once, so a pid reused by a new
// actor process is read in the same republish.
func (m *MemoryReporter) sample(ref ProcessRef) (memorySample, bool) {
	p, ok := m.readers[ref.Pid]
	for attempt := 0; attempt < 2; attempt++ {
		if !ok {
			r, err := osproc.NewStatmReader(m.root, ref.Pid)
			if err != nil {
				m.logReadError(ref, err)
				return memorySample{}, false
			}
			p = &trackedProcess{reader: r}
			m.readers[ref.Pid] = p
		}
		if p.attrs == nil || p.actor != ref.Actor {
			p.actor = ref.Actor
			p.attrs = metric.WithAttributeSet(attribute.NewSet(
				attribute.String(labelProcID, m.procID),
				attribute.Int(labelPid, ref.Pid),
				attribute.String(labelActor, ref.Actor),
			))
		}
		rss, vm, err := p.reader.Read()
		if err == nil {
			return memorySample{rss: rss, vm: vm, attrs: p.attrs}, true
		}
		_ = p.reader.Close()
		delete(m.readers, ref.Pid)
		ok = false
		if attempt == 1 {
			m.logReadError(ref, err)
		}
	}
	return memorySample{}, false
}

func (m *MemoryReporter) logReadError(ref ProcessRef, err error) {
	if errors.Is(err, osproc.ErrProcessGone) {
		m.log.Debug("process gone, memory not republished", "actor", ref.Actor, "pid", ref.Pid, "err", err)
		return
	}
	m.log.Warn("read process memory", "actor", ref.Actor, "pid", ref.Pid, "err", err)
}

// closeReaders closes every kept-open reader; the goroutine calls it on
// exit.
func (m *MemoryReporter) closeReaders() {
	for pid, p := range m.readers {
		_ = p.reader.Close()
		delete(m.readers, pid)
	}
}

// observe is the gauges' callback: it reports the cache and reads nothing.
func (m *MemoryReporter) observe(_ context.Context, o metric.Observer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.samples {
		o.ObserveInt64(m.usage, clampInt64(s.rss), s.attrs)
		o.ObserveInt64(m.virtual, clampInt64(s.vm), s.attrs)
	}
	return nil
}

// clampInt64 converts a byte count to int64, saturating (a process cannot
// map 8 EiB, but the conversion must not wrap).
func clampInt64(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}

// ReadMemory returns the agent's own resident and virtual size in bytes as
// the memory reporter last republished them (MemoryReporter.ReadMemory):
// the sample the process.memory.* gauges report. ok is false before the
// first republish and after Shutdown. It implements procagent.MemoryReader,
// so that cmd/agent gives it to procagent.WithMemoryReader and QueryChild
// reports what the gauges do.
func (t *Pipeline) ReadMemory() (rss, vm uint64, ok bool) {
	m := t.memory.Load()
	if m == nil {
		return 0, 0, false
	}
	return m.ReadMemory()
}
