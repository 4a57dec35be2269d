package procagent

import (
	"log/slog"
	"time"
)

// Option configures an Agent.
type Option func(*Agent)

// WithLogger sets the agent's logger.
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithOrphanTimeout sets the keepalive expiry used when a keepalive gives no
// ttl, and the sweep period (a quarter of it); 0 disables the sweep.
func WithOrphanTimeout(d time.Duration) Option { return func(a *Agent) { a.orphanTimeout = d } }

// WithFlushTimeout bounds the telemetry flush after StopAll.
func WithFlushTimeout(d time.Duration) Option { return func(a *Agent) { a.flushTimeout = d } }

// WithObserver sets the observer of the agent's lifecycle events; New
// attaches it (Observer.Attach).
func WithObserver(o Observer) Option { return func(a *Agent) { a.observer = o } }

// WithFlusher sets what StopAll flushes before it reports the exit code.
func WithFlusher(f Flusher) Option { return func(a *Agent) { a.flusher = f } }

// WithMemoryReader sets how the proc's RSS and VM sizes are read.
func WithMemoryReader(m MemoryReader) Option { return func(a *Agent) { a.mem = m } }

// WithConfig sets the configuration that ConfigDump reports.
func WithConfig(c Config) Option { return func(a *Agent) { a.config = c } }

// WithResourceRetention sets how many terminated resources the agent
// remembers (the terminated_resource_retention setting, at least 1): past
// it the oldest terminated are forgotten and read NOT_EXIST again.
func WithResourceRetention(n int) Option {
	return func(a *Agent) {
		if n > 0 {
			a.retention = n
		}
	}
}
