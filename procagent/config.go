package procagent

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
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
	{Name: "mailbox_size", EnvVar: "PROCAGENT_MAILBOX_SIZE", Flag: "mailbox-size", Default: strconv.Itoa(runtime.DefaultMailboxSize),
		Doc:   "capacity of each actor's mailbox (1 to 1048576)",
		field: func(c *Config) any { return &c.MailboxSize }},
	{Name: "pyspy_bin", EnvVar: "PYSPY_BIN", Flag: "pyspy-bin",
		Doc:   "py-spy binary; empty searches PATH for py-spy, then austin",
		field: func(c *Config) any { return &c.PySpyBin }},
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
		Doc:   "file holding the bearer token RPC callers must present; empty disables auth",
		field: func(c *Config) any { return &c.AuthTokenFile }},
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
	MailboxSize                 int
	PySpyBin                    string
	ProfileAllowPids            string // comma-separated; see AllowedPids
	OTLPEndpoint                string
	ActorSeriesCap              int
	AuthTokenFile               string
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
