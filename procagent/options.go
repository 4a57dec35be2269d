package procagent

import (
	"context"
	"log/slog"
	"time"

	"github.com/procagent/procagent/runtime"
)

// Observer is told of every transition and supervision event; telemetry
// implements it. Its methods are called with the agent's lock held and must
// not block.
type Observer interface {
	Transition(st State)
	Supervised(ev runtime.SupervisionEvent)
}

// NopObserver observes nothing.
type NopObserver struct{}

// Transition does nothing.
func (NopObserver) Transition(State) {}

// Supervised does nothing.
func (NopObserver) Supervised(runtime.SupervisionEvent) {}

// Flusher flushes telemetry before the agent exits; telemetry implements it.
type Flusher interface {
	Flush(ctx context.Context) error
}

// FlusherFunc adapts a function to Flusher.
type FlusherFunc func(ctx context.Context) error

// Flush calls f.
func (f FlusherFunc) Flush(ctx context.Context) error { return f(ctx) }

// Option configures an Agent.
type Option func(*Agent)

// WithLogger sets the agent's logger.
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithOrphanTimeout sets the keepalive expiry used when a keepalive gives no
// ttl, and the sweep period (a quarter of it); 0 disables the sweep.
func WithOrphanTimeout(d time.Duration) Option { return func(a *Agent) { a.orphanTimeout = d } }

// WithFlushTimeout bounds the telemetry flush after StopAll.
func WithFlushTimeout(d time.Duration) Option { return func(a *Agent) { a.flushTimeout = d } }

// WithObserver sets the observer of transitions and supervision events.
func WithObserver(o Observer) Option { return func(a *Agent) { a.observer = o } }

// WithFlusher sets what StopAll flushes before it reports the exit code.
func WithFlusher(f Flusher) Option { return func(a *Agent) { a.flusher = f } }

// WithMemoryReader sets how the proc's RSS and VM sizes are read.
func WithMemoryReader(m MemoryReader) Option { return func(a *Agent) { a.mem = m } }

// WithConfig sets the configuration that ConfigDump reports.
func WithConfig(c Config) Option { return func(a *Agent) { a.config = c } }
