package procagent

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/procagent/procagent/runtime"
)

// Sources of a config value, strongest first, as reported in ConfigEntry.Source.
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceFile    = "file"
	SourceDefault = "default"
)

// Key declares one setting: its name in config files and ConfigDump, the environment
// variables and the command-line flag that set it, its default and its documentation.
// Every setting is declared exactly once, in the table ConfigKeys returns.
type Key struct {
	Name       string   // name in config files and in ConfigDump, e.g. "orphan_timeout"
	EnvVar     string   // primary environment variable
	AltEnvVars []string // further environment variables honoured, weaker than EnvVar
	Flag       string   // flag name without dashes, e.g. "orphan-timeout"
	Default    string   // default, written as a flag or env value would be
	Doc        string   // one line for flag usage and ConfigDump

	field func(*Config) any // the Config field: *string, *time.Duration or *int
}

// EnvVars returns every environment variable that sets the key, strongest first.
func (k Key) EnvVars() []string { return append([]string{k.EnvVar}, k.AltEnvVars...) }

// Kind returns the type of the key's value: "string", "duration" or "int".
// A duration is a Go duration string ("90s", "5m"), a humantime one as
// Monarch's settings take ("1min", "1h 30m", "2days"; see parseDuration) or
// a bare number of seconds.
func (k Key) Kind() string {
	switch k.field(new(Config)).(type) {
	case *time.Duration:
		return "duration"
	case *int:
		return "int"
	default:
		return "string"
	}
}

// DefaultResourceRetention is how many terminated resources the agent
// remembers by default: a week of churn at one create a minute.
const DefaultResourceRetention = 10_000

