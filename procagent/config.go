package procagent

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/procagent/procagent/runtime"
	yaml "go.yaml.in/yaml/v3"
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
// A duration is a Go duration string ("90s", "5m") or a bare number of seconds.
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
	FlushTimeout                time.Duration
	MailboxSize                 int
	PySpyBin                    string
	ProfileAllowPids            string // comma-separated; see AllowedPids
	OTLPEndpoint                string
	ActorSeriesCap              int
	AuthTokenFile               string
	Pprof                       string // auto, on or off; see PprofEnabled
	LogLevel                    string // debug, info, warn or error; slog.Level's UnmarshalText reads it

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
	v.nonNegative("flush_timeout", c.FlushTimeout)
	v.inRange("mailbox_size", c.MailboxSize, 1, 1<<20)
	v.inRange("actor_series_cap", c.ActorSeriesCap, 1, 1_000_000)
	if _, err := c.AllowedPids(); err != nil {
		v.fail("profile_allow_pids", "%v", err)
	}
	v.oneOf("pprof", c.Pprof, "auto", "on", "off")
	v.oneOf("log_level", c.LogLevel, "debug", "info", "warn", "error")
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

// parseDuration reads a Go duration string, or a bare number as seconds
// (the HYPERACTOR_* variables are often given that way).
func parseDuration(raw string) (time.Duration, error) {
	s := strings.TrimSpace(raw)
	if isDecimal(s) {
		s += "s"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q", raw)
	}
	return d, nil
}

// isDecimal reports whether s is an optionally signed decimal number such as 30, -1 or 0.5.
func isDecimal(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits := strings.Trim(s, "0123456789.")
	return s != "" && digits == "" && strings.Count(s, ".") <= 1 && s != "."
}

// LoadOptions are the sources LoadConfig layers over the defaults.
type LoadOptions struct {
	// File is a YAML or JSON config file keyed by key names; "" reads none.
	File string
	// Flags maps flag names (without dashes) to the values the user actually set.
	// Names that are not config flags are ignored: the flag package has already
	// rejected unknown flags, so a caller may pass every flag it saw set.
	Flags map[string]string
	// Getenv looks up an environment variable: os.LookupEnv in production; nil reads none.
	// A variable set to "" counts as set.
	Getenv func(string) (string, bool)
}

// LoadConfig layers flags over environment over file over defaults, strongest
// first, and validates the result. Of a key's environment variables the first
// listed that is set wins. Every value supplied is parsed, shadowed or not: a bad
// one is an error naming the key and the source, as is an unknown key in the file.
// All problems are reported together.
func LoadConfig(opts LoadOptions) (Config, error) {
	var file map[string]configSetting
	if opts.File != "" {
		data, err := os.ReadFile(filepath.Clean(opts.File))
		if err != nil {
			return Config{}, fmt.Errorf("read config file: %w", err)
		}
		if file, err = parseConfigFile(data, opts.File); err != nil {
			return Config{}, err
		}
	}
	c := DefaultConfig()
	c.origins = make(map[string]configOrigin, len(keyTable))
	var errs []error
	for _, k := range keyTable {
		for _, s := range k.settings(file, opts) {
			if err := k.set(&c, s.raw); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w from %s", k.Name, err, s.where))
				continue
			}
			c.origins[k.Name] = s.configOrigin
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// configSetting is one source's raw value for a key.
type configSetting struct {
	raw string
	configOrigin
}

// settings returns the values supplied for k, weakest first.
func (k Key) settings(file map[string]configSetting, opts LoadOptions) []configSetting {
	var out []configSetting
	if s, ok := file[k.Name]; ok {
		out = append(out, s)
	}
	if opts.Getenv != nil {
		for _, name := range k.EnvVars() {
			if v, ok := opts.Getenv(name); ok {
				out = append(out, configSetting{v, configOrigin{source: SourceEnv, envVar: name, where: "env " + name}})
				break
			}
		}
	}
	if v, ok := opts.Flags[k.Flag]; ok {
		out = append(out, configSetting{v, configOrigin{source: SourceFlag, where: "flag -" + k.Flag}})
	}
	return out
}

// parseConfigFile reads a YAML or JSON mapping of key names to scalar values;
// name is the file's name for error messages.
func parseConfigFile(data []byte, name string) (map[string]configSetting, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil // empty or only comments
	}
	if err != nil {
		return nil, fmt.Errorf("parse config file %s: %w", name, err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse config file %s: want one document, found more", name)
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // "---" alone
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse config file %s:%d: want a mapping of key names to values", name, root.Line)
	}
	out := make(map[string]configSetting, len(root.Content)/2)
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("file %s:%d", name, kn.Line)
		if _, ok := lookupKey(kn.Value); !ok {
			msg := fmt.Sprintf("%s: unknown key %q", where, kn.Value)
			if s := suggestKey(kn.Value); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
			continue
		}
		if prev, dup := out[kn.Value]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate key from %s (first set at %s)", kn.Value, where, prev.where))
			continue
		}
		if vn.Kind == yaml.AliasNode {
			vn = vn.Alias
		}
		if vn.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("%s: want a single value, not a list or mapping, from %s", kn.Value, where))
			continue
		}
		raw := vn.Value
		if vn.Tag == "!!null" {
			raw = ""
		}
		out[kn.Value] = configSetting{raw, configOrigin{source: SourceFile, where: where}}
	}
	return out, errors.Join(errs...)
}

// suggestKey returns the known key an unknown file key most likely meant, or "".
// It recognises flag spellings, env var names and small typos.
func suggestKey(unknown string) string {
	norm := strings.ToLower(strings.ReplaceAll(unknown, "-", "_"))
	best, bestDist := "", max(2, len(norm)/3)+1
	for _, k := range keyTable {
		if norm == k.Name || slices.ContainsFunc(k.EnvVars(), func(e string) bool { return strings.EqualFold(e, unknown) }) {
			return k.Name
		}
		if d := editDistance(norm, k.Name); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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
