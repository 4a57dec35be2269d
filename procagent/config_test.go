package procagent

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// configEnv returns a Getenv over m, as os.LookupEnv would see it.
func configEnv(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestConfigKeys(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[string]string{}
	claim := func(what, by string) {
		t.Helper()
		if prev, ok := seen[what]; ok {
			t.Errorf("%s declared by both %s and %s", what, prev, by)
		}
		seen[what] = by
	}
	for _, k := range ConfigKeys() {
		if !snake.MatchString(k.Name) {
			t.Errorf("key %q: name is not snake_case", k.Name)
		}
		if want := strings.ReplaceAll(k.Name, "_", "-"); k.Flag != want {
			t.Errorf("key %s: flag %q, want %q", k.Name, k.Flag, want)
		}
		if k.Doc == "" {
			t.Errorf("key %s: no doc", k.Name)
		}
		claim("name "+k.Name, k.Name)
		claim("flag "+k.Flag, k.Name)
		for _, e := range k.EnvVars() {
			claim("env "+e, k.Name)
		}
		if err := k.set(new(Config), k.Default); err != nil {
			t.Errorf("key %s: default %q: %v", k.Name, k.Default, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}

	keys := ConfigKeys()
	keys[3].AltEnvVars[0] = "CHANGED"
	keys[0].Name = "changed"
	if got := ConfigKeys(); got[3].AltEnvVars[0] == "CHANGED" || got[0].Name == "changed" {
		t.Error("changing ConfigKeys' result changed the table")
	}
}

func TestConfigKeyKind(t *testing.T) {
	got := map[string]string{}
	for _, k := range ConfigKeys() {
		got[k.Name] = k.Kind()
	}
	want := map[string]string{
		"addr": "string", "metrics_addr": "string", "proc_name": "string",
		"orphan_timeout": "duration", "process_memory_metric_interval": "duration",
		"terminated_snapshot_retention": "int", "terminated_resource_retention": "int", "flush_timeout": "duration", "mailbox_size": "int",
		"max_grace_period": "duration", "max_exec_workers": "int", "exec_allow": "string",
		"pyspy_bin": "string", "austin_bin": "string", "otlp_endpoint": "string", "auth_token_file": "string", "actor_series_cap": "int", "profile_allow_pids": "string",
		"pprof": "string", "log_level": "string",
		"block_profile_rate": "int", "mutex_profile_fraction": "int",
		"auth": "string", "auth_open_reads": "string", "max_request_bytes": "int", "max_send_bytes": "int",
		"max_params_bytes": "int", "max_reason_bytes": "int", "max_live_actors": "int", "max_streams": "int",
		"max_waiters": "int", "max_profiles": "int", "max_profile_duration": "duration",
		"http_read_header_timeout": "duration", "http_read_timeout": "duration", "http_write_timeout": "duration", "http_idle_timeout": "duration",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Kind (-want +got):\n%s", diff)
	}
}

func TestConfigDefault(t *testing.T) {
	want := Config{
		Addr:                        "127.0.0.1:9464",
		OrphanTimeout:               60 * time.Second,
		ProcessMemoryMetricInterval: 300 * time.Second,
		TerminatedSnapshotRetention: 100,
		TerminatedResourceRetention: 10_000,
		FlushTimeout:                5 * time.Second,
		MaxGracePeriod:              30 * time.Second,
		MailboxSize:                 32,
		ActorSeriesCap:              1000,
		Pprof:                       "auto",
		LogLevel:                    "info",
		Auth:                        "token",
		AuthOpenReads:               "auto",
		MaxRequestBytes:             4 << 20,
		MaxSendBytes:                1 << 20,
		MaxParamsBytes:              64 << 10,
		MaxReasonBytes:              1024,
		MaxLiveActors:               10_000,
		MaxStreams:                  1024,
		MaxWaiters:                  1024,
		MaxProfiles:                 4,
		MaxProfileDuration:          5 * time.Minute,
		HTTPReadHeaderTimeout:       10 * time.Second,
		HTTPReadTimeout:             30 * time.Second,
		HTTPWriteTimeout:            time.Minute,
		HTTPIdleTimeout:             2 * time.Minute,
	}
	if diff := cmp.Diff(want, DefaultConfig(), cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("DefaultConfig() (-want +got):\n%s", diff)
	}
	got, err := LoadConfig(LoadOptions{})
	if err != nil {
		t.Fatalf("LoadConfig(no sources): %v", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("LoadConfig(no sources) (-want +got):\n%s", diff)
	}
}

// configFrom is the origin of one value, as Dump reports it.
type configFrom struct{ Value, Source, EnvVar string }

// configSources picks names' values and sources out of c's dump.
func configSources(c Config, names ...string) map[string]configFrom {
	out := map[string]configFrom{}
	for _, e := range c.Dump() {
		if slices.Contains(names, e.Name) {
			out[e.Name] = configFrom{e.Value, e.Source, e.EnvVar}
		}
	}
	return out
}

func TestConfigPrecedence(t *testing.T) {
	const file = "testdata/config/agent.yaml"
	allEnv := map[string]string{
		"PROCAGENT_ORPHAN_TIMEOUT": "2m",
		"PROCAGENT_MAILBOX_SIZE":   "128",
		"PROCAGENT_LOG_LEVEL":      "warn",
		"PROCAGENT_FLUSH_TIMEOUT":  "7s",
	}
	allFlags := map[string]string{
		"orphan-timeout": "3m",
		"mailbox-size":   "32",
		"addr":           "127.0.0.1:0",
		"proc-name":      "trainer-0",
	}
	tests := []struct {
		name string
		opts LoadOptions
		want map[string]configFrom
	}{{
		name: "defaults",
		opts: LoadOptions{},
		want: map[string]configFrom{
			"addr":           {"127.0.0.1:9464", "default", "PROCAGENT_ADDR"},
			"orphan_timeout": {"1m0s", "default", "PROCAGENT_ORPHAN_TIMEOUT"},
			"mailbox_size":   {"32", "default", "PROCAGENT_MAILBOX_SIZE"},
			"log_level":      {"info", "default", "PROCAGENT_LOG_LEVEL"},
			"flush_timeout":  {"5s", "default", "PROCAGENT_FLUSH_TIMEOUT"},
			"proc_name":      {"", "default", "PROCAGENT_PROC_NAME"},
		},
	}, {
		name: "file beats default",
		opts: LoadOptions{File: file},
		want: map[string]configFrom{
			"addr":           {"0.0.0.0:9464", "file", "PROCAGENT_ADDR"},
			"orphan_timeout": {"1m30s", "file", "PROCAGENT_ORPHAN_TIMEOUT"},
			"mailbox_size":   {"256", "file", "PROCAGENT_MAILBOX_SIZE"},
			"log_level":      {"debug", "file", "PROCAGENT_LOG_LEVEL"},
			"flush_timeout":  {"5s", "default", "PROCAGENT_FLUSH_TIMEOUT"},
			"proc_name":      {"", "default", "PROCAGENT_PROC_NAME"},
		},
	}, {
		name: "env beats default",
		opts: LoadOptions{Getenv: configEnv(allEnv)},
		want: map[string]configFrom{
			"addr":           {"127.0.0.1:9464", "default", "PROCAGENT_ADDR"},
			"orphan_timeout": {"2m0s", "env", "PROCAGENT_ORPHAN_TIMEOUT"},
			"mailbox_size":   {"128", "env", "PROCAGENT_MAILBOX_SIZE"},
			"log_level":      {"warn", "env", "PROCAGENT_LOG_LEVEL"},
			"flush_timeout":  {"7s", "env", "PROCAGENT_FLUSH_TIMEOUT"},
			"proc_name":      {"", "default", "PROCAGENT_PROC_NAME"},
		},
	}, {
		name: "env beats file",
		opts: LoadOptions{File: file, Getenv: configEnv(allEnv)},
		want: map[string]configFrom{
			"addr":           {"0.0.0.0:9464", "file", "PROCAGENT_ADDR"},
			"orphan_timeout": {"2m0s", "env", "PROCAGENT_ORPHAN_TIMEOUT"},
			"mailbox_size":   {"128", "env", "PROCAGENT_MAILBOX_SIZE"},
			"log_level":      {"warn", "env", "PROCAGENT_LOG_LEVEL"},
			"flush_timeout":  {"7s", "env", "PROCAGENT_FLUSH_TIMEOUT"},
			"proc_name":      {"", "default", "PROCAGENT_PROC_NAME"},
		},
	}, {
		name: "flag beats default",
		opts: LoadOptions{Flags: allFlags},
		want: map[string]configFrom{
			"addr":           {"127.0.0.1:0", "flag", "PROCAGENT_ADDR"},
			"orphan_timeout": {"3m0s", "flag", "PROCAGENT_ORPHAN_TIMEOUT"},
			"mailbox_size":   {"32", "flag", "PROCAGENT_MAILBOX_SIZE"},
			"log_level":      {"info", "default", "PROCAGENT_LOG_LEVEL"},
			"flush_timeout":  {"5s", "default", "PROCAGENT_FLUSH_TIMEOUT"},
			"proc_name":      {"trainer-0", "flag", "PROCAGENT_PROC_NAME"},
		},
	}, {
		name: "flag beats env beats file beats default",
		opts: LoadOptions{File: file, Getenv: configEnv(allEnv), Flags: allFlags},
		want: map[string]configFrom{
			"addr":           {"127.0.0.1:0", "flag", "PROCAGENT_ADDR"},
			"orphan_timeout": {"3m0s", "flag", "PROCAGENT_ORPHAN_TIMEOUT"},
			"mailbox_size":   {"32", "flag", "PROCAGENT_MAILBOX_SIZE"},
			"log_level":      {"warn", "env", "PROCAGENT_LOG_LEVEL"},
			"flush_timeout":  {"7s", "env", "PROCAGENT_FLUSH_TIMEOUT"},
			"proc_name":      {"trainer-0", "flag", "PROCAGENT_PROC_NAME"},
		},
	}, {
		name: "flags that are not config keys are ignored",
		opts: LoadOptions{Flags: map[string]string{"config": "x.yaml", "v": "true", "log-level": "error"}},
		want: map[string]configFrom{
			"log_level": {"error", "flag", "PROCAGENT_LOG_LEVEL"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.opts)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			names := make([]string, 0, len(tt.want))
			for n := range tt.want {
				names = append(names, n)
			}
			if diff := cmp.Diff(tt.want, configSources(c, names...)); diff != "" {
				t.Errorf("values and sources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigAltEnvVars(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want map[string]configFrom
	}{{
		name: "alternates alone",
		env: map[string]string{
			"HYPERACTOR_MESH_ORPHAN_TIMEOUT":            "120",
			"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL": "15s",
			"OTEL_EXPORTER_OTLP_ENDPOINT":               "http://collector:4317",
		},
		want: map[string]configFrom{
			"orphan_timeout":                 {"2m0s", "env", "HYPERACTOR_MESH_ORPHAN_TIMEOUT"},
			"process_memory_metric_interval": {"15s", "env", "HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL"},
			"otlp_endpoint":                  {"http://collector:4317", "env", "OTEL_EXPORTER_OTLP_ENDPOINT"},
		},
	}, {
		name: "humantime, as Monarch writes them",
		env: map[string]string{
			"HYPERACTOR_MESH_ORPHAN_TIMEOUT":            "2min",
			"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL": "1h 30m",
		},
		want: map[string]configFrom{
			"orphan_timeout":                 {"2m0s", "env", "HYPERACTOR_MESH_ORPHAN_TIMEOUT"},
			"process_memory_metric_interval": {"1h30m0s", "env", "HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL"},
			"otlp_endpoint":                  {"", "default", "PROCAGENT_OTLP_ENDPOINT"},
		},
	}, {
		name: "primary beats alternate",
		env: map[string]string{
			"PROCAGENT_ORPHAN_TIMEOUT":                  "10s",
			"HYPERACTOR_MESH_ORPHAN_TIMEOUT":            "120",
			"PROCAGENT_PROCESS_MEMORY_METRIC_INTERVAL":  "0",
			"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL": "15s",
			"PROCAGENT_OTLP_ENDPOINT":                   "http://mine:4317",
			"OTEL_EXPORTER_OTLP_ENDPOINT":               "http://collector:4317",
		},
		want: map[string]configFrom{
			"orphan_timeout":                 {"10s", "env", "PROCAGENT_ORPHAN_TIMEOUT"},
			"process_memory_metric_interval": {"0s", "env", "PROCAGENT_PROCESS_MEMORY_METRIC_INTERVAL"},
			"otlp_endpoint":                  {"http://mine:4317", "env", "PROCAGENT_OTLP_ENDPOINT"},
		},
	}, {
		name: "a primary set to empty still wins",
		env: map[string]string{
			"PROCAGENT_OTLP_ENDPOINT":     "",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
		},
		want: map[string]configFrom{
			"orphan_timeout":                 {"1m0s", "default", "PROCAGENT_ORPHAN_TIMEOUT"},
			"process_memory_metric_interval": {"5m0s", "default", "PROCAGENT_PROCESS_MEMORY_METRIC_INTERVAL"},
			"otlp_endpoint":                  {"", "env", "PROCAGENT_OTLP_ENDPOINT"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(LoadOptions{Getenv: configEnv(tt.env)})
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			got := configSources(c, "orphan_timeout", "process_memory_metric_interval", "otlp_endpoint")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values and sources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "0", want: 0},
		{in: "60", want: time.Minute},
		{in: "1.5", want: 1500 * time.Millisecond},
		{in: ".5", want: 500 * time.Millisecond},
		{in: " 30 ", want: 30 * time.Second},
		{in: "-5", want: -5 * time.Second}, // parsed; Validate rejects it
		{in: "-1m", want: -time.Minute},    // Go's form; Validate rejects it
		// Monarch's settings are read by humantime: these are its forms.
		{in: "1min", want: time.Minute},
		{in: "2mins", want: 2 * time.Minute},
		{in: "5minutes", want: 5 * time.Minute},
		{in: "1h 30m", want: 90 * time.Minute},
		{in: "1h  30min 15s", want: 90*time.Minute + 15*time.Second},
		{in: "2hours", want: 2 * time.Hour},
		{in: "3hr", want: 3 * time.Hour},
		{in: "1hrs", want: time.Hour},
		{in: "1hour 1minute 1second", want: time.Hour + time.Minute + time.Second},
		{in: "90sec", want: 90 * time.Second},
		{in: "10secs", want: 10 * time.Second},
		{in: "30seconds", want: 30 * time.Second},
		{in: "500msec", want: 500 * time.Millisecond},
		{in: "500millis", want: 500 * time.Millisecond},
		{in: "5usec", want: 5 * time.Microsecond},
		{in: "7nsec", want: 7},
		{in: "9nanos", want: 9},
		{in: "1day", want: 24 * time.Hour},
		{in: "2days", want: 48 * time.Hour},
		{in: "1d 12h", want: 36 * time.Hour},
		{in: "1week", want: 7 * 24 * time.Hour},
		{in: "2w", want: 14 * 24 * time.Hour},
		{in: "1month", want: 2_630_016 * time.Second},
		{in: "1M", want: 2_630_016 * time.Second},
		{in: "1year", want: 31_557_600 * time.Second},
		{in: "1y 2M", want: (31_557_600 + 2*2_630_016) * time.Second},
		{in: "1.5hours", want: 90 * time.Minute},
		{in: " 2min ", want: 2 * time.Minute},
		{in: "1 min", want: time.Minute},
		{in: "1h+30m", want: 90 * time.Minute},
		{in: "1h30min", want: 90 * time.Minute},
		{in: "5µs", want: 5 * time.Microsecond},
		{in: "min", wantErr: `invalid duration "min"`},
		{in: "1fortnight", wantErr: `invalid duration "1fortnight"`},
		{in: "1h 30", wantErr: `invalid duration "1h 30"`},
		{in: "1h, 30m", wantErr: `invalid duration "1h, 30m"`},
		{in: "-1min", wantErr: `invalid duration "-1min"`},
		{in: "300years", wantErr: `invalid duration "300years"`},
		{in: "99999999999999999999days", wantErr: `invalid duration "99999999999999999999days"`},
		{in: "200years 200years", wantErr: `invalid duration "200years 200years"`},
		{in: "6x", wantErr: `invalid duration "6x"`},
		{in: "", wantErr: `invalid duration ""`},
		{in: ".", wantErr: `invalid duration "."`},
		{in: "1.2.3", wantErr: `invalid duration "1.2.3"`},
		{in: "1e3", wantErr: `invalid duration "1e3"`},
		{in: "99999999999999999999", wantErr: `invalid duration "99999999999999999999"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if gotErr := configErrString(err); gotErr != tt.wantErr {
				t.Fatalf("parseDuration(%q) error = %q, want %q", tt.in, gotErr, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func configErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestConfigLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    LoadOptions
		wantErr string
	}{{
		name:    "bad duration from env",
		opts:    LoadOptions{Getenv: configEnv(map[string]string{"PROCAGENT_ORPHAN_TIMEOUT": "6x"})},
		wantErr: `orphan_timeout: invalid duration "6x" from env PROCAGENT_ORPHAN_TIMEOUT`,
	}, {
		name:    "bad duration from alternate env",
		opts:    LoadOptions{Getenv: configEnv(map[string]string{"HYPERACTOR_MESH_ORPHAN_TIMEOUT": "soon"})},
		wantErr: `orphan_timeout: invalid duration "soon" from env HYPERACTOR_MESH_ORPHAN_TIMEOUT`,
	}, {
		name:    "empty env var for a number",
		opts:    LoadOptions{Getenv: configEnv(map[string]string{"PROCAGENT_MAILBOX_SIZE": ""})},
		wantErr: `mailbox_size: invalid integer "" from env PROCAGENT_MAILBOX_SIZE`,
	}, {
		name:    "bad integer from flag",
		opts:    LoadOptions{Flags: map[string]string{"mailbox-size": "big"}},
		wantErr: `mailbox_size: invalid integer "big" from flag -mailbox-size`,
	}, {
		name:    "bad integer from file",
		opts:    LoadOptions{File: "testdata/config/bad_value.yaml"},
		wantErr: `mailbox_size: invalid integer "lots" from file testdata/config/bad_value.yaml:2`,
	}, {
		name: "bad file value is reported even when a flag overrides it",
		opts: LoadOptions{
			File:  "testdata/config/bad_value.yaml",
			Flags: map[string]string{"mailbox-size": "8"},
		},
		wantErr: `mailbox_size: invalid integer "lots" from file testdata/config/bad_value.yaml:2`,
	}, {
		name:    "unknown file key",
		opts:    LoadOptions{File: "testdata/config/unknown_key.yaml"},
		wantErr: `file testdata/config/unknown_key.yaml:2: unknown key "orphan-timeout" (did you mean "orphan_timeout"?)`,
	}, {
		name:    "out of range from flag",
		opts:    LoadOptions{Flags: map[string]string{"mailbox-size": "0"}},
		wantErr: `mailbox_size: 0 out of range [1, 1048576] from flag -mailbox-size`,
	}, {
		name:    "out of range from JSON file",
		opts:    LoadOptions{File: "testdata/config/out_of_range.json"},
		wantErr: `mailbox_size: 0 out of range [1, 1048576] from file testdata/config/out_of_range.json:1`,
	}, {
		name:    "not in set from env",
		opts:    LoadOptions{Getenv: configEnv(map[string]string{"PROCAGENT_LOG_LEVEL": "verbose"})},
		wantErr: `log_level: "verbose" is not one of debug, info, warn, error from env PROCAGENT_LOG_LEVEL`,
	}, {
		name:    "negative duration from env",
		opts:    LoadOptions{Getenv: configEnv(map[string]string{"PROCAGENT_FLUSH_TIMEOUT": "-1"})},
		wantErr: `flush_timeout: negative duration -1s from env PROCAGENT_FLUSH_TIMEOUT`,
	}, {
		name:    "bad address from flag",
		opts:    LoadOptions{Flags: map[string]string{"addr": "9464"}},
		wantErr: `addr: invalid address "9464": missing port in address from flag -addr`,
	}, {
		name:    "relative exec_allow entry",
		opts:    LoadOptions{Flags: map[string]string{"exec-allow": "/usr/bin/python3, python3"}},
		wantErr: `exec_allow: "python3" is not an absolute path or glob from flag -exec-allow`,
	}, {
		name:    "bad exec_allow glob",
		opts:    LoadOptions{Getenv: configEnv(map[string]string{"PROCAGENT_EXEC_ALLOW": "/opt/[w"})},
		wantErr: `exec_allow: "/opt/[w": syntax error in pattern from env PROCAGENT_EXEC_ALLOW`,
	}, {
		name: "every problem is reported",
		opts: LoadOptions{
			Getenv: configEnv(map[string]string{"PROCAGENT_ORPHAN_TIMEOUT": "6x"}),
			Flags:  map[string]string{"mailbox-size": "big"},
		},
		wantErr: `orphan_timeout: invalid duration "6x" from env PROCAGENT_ORPHAN_TIMEOUT` + "\n" +
			`mailbox_size: invalid integer "big" from flag -mailbox-size`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.opts)
			if diff := cmp.Diff(tt.wantErr, configErrString(err)); diff != "" {
				t.Errorf("LoadConfig error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(LoadOptions{File: "testdata/config/missing.yaml"})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadConfig(missing file) = %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestConfigParseFile(t *testing.T) {
	at := func(raw string, line int) configSetting {
		return configSetting{raw, configOrigin{source: SourceFile, where: fmt.Sprintf("file f.yaml:%d", line)}}
	}
	tests := []struct {
		name    string
		in      string
		want    map[string]configSetting
		wantErr string
	}{
		{name: "empty", in: ""},
		{name: "only comments", in: "# nothing set\n"},
		{name: "empty document", in: "---\n"},
		{
			name: "yaml scalars are read as written",
			in:   "pprof: on\norphan_timeout: 60\nmetrics_addr:\nproc_name: ~\n",
			want: map[string]configSetting{
				"pprof": at("on", 1), "orphan_timeout": at("60", 2),
				"metrics_addr": at("", 3), "proc_name": at("", 4),
			},
		},
		{
			name: "json",
			in:   "{\n\t\"orphan_timeout\": 60,\n\t\"addr\": \"[::1]:9464\"\n}\n",
			want: map[string]configSetting{"orphan_timeout": at("60", 2), "addr": at("[::1]:9464", 3)},
		},
		{
			name: "aliases",
			in:   "addr: &a \"127.0.0.1:1\"\nmetrics_addr: *a\n",
			want: map[string]configSetting{"addr": at("127.0.0.1:1", 1), "metrics_addr": at("127.0.0.1:1", 2)},
		},
		{
			name:    "unknown keys with suggestions",
			in:      "PROCAGENT_ADDR: x\nlog_levl: debug\nOTEL_EXPORTER_OTLP_ENDPOINT: y\ncolour: blue\n",
			wantErr: "file f.yaml:1: unknown key \"PROCAGENT_ADDR\" (did you mean \"addr\"?)\n" + "file f.yaml:2: unknown key \"log_levl\" (did you mean \"log_level\"?)\n" + "file f.yaml:3: unknown key \"OTEL_EXPORTER_OTLP_ENDPOINT\" (did you mean \"otlp_endpoint\"?)\n" + "file f.yaml:4: unknown key \"colour\"",
		},
		{
			name:    "duplicate key",
			in:      "addr: a:1\naddr: b:2\n",
			wantErr: "addr: duplicate key from file f.yaml:2 (first set at file f.yaml:1)",
		},
		{
			name:    "value is a list",
			in:      "addr: [a, b]\n",
			wantErr: "addr: want a single value, not a list or mapping, from file f.yaml:1",
		},
		{
			name:    "not a mapping",
			in:      "- addr\n",
			wantErr: "parse config file f.yaml:1: want a mapping of key names to values",
		},
		{
			name:    "two documents",
			in:      "addr: a:1\n---\naddr: b:2\n",
			wantErr: "parse config file f.yaml: want one document, found more",
		},
		{
			name:    "syntax error",
			in:      "addr: [a:1\n",
			wantErr: "parse config file f.yaml: yaml: line 1: did not find expected ',' or ']'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfigFile([]byte(tt.in), "f.yaml")
			if diff := cmp.Diff(tt.wantErr, configErrString(err)); diff != "" {
				t.Fatalf("parseConfigFile error (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(configSetting{}, configOrigin{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parseConfigFile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigFiles(t *testing.T) {
	want := DefaultConfig()
	want.Addr = "0.0.0.0:9464"
	want.MetricsAddr = ":9465"
	want.OrphanTimeout = 90 * time.Second
	want.ProcessMemoryMetricInterval = 30 * time.Second
	want.TerminatedSnapshotRetention = 500
	want.MailboxSize = 256
	want.PySpyBin = "tools/py-spy"
	want.Pprof = "on"
	want.LogLevel = "debug"
	for _, file := range []string{"testdata/config/agent.yaml", "testdata/config/agent.json"} {
		t.Run(file, func(t *testing.T) {
			got, err := LoadConfig(LoadOptions{File: file})
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Config{})); diff != "" {
				t.Errorf("LoadConfig(%s) (-want +got):\n%s", file, diff)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "zero durations disable", change: func(c *Config) {
			c.OrphanTimeout, c.ProcessMemoryMetricInterval, c.FlushTimeout = 0, 0, 0
		}},
		{name: "limits", change: func(c *Config) {
			c.TerminatedSnapshotRetention, c.MailboxSize = 100_000, 1<<20
		}},
		{name: "ipv6 and any-host addresses", change: func(c *Config) {
			c.Addr, c.MetricsAddr = "[::1]:9464", ":9465"
		}},
		{name: "addr without port", change: func(c *Config) { c.Addr = "localhost" },
			wantErr: `addr: invalid address "localhost": missing port in address`},
		{name: "empty addr", change: func(c *Config) { c.Addr = "" },
			wantErr: `addr: invalid address "": missing port in address`},
		{name: "bad metrics_addr", change: func(c *Config) { c.MetricsAddr = "::1:9465" },
			wantErr: `metrics_addr: invalid address "::1:9465": too many colons in address`},
		{name: "negative orphan_timeout", change: func(c *Config) { c.OrphanTimeout = -time.Second },
			wantErr: `orphan_timeout: negative duration -1s`},
		{name: "negative process_memory_metric_interval", change: func(c *Config) { c.ProcessMemoryMetricInterval = -time.Minute },
			wantErr: `process_memory_metric_interval: negative duration -1m0s`},
		{name: "retention too big", change: func(c *Config) { c.TerminatedSnapshotRetention = 100_001 },
			wantErr: `terminated_snapshot_retention: 100001 out of range [0, 100000]`},
		{name: "negative retention", change: func(c *Config) { c.TerminatedSnapshotRetention = -1 },
			wantErr: `terminated_snapshot_retention: -1 out of range [0, 100000]`},
		{name: "zero mailbox", change: func(c *Config) { c.MailboxSize = 0 },
			wantErr: `mailbox_size: 0 out of range [1, 1048576]`},
		{name: "huge mailbox", change: func(c *Config) { c.MailboxSize = 1<<20 + 1 },
			wantErr: `mailbox_size: 1048577 out of range [1, 1048576]`},
		{name: "pprof yes", change: func(c *Config) { c.Pprof = "yes" },
			wantErr: `pprof: "yes" is not one of auto, on, off`},
		{name: "log level is lower case", change: func(c *Config) { c.LogLevel = "INFO" },
			wantErr: `log_level: "INFO" is not one of debug, info, warn, error`},
		{name: "profiling sampling on", change: func(c *Config) {
			c.BlockProfileRate, c.MutexProfileFraction = 1, 1
		}},
		{name: "profiling sampling limits", change: func(c *Config) {
			c.BlockProfileRate, c.MutexProfileFraction = 1_000_000_000, 1_000_000
		}},
		{name: "negative block_profile_rate", change: func(c *Config) { c.BlockProfileRate = -1 },
			wantErr: `block_profile_rate: -1 out of range [0, 1000000000]`},
		{name: "mutex_profile_fraction too big", change: func(c *Config) { c.MutexProfileFraction = 1_000_001 },
			wantErr: `mutex_profile_fraction: 1000001 out of range [0, 1000000]`},
		{name: "every failure, in key order", change: func(c *Config) {
			c.LogLevel, c.FlushTimeout, c.Addr = "trace", -time.Second, "nowhere"
		}, wantErr: `addr: invalid address "nowhere": missing port in address` + "\n" +
			`flush_timeout: negative duration -1s` + "\n" +
			`log_level: "trace" is not one of debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if diff := cmp.Diff(tt.wantErr, configErrString(c.Validate())); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigDump(t *testing.T) {
	c, err := LoadConfig(LoadOptions{
		File: "testdata/config/agent.yaml",
		Getenv: configEnv(map[string]string{
			"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL": "600", // beats the file's 30
			"PROCAGENT_FLUSH_TIMEOUT":                   "5",   // same as the default
			"PYSPY_BIN":                                 "py-spy",
		}),
		Flags: map[string]string{"proc-name": "trainer-0", "log-level": "info"},
	})
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	want := []ConfigEntry{
		{Name: "actor_series_cap", Value: "1000", Default: "1000", Source: "default", EnvVar: "PROCAGENT_ACTOR_SERIES_CAP"},
		{Name: "addr", Value: "0.0.0.0:9464", Default: "127.0.0.1:9464", Source: "file", EnvVar: "PROCAGENT_ADDR", Changed: true},
		{Name: "austin_bin", Source: "default", EnvVar: "PROCAGENT_AUSTIN_BIN"},
		{Name: "auth", Value: "token", Default: "token", Source: "default", EnvVar: "PROCAGENT_AUTH"},
		{Name: "auth_open_reads", Value: "auto", Default: "auto", Source: "default", EnvVar: "PROCAGENT_AUTH_OPEN_READS"},
		{Name: "auth_token_file", Source: "default", EnvVar: "PROCAGENT_AUTH_TOKEN_FILE"},
		{Name: "block_profile_rate", Value: "0", Default: "0", Source: "default", EnvVar: "PROCAGENT_BLOCK_PROFILE_RATE"},
		{Name: "exec_allow", Source: "default", EnvVar: "PROCAGENT_EXEC_ALLOW"},
		{Name: "flush_timeout", Value: "5s", Default: "5s", Source: "env", EnvVar: "PROCAGENT_FLUSH_TIMEOUT"},
		{Name: "http_idle_timeout", Value: "2m0s", Default: "2m0s", Source: "default", EnvVar: "PROCAGENT_HTTP_IDLE_TIMEOUT"},
		{Name: "http_read_header_timeout", Value: "10s", Default: "10s", Source: "default", EnvVar: "PROCAGENT_HTTP_READ_HEADER_TIMEOUT"},
		{Name: "http_read_timeout", Value: "30s", Default: "30s", Source: "default", EnvVar: "PROCAGENT_HTTP_READ_TIMEOUT"},
		{Name: "http_write_timeout", Value: "1m0s", Default: "1m0s", Source: "default", EnvVar: "PROCAGENT_HTTP_WRITE_TIMEOUT"},
		{Name: "log_level", Value: "info", Default: "info", Source: "flag", EnvVar: "PROCAGENT_LOG_LEVEL"},
		{Name: "mailbox_size", Value: "256", Default: "32", Source: "file", EnvVar: "PROCAGENT_MAILBOX_SIZE", Changed: true},
		{Name: "max_exec_workers", Value: "0", Default: "0", Source: "default", EnvVar: "PROCAGENT_MAX_EXEC_WORKERS"},
		{Name: "max_grace_period", Value: "30s", Default: "30s", Source: "default", EnvVar: "PROCAGENT_MAX_GRACE_PERIOD"},
		{Name: "max_live_actors", Value: "10000", Default: "10000", Source: "default", EnvVar: "PROCAGENT_MAX_LIVE_ACTORS"},
		{Name: "max_params_bytes", Value: "65536", Default: "65536", Source: "default", EnvVar: "PROCAGENT_MAX_PARAMS_BYTES"},
		{Name: "max_profile_duration", Value: "5m0s", Default: "5m0s", Source: "default", EnvVar: "PROCAGENT_MAX_PROFILE_DURATION"},
		{Name: "max_profiles", Value: "4", Default: "4", Source: "default", EnvVar: "PROCAGENT_MAX_PROFILES"},
		{Name: "max_reason_bytes", Value: "1024", Default: "1024", Source: "default", EnvVar: "PROCAGENT_MAX_REASON_BYTES"},
		{Name: "max_request_bytes", Value: "4194304", Default: "4194304", Source: "default", EnvVar: "PROCAGENT_MAX_REQUEST_BYTES"},
		{Name: "max_send_bytes", Value: "1048576", Default: "1048576", Source: "default", EnvVar: "PROCAGENT_MAX_SEND_BYTES"},
		{Name: "max_streams", Value: "1024", Default: "1024", Source: "default", EnvVar: "PROCAGENT_MAX_STREAMS"},
		{Name: "max_waiters", Value: "1024", Default: "1024", Source: "default", EnvVar: "PROCAGENT_MAX_WAITERS"},
		{Name: "metrics_addr", Value: ":9465", Source: "file", EnvVar: "PROCAGENT_METRICS_ADDR", Changed: true},
		{Name: "mutex_profile_fraction", Value: "0", Default: "0", Source: "default", EnvVar: "PROCAGENT_MUTEX_PROFILE_FRACTION"},
		{Name: "orphan_timeout", Value: "1m30s", Default: "1m0s", Source: "file", EnvVar: "PROCAGENT_ORPHAN_TIMEOUT", Changed: true,
			AltEnvVars: []string{"HYPERACTOR_MESH_ORPHAN_TIMEOUT"}},
		{Name: "otlp_endpoint", Source: "default", EnvVar: "PROCAGENT_OTLP_ENDPOINT", AltEnvVars: []string{"OTEL_EXPORTER_OTLP_ENDPOINT"}},
		{Name: "pprof", Value: "on", Default: "auto", Source: "file", EnvVar: "PROCAGENT_PPROF", Changed: true},
		{Name: "proc_name", Value: "trainer-0", Source: "flag", EnvVar: "PROCAGENT_PROC_NAME", Changed: true},
		{Name: "process_memory_metric_interval", Value: "10m0s", Default: "5m0s", Source: "env", EnvVar: "HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL", Changed: true,
			AltEnvVars: []string{"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL"}},
		{Name: "profile_allow_pids", Source: "default", EnvVar: "PROCAGENT_PROFILE_ALLOW_PIDS"},
		{Name: "pyspy_bin", Value: "py-spy", Source: "env", EnvVar: "PYSPY_BIN", Changed: true},
		{Name: "terminated_resource_retention", Value: "10000", Default: "10000", Source: "default", EnvVar: "PROCAGENT_TERMINATED_RESOURCE_RETENTION"},
		{Name: "terminated_snapshot_retention", Value: "500", Default: "100", Source: "file", EnvVar: "PROCAGENT_TERMINATED_SNAPSHOT_RETENTION", Changed: true},
	}
	got := c.Dump()
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ConfigEntry{}, "Doc")); diff != "" {
		t.Errorf("Dump (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if e.Doc == "" {
			t.Errorf("Dump: %s has no doc", e.Name)
		}
	}
}

func TestConfigDumpDefaults(t *testing.T) {
	got := DefaultConfig().Dump()
	if len(got) != len(ConfigKeys()) {
		t.Fatalf("Dump has %d entries, want %d", len(got), len(ConfigKeys()))
	}
	if !slices.IsSortedFunc(got, func(a, b ConfigEntry) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("Dump is not sorted by name: %v", got)
	}
	for _, e := range got {
		if e.Source != SourceDefault || e.Changed || e.Value != e.Default || !strings.HasPrefix(e.EnvVar, "P") {
			t.Errorf("Dump of defaults: %+v, want source default, unchanged, the primary env var", e)
		}
	}
}

func TestConfigPprofEnabled(t *testing.T) {
	tests := []struct {
		pprof, addr string
		want        bool
	}{
		{"auto", "127.0.0.1:9464", true},
		{"auto", "127.1.2.3:9464", true},
		{"auto", "[::1]:9464", true},
		{"auto", "localhost:9464", true},
		{"auto", "0.0.0.0:9464", false},
		{"auto", ":9464", false},
		{"auto", "[::]:9464", false},
		{"auto", "10.0.0.5:9464", false},
		{"auto", "agent.example:9464", false},
		{"on", "0.0.0.0:9464", true},
		{"off", "127.0.0.1:9464", false},
	}
	for _, tt := range tests {
		t.Run(tt.pprof+" "+tt.addr, func(t *testing.T) {
			c := DefaultConfig()
			c.Pprof, c.Addr = tt.pprof, tt.addr
			if got := c.PprofEnabled(); got != tt.want {
				t.Errorf("PprofEnabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConfigSuggestKey(t *testing.T) {
	tests := map[string]string{
		"orphan-timeout":                 "orphan_timeout",
		"ORPHAN_TIMEOUT":                 "orphan_timeout",
		"PROCAGENT_ADDR":                 "addr",
		"HYPERACTOR_MESH_ORPHAN_TIMEOUT": "orphan_timeout",
		"adr":                            "addr",
		"metrics_address":                "metrics_addr",
		"log_levl":                       "log_level",
		"colour":                         "",
		"x":                              "",
	}
	for in, want := range tests {
		if got := suggestKey(in); got != want {
			t.Errorf("suggestKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigAllowedPids(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		ok   bool
	}{
		{"", nil, true},
		{"12, 34,", []int{12, 34}, true},
		{"12,x", nil, false},
		{"-3", nil, false},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.ProfileAllowPids = tt.in
		got, err := c.AllowedPids()
		if (err == nil) != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("AllowedPids(%q) = %v, %v", tt.in, got, err)
		}
		if verr := c.Validate(); (verr == nil) != tt.ok {
			t.Errorf("Validate with %q = %v", tt.in, verr)
		}
	}
}
