package procagent

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/procagent/procagent/runtime"
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
	if c.MaxGracePeriod <= 0 || c.MaxGracePeriod > runtime.MaxGracePeriod {
		v.fail("max_grace_period", "must be above 0 and at most %s, got %s", runtime.MaxGracePeriod, c.MaxGracePeriod)
	}
	v.inRange("max_exec_workers", c.MaxExecWorkers, 0, 10_000_000)
	v.inRange("mailbox_size", c.MailboxSize, 1, 1<<20)
	v.inRange("actor_series_cap", c.ActorSeriesCap, 1, 1_000_000)
	if _, err := c.ExecAllowList(); err != nil {
		v.fail("exec_allow", "%v", err)
	}
	if _, err := c.AllowedPids(); err != nil {
		v.fail("profile_allow_pids", "%v", err)
	}
	v.oneOf("pprof", c.Pprof, "auto", "on", "off")
	v.oneOf("log_level", c.LogLevel, "debug", "info", "warn", "error")
	v.inRange("block_profile_rate", c.BlockProfileRate, 0, 1_000_000_000)
	v.inRange("mutex_profile_fraction", c.MutexProfileFraction, 0, 1_000_000)
	v.oneOf("auth", c.Auth, "token", "none")
	v.oneOf("auth_open_reads", c.AuthOpenReads, "auto", "on", "off")
	v.inRange("max_request_bytes", c.MaxRequestBytes, 1024, 1<<30)
	v.inRange("max_send_bytes", c.MaxSendBytes, 1, 1<<30)
	v.inRange("max_params_bytes", c.MaxParamsBytes, 1, 1<<30)
	v.inRange("max_reason_bytes", c.MaxReasonBytes, 1, 1<<20)
	v.inRange("max_live_actors", c.MaxLiveActors, 1, 10_000_000)
	v.inRange("max_streams", c.MaxStreams, 1, 1_000_000)
	v.inRange("max_waiters", c.MaxWaiters, 1, 1_000_000)
	v.inRange("max_profiles", c.MaxProfiles, 1, 1000)
	v.nonNegative("max_profile_duration", c.MaxProfileDuration)
	v.nonNegative("http_read_header_timeout", c.HTTPReadHeaderTimeout)
	v.nonNegative("http_read_timeout", c.HTTPReadTimeout)
	v.nonNegative("http_write_timeout", c.HTTPWriteTimeout)
	v.nonNegative("http_idle_timeout", c.HTTPIdleTimeout)
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