var keyTable = []Key{
	{Name: "addr", EnvVar: "PROCAGENT_ADDR", Flag: "addr", Default: "127.0.0.1:9464",
		Doc:   "listen address (host:port) of the Connect API, /metrics and /debug/pprof",
		field: func(c *Config) any { return &c.Addr }},
	{Name: "metrics_addr", EnvVar: "PROCAGENT_METRICS_ADDR", Flag: "metrics-addr",
		Doc:   "optional separate listen address for /metrics; empty serves it on addr",
		field: func(c *Config) any { return &c.MetricsAddr }},
	{Name: "proc_name", EnvVar: "PROCAGENT_PROC_NAME", Flag: "proc-name",
		Doc:   "the proc's name; empty means <hostname>-<pid>",
		field: func(c *Config) any { return &c.ProcName }},
	{Name: "orphan_timeout", EnvVar: "PROCAGENT_ORPHAN_TIMEOUT",
		AltEnvVars: []string{"HYPERACTOR_MESH_ORPHAN_TIMEOUT"}, Flag: "orphan-timeout", Default: "60s",
		Doc:   "default keepalive expiry; actors whose keepalive lapses are stopped as orphaned; 0 disables the orphan sweep",
		field: func(c *Config) any { return &c.OrphanTimeout }},
	{Name: "process_memory_metric_interval", EnvVar: "PROCAGENT_PROCESS_MEMORY_METRIC_INTERVAL",
		AltEnvVars: []string{"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL"},
		Flag:       "process-memory-metric-interval", Default: "300s",
		Doc:   "how often process RSS and VM gauges are republished; 0 disables",
		field: func(c *Config) any { return &c.ProcessMemoryMetricInterval }},
	{Name: "terminated_snapshot_retention", EnvVar: "PROCAGENT_TERMINATED_SNAPSHOT_RETENTION",
		Flag: "terminated-snapshot-retention", Default: strconv.Itoa(runtime.DefaultRetention),
		Doc:   "how many terminated actors keep an introspection snapshot (0 to 100000)",
		field: func(c *Config) any { return &c.TerminatedSnapshotRetention }},
	{Name: "terminated_resource_retention", EnvVar: "PROCAGENT_TERMINATED_RESOURCE_RETENTION",
		Flag: "terminated-resource-retention", Default: strconv.Itoa(DefaultResourceRetention),
		Doc:   "how many terminated resources the agent remembers before forgetting the oldest (1 to 10000000); a forgotten id reads NOT_EXIST",
		field: func(c *Config) any { return &c.TerminatedResourceRetention }},
	{Name: "flush_timeout", EnvVar: "PROCAGENT_FLUSH_TIMEOUT", Flag: "flush-timeout", Default: "5s",
		Doc:   "how long StopAll and shutdown wait for telemetry to flush",
		field: func(c *Config) any { return &c.FlushTimeout }},
	{Name: "max_grace_period", EnvVar: "PROCAGENT_MAX_GRACE_PERIOD", Flag: "max-grace-period", Default: "30s",
		Doc:   "cap on every exec worker's grace period: a stop, StopAll or SIGTERM kills its process group after at most this long (above 0, at most 10m)",
		field: func(c *Config) any { return &c.MaxGracePeriod }},
	{Name: "max_exec_workers", EnvVar: "PROCAGENT_MAX_EXEC_WORKERS", Flag: "max-exec-workers", Default: "0",
		Doc:   "live exec workers past which a spawn is refused as FAILED without poisoning the proc; 0 derives it from RLIMIT_NOFILE and RLIMIT_NPROC",
		field: func(c *Config) any { return &c.MaxExecWorkers }},
	{Name: "exec_allow", EnvVar: "PROCAGENT_EXEC_ALLOW", Flag: "exec-allow",
		Doc:   "comma-separated absolute program paths or globs (path.Match) the exec type may run, matched against argv[0] as resolved and with symlinks followed; anything else is a FAILED spawn. Defence in depth behind authentication, not a gate of its own; empty allows any program",
		field: func(c *Config) any { return &c.ExecAllow }},
	{Name: "mailbox_size", EnvVar: "PROCAGENT_MAILBOX_SIZE", Flag: "mailbox-size", Default: strconv.Itoa(runtime.DefaultMailboxSize),
		Doc:   "capacity of each actor's mailbox (1 to 1048576)",
		field: func(c *Config) any { return &c.MailboxSize }},
	{Name: "pyspy_bin", EnvVar: "PYSPY_BIN", Flag: "pyspy-bin",
		Doc:   "py-spy binary; empty searches PATH for py-spy, then austin",
		field: func(c *Config) any { return &c.PySpyBin }},
	{Name: "austin_bin", EnvVar: "PROCAGENT_AUSTIN_BIN", Flag: "austin-bin",
		Doc:   "austin binary tried before .tools/bin/austin and austin on PATH (py-spy is preferred when found)",
		field: func(c *Config) any { return &c.AustinBin }},
	{Name: "profile_allow_pids", EnvVar: "PROCAGENT_PROFILE_ALLOW_PIDS", Flag: "profile-allow-pids",
		Doc:   "comma-separated pids besides the agent's own actors that py-spy may profile; empty allows none",
		field: func(c *Config) any { return &c.ProfileAllowPids }},
	{Name: "otlp_endpoint", EnvVar: "PROCAGENT_OTLP_ENDPOINT",
		AltEnvVars: []string{"OTEL_EXPORTER_OTLP_ENDPOINT"}, Flag: "otlp-endpoint",
		Doc:   "OTLP/gRPC endpoint for metrics and traces; empty disables OTLP export",
		field: func(c *Config) any { return &c.OTLPEndpoint }},
	{Name: "actor_series_cap", EnvVar: "PROCAGENT_ACTOR_SERIES_CAP", Flag: "actor-series-cap", Default: "1000",
		Doc:   "most per-actor queue-depth series exported, the deepest queues first (1 to 1000000)",
		field: func(c *Config) any { return &c.ActorSeriesCap }},
	{Name: "auth_token_file", EnvVar: "PROCAGENT_AUTH_TOKEN_FILE", Flag: "auth-token-file",
		Doc:   "file holding the bearer token callers present; created (mode 0600) at first start when missing; empty means token under $XDG_RUNTIME_DIR/procagent, else the user's state dir",
		field: func(c *Config) any { return &c.AuthTokenFile }},
	{Name: "auth", EnvVar: "PROCAGENT_AUTH", Flag: "auth", Default: "token",
		Doc:   "authentication: token (callers present the bearer token) or none (anyone who reaches the listener drives the agent; loopback only, logged as a warning)",
		field: func(c *Config) any { return &c.Auth }},
	{Name: "auth_open_reads", EnvVar: "PROCAGENT_AUTH_OPEN_READS", Flag: "auth-open-reads", Default: "auto",
		Doc:   "serve the read-only RPCs, health, reflection and /metrics without a token: on, off, or auto (on when the listener is a loopback address)",
		field: func(c *Config) any { return &c.AuthOpenReads }},
	{Name: "max_request_bytes", EnvVar: "PROCAGENT_MAX_REQUEST_BYTES", Flag: "max-request-bytes", Default: "4194304",
		Doc:   "largest request message accepted, compressed and after decompression, in bytes (1024 to 1073741824); larger is ResourceExhausted",
		field: func(c *Config) any { return &c.MaxRequestBytes }},
	{Name: "max_send_bytes", EnvVar: "PROCAGENT_MAX_SEND_BYTES", Flag: "max-send-bytes", Default: "1048576",
		Doc:   "largest Send payload, as JSON, in bytes (1 to 1073741824); larger is InvalidArgument",
		field: func(c *Config) any { return &c.MaxSendBytes }},
	{Name: "max_params_bytes", EnvVar: "PROCAGENT_MAX_PARAMS_BYTES", Flag: "max-params-bytes", Default: "65536",
		Doc:   "largest actor params, as JSON, in bytes (1 to 1073741824); larger is InvalidArgument",
		field: func(c *Config) any { return &c.MaxParamsBytes }},
	{Name: "max_reason_bytes", EnvVar: "PROCAGENT_MAX_REASON_BYTES", Flag: "max-reason-bytes", Default: "1024",
		Doc:   "longest stop reason in bytes (1 to 1048576); longer is InvalidArgument",
		field: func(c *Config) any { return &c.MaxReasonBytes }},
	{Name: "max_live_actors", EnvVar: "PROCAGENT_MAX_LIVE_ACTORS", Flag: "max-live-actors", Default: "10000",
		Doc:   "most live (not terminated) actors; a create beyond is ResourceExhausted (1 to 10000000)",
		field: func(c *Config) any { return &c.MaxLiveActors }},
	{Name: "max_streams", EnvVar: "PROCAGENT_MAX_STREAMS", Flag: "max-streams", Default: "1024",
		Doc:   "most concurrent StreamState subscribers; one more is ResourceExhausted (1 to 1000000)",
		field: func(c *Config) any { return &c.MaxStreams }},
	{Name: "max_waiters", EnvVar: "PROCAGENT_MAX_WAITERS", Flag: "max-waiters", Default: "1024",
		Doc:   "most concurrent WaitRankStatus waiters; one more is ResourceExhausted (1 to 1000000)",
		field: func(c *Config) any { return &c.MaxWaiters }},
	{Name: "max_profiles", EnvVar: "PROCAGENT_MAX_PROFILES", Flag: "max-profiles", Default: "4",
		Doc:   "most concurrent profiles and dumps (py-spy, GoProfile, /debug/pprof); one more is ResourceExhausted (1 to 1000)",
		field: func(c *Config) any { return &c.MaxProfiles }},
	{Name: "max_profile_duration", EnvVar: "PROCAGENT_MAX_PROFILE_DURATION", Flag: "max-profile-duration", Default: "5m",
		Doc:   "longest profile a caller may ask for, over RPC and /debug/pprof; longer is InvalidArgument",
		field: func(c *Config) any { return &c.MaxProfileDuration }},
	{Name: "http_read_header_timeout", EnvVar: "PROCAGENT_HTTP_READ_HEADER_TIMEOUT", Flag: "http-read-header-timeout", Default: "10s",
		Doc:   "time a client has to send a request's headers (0 is none)",
		field: func(c *Config) any { return &c.HTTPReadHeaderTimeout }},
	{Name: "http_read_timeout", EnvVar: "PROCAGENT_HTTP_READ_TIMEOUT", Flag: "http-read-timeout", Default: "30s",
		Doc:   "time a client has to send a request's body (0 is none)",
		field: func(c *Config) any { return &c.HTTPReadTimeout }},
	{Name: "http_write_timeout", EnvVar: "PROCAGENT_HTTP_WRITE_TIMEOUT", Flag: "http-write-timeout", Default: "60s",
		Doc:   "time to answer a short request; streams, waits, sends, StopAll and profiles are bounded by the caller's deadline instead (0 is none)",
		field: func(c *Config) any { return &c.HTTPWriteTimeout }},
	{Name: "http_idle_timeout", EnvVar: "PROCAGENT_HTTP_IDLE_TIMEOUT", Flag: "http-idle-timeout", Default: "2m",
		Doc:   "how long an idle keep-alive connection is kept (0 is none)",
		field: func(c *Config) any { return &c.HTTPIdleTimeout }},
	{Name: "pprof", EnvVar: "PROCAGENT_PPROF", Flag: "pprof", Default: "auto",
		Doc:   "serve /debug/pprof: on, off, or auto (on when addr is a loopback address)",
		field: func(c *Config) any { return &c.Pprof }},
	{Name: "log_level", EnvVar: "PROCAGENT_LOG_LEVEL", Flag: "log-level", Default: "info",
		Doc:   "log level: debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }},
	{Name: "block_profile_rate", EnvVar: "PROCAGENT_BLOCK_PROFILE_RATE", Flag: "block-profile-rate", Default: "0",
		Doc:   "Go block profile: sample one blocking event per this many nanoseconds spent blocked, 1 records every one (0 to 1000000000); 0 is off, and GoProfile block then samples only for a duration asked for",
		field: func(c *Config) any { return &c.BlockProfileRate }},
	{Name: "mutex_profile_fraction", EnvVar: "PROCAGENT_MUTEX_PROFILE_FRACTION", Flag: "mutex-profile-fraction", Default: "0",
		Doc:   "Go mutex profile: record 1 in this many mutex contention events (0 to 1000000); 0 is off, and GoProfile mutex then samples only for a duration asked for",
		field: func(c *Config) any { return &c.MutexProfileFraction }},
}

// ConfigKeys returns every setting in declaration order, for binding flags and
// printing help. The slice is a copy; changing it changes nothing else.
func ConfigKeys() []Key {
	keys := slices.Clone(keyTable)
	for i := range keys {
		keys[i].AltEnvVars = slices.Clone(keys[i].AltEnvVars)
	}
	return keys
}

func lookupKey(name string) (Key, bool) {
	i := slices.IndexFunc(keyTable, func(k Key) bool { return k.Name == name })
	if i < 0 {
		return Key{}, false
	}
	return keyTable[i], true
}

// Config is the agent's settings, typed, and where each came from.
// Build one with DefaultConfig or LoadConfig; the zero value is not valid.
type Config struct {
	Addr                        string
	MetricsAddr                 string
	ProcName                    string // empty: the caller uses <hostname>-<pid>
	OrphanTimeout               time.Duration
	ProcessMemoryMetricInterval time.Duration
	TerminatedSnapshotRetention int
	TerminatedResourceRetention int
	FlushTimeout                time.Duration
	MaxGracePeriod              time.Duration
	MaxExecWorkers              int
	ExecAllow                   string // comma-separated; see ExecAllowList
	MailboxSize                 int
	PySpyBin                    string
	AustinBin                   string
	ProfileAllowPids            string // comma-separated; see AllowedPids
	OTLPEndpoint                string
	ActorSeriesCap              int
	AuthTokenFile               string
	Auth                        string // token or none
	AuthOpenReads               string // auto, on or off; see OpenReads
	MaxRequestBytes             int
	MaxSendBytes                int
	MaxParamsBytes              int
	MaxReasonBytes              int
	MaxLiveActors               int
	MaxStreams                  int
	MaxWaiters                  int
	MaxProfiles                 int
	MaxProfileDuration          time.Duration
	HTTPReadHeaderTimeout       time.Duration
	HTTPReadTimeout             time.Duration
	HTTPWriteTimeout            time.Duration
	HTTPIdleTimeout             time.Duration
	Pprof                       string // auto, on or off; see PprofEnabled
	LogLevel                    string // debug, info, warn or error; slog.Level's UnmarshalText reads it
	BlockProfileRate            int    // runtime.SetBlockProfileRate's rate; 0 is off
	MutexProfileFraction        int    // runtime.SetMutexProfileFraction's fraction; 0 is off

	origins map[string]configOrigin // by key name, as found by LoadConfig; absent means default
}

// configOrigin says where a value came from.
type configOrigin struct {
	source string // SourceFlag, SourceEnv or SourceFile
	envVar string // for SourceEnv, the variable that supplied the value
	where  string // for error messages: "env X", "flag -x", "file f.yaml:3"
}

// DefaultConfig returns the declared defaults, every key sourced from "default".
func DefaultConfig() Config {
	var c Config
	for _, k := range keyTable {
		if err := k.set(&c, k.Default); err != nil {
			panic(fmt.Sprintf("procagent: default of config key %s: %v", k.Name, err))
		}
	}
	return c
}

// PprofEnabled resolves Pprof: "on" and "off" say so, and "auto" is on exactly
// when Addr's host is "localhost" or a loopback IP address.
func (c Config) PprofEnabled() bool {
	switch c.Pprof {
	case "on":
		return true
	case "auto":
		host, _, err := net.SplitHostPort(c.Addr)
		if err != nil {
			return false
		}
		if strings.EqualFold(host, "localhost") {
			return true
		}
		ip, err := netip.ParseAddr(host)
		return err == nil && ip.IsLoopback()
	}
	return false
}

// set parses raw as the key's kind into c.
func (k Key) set(c *Config, raw string) error {
	switch p := k.field(c).(type) {
	case *string:
		*p = raw
	case *time.Duration:
		d, err := parseDuration(raw)
		if err != nil {
			return err
		}
		*p = d
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("invalid integer %q", raw)
		}
		*p = n
	}
	return nil
}

