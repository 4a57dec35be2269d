package procagent

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Validate reports every out-of-range value, each error naming its key and,
// when LoadConfig found the value, its source.
func (c Config) Validate() error {
	v := configValidator{c: &c}
	v.hostPort("addr", c.Addr)
	if c.MetricsAddr != "" {
		v.hostPort("metrics_addr", c.MetricsAddr)
	}
	v.nonNegative("orphan_timeout", c.OrphanTimeout)
	v.nonNegative("process_memory_metric_interval", c.ProcessMemoryMetricInterval)
	v.inRange("terminated_snapshot_retention", c.TerminatedSnapshotRetention, 0, 100_000)
	v.inRange("terminated_resource_retention", c.TerminatedResourceRetention, 1, 10_000_000)
	v.nonNegative("flush_timeout", c.FlushTimeout)
	v.inRange("mailbox_size", c.MailboxSize, 1, 1<<20)
	v.inRange("actor_series_cap", c.ActorSeriesCap, 1, 1_000_000)
	if _, err := c.AllowedPids(); err != nil {
		v.fail("profile_allow_pids", "%v", err)
	}
	v.oneOf("pprof", c.Pprof, "auto", "on", "off")
	v.oneOf("log_level", c.LogLevel, "debug", "info", "warn", "error")
	v.inRange("block_profile_rate", c.BlockProfileRate, 0, 1_000_000_000)
	v.inRange("mutex_profile_fraction", c.MutexProfileFraction, 0, 1_000_000)
	return errors.Join(v.errs...)
}

type configValidator struct {
	c    *Config
	errs []error
}

func (v *configValidator) fail(name, format string, args ...any) {
	msg := name + ": " + fmt.Sprintf(format, args...)
	if o, ok := v.c.origins[name]; ok {
		msg += " from " + o.where
	}
	v.errs = append(v.errs, errors.New(msg))
}

func (v *configValidator) hostPort(name, addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		reason := err.Error()
		if ae, ok := errors.AsType[*net.AddrError](err); ok {
			reason = ae.Err
		}
		v.fail(name, "invalid address %q: %s", addr, reason)
	}
}

func (v *configValidator) nonNegative(name string, d time.Duration) {
	if d < 0 {
		v.fail(name, "negative duration %s", d)
	}
}

func (v *configValidator) inRange(name string, n, lo, hi int) {
	if n < lo || n > hi {
		v.fail(name, "%d out of range [%d, %d]", n, lo, hi)
	}
}

func (v *configValidator) oneOf(name, s string, set ...string) {
	if !slices.Contains(set, s) {
		v.fail(name, "%q is not one of %s", s, strings.Join(set, ", "))
	}
}