// format renders the key's value in c; durations in Go's canonical form ("1m0s").
func (k Key) format(c *Config) string {
	switch p := k.field(c).(type) {
	case *string:
		return *p
	case *time.Duration:
		return p.String()
	case *int:
		return strconv.Itoa(*p)
	}
	return ""
}

// ConfigEntry is one line of a config dump.
type ConfigEntry struct {
	Name    string
	Value   string // durations in Go's canonical form, e.g. "1m0s"
	Default string // formatted like Value
	Source  string // SourceFlag, SourceEnv, SourceFile or SourceDefault
	EnvVar  string // the variable that supplied the value, else the key's primary one
	Changed bool   // Value differs from Default
	Doc     string
	// AltEnvVars are the key's further environment variables, weaker than
	// its primary one (Key.AltEnvVars); nil for most keys.
	AltEnvVars []string
}

// Dump lists every key's value, default and source, sorted by name.
func (c Config) Dump() []ConfigEntry {
	def := DefaultConfig()
	out := make([]ConfigEntry, 0, len(keyTable))
	for _, k := range keyTable {
		o, ok := c.origins[k.Name]
		if !ok {
			o = configOrigin{source: SourceDefault}
		}
		value, dflt := k.format(&c), k.format(&def)
		out = append(out, ConfigEntry{
			Name: k.Name, Value: value, Default: dflt, Source: o.source,
			EnvVar: cmp.Or(o.envVar, k.EnvVar), Changed: value != dflt, Doc: k.Doc,
			AltEnvVars: slices.Clone(k.AltEnvVars),
		})
	}
	slices.SortFunc(out, func(a, b ConfigEntry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ExecAllowList parses exec_allow: absolute paths or path.Match globs
// separated by commas; empty allows any program.
func (c Config) ExecAllowList() ([]string, error) {
	var out []string
	for _, f := range strings.Split(c.ExecAllow, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.HasPrefix(f, "/") {
			return nil, fmt.Errorf("%q is not an absolute path or glob", f)
		}
		if _, err := path.Match(f, ""); err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// AllowedPids parses profile_allow_pids: positive pids separated by commas.
func (c Config) AllowedPids() ([]int, error) {
	var pids []int
	for _, f := range strings.Split(c.ProfileAllowPids, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("%q is not a pid", f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
