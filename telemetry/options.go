package telemetry

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Options.
const (
	// DefaultServiceName is the service.name of an agent that sets none
	// (OTEL_SERVICE_NAME still overrides it).
	DefaultServiceName = "procagent"
	// DefaultExportInterval is the OTLP metric push period.
	DefaultExportInterval = 10 * time.Second
	// DefaultActorSeriesCap is the most per-actor queue-depth series exported.
	DefaultActorSeriesCap = 1000
	// minCardinalityLimit is the least per-instrument series limit given to
	// the OTel SDK (its own default is 2000): 10,000 actors, each with a
	// memory series, are not folded into an overflow series.
	minCardinalityLimit = 10_000
)

// Options configures Pipeline. The zero value works: no OTLP unless the
// standard OTEL_EXPORTER_OTLP_* variables configure it, a new registry, no
// logging.
type Options struct {
	// ServiceName, ServiceVersion, ProcID and InstanceID are the resource's
	// service.name, service.version, procagent.proc.id and
	// service.instance.id. Empty: DefaultServiceName, the main module's
	// version, hostname-pid, and the proc id.
	ServiceName, ServiceVersion, ProcID, InstanceID string
	// OTLPEndpoint is where metrics and spans are pushed over OTLP/gRPC: a
	// URL ("http://collector:4317" is plaintext, "https://…" TLS) or
	// host:port (TLS unless OTEL_EXPORTER_OTLP_INSECURE=true). Empty: the
	// SDK's standard OTEL_EXPORTER_OTLP_* variables decide, and OTLP is on
	// only when one of them names an endpoint (OTEL_METRICS_EXPORTER=none or
	// OTEL_TRACES_EXPORTER=none turns one signal off).
	OTLPEndpoint string
	// ExportInterval is the OTLP metric push period: 0 means
	// OTEL_METRIC_EXPORT_INTERVAL if set, else DefaultExportInterval.
	ExportInterval time.Duration
	// Registry is the Prometheus registry /metrics serves, made by the
	// caller and never global; nil means a new one.
	Registry *prometheus.Registry
	// Logger receives export and scrape errors; nil discards them.
	Logger *slog.Logger
	// ActorSeriesCap is the most per-actor queue-depth series exported, the
	// deepest queues first: 0 means DefaultActorSeriesCap.
	ActorSeriesCap int
	// MemoryInterval is the period of the memory republish; 0 disables the
	// timer (the republish at Observe and after supervision events stays).
	MemoryInterval time.Duration
}

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.ExportInterval < 0 {
		errs = append(errs, fmt.Errorf("export interval %s is negative", o.ExportInterval))
	}
	if o.MemoryInterval < 0 {
		errs = append(errs, fmt.Errorf("memory interval %s is negative", o.MemoryInterval))
	}
	if o.ActorSeriesCap < 0 {
		errs = append(errs, fmt.Errorf("actor series cap %d is negative", o.ActorSeriesCap))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("telemetry options: %w", err)
	}
	if o.ServiceVersion == "" {
		o.ServiceVersion = mainVersion()
	}
	if o.ProcID == "" {
		host, _ := os.Hostname()
		o.ProcID = host + "-" + strconv.Itoa(os.Getpid())
	}
	if o.InstanceID == "" {
		o.InstanceID = o.ProcID
	}
	if o.ExportInterval == 0 && os.Getenv("OTEL_METRIC_EXPORT_INTERVAL") == "" {
		o.ExportInterval = DefaultExportInterval
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ActorSeriesCap == 0 {
		o.ActorSeriesCap = DefaultActorSeriesCap
	}
	return o, nil
}

// cardinalityLimit is the OTel SDK's per-instrument series limit: above
// any series count the agent makes on purpose, so that only a runaway
// instrument is folded into the otel.metric.overflow series.
func (o Options) cardinalityLimit() int {
	return max(o.ActorSeriesCap, minCardinalityLimit) + 1
}

// otlpSignal reports whether OTLP export of one signal ("METRICS" or
// "TRACES") is configured: by the option, or by the SDK's variables.
func (o Options) otlpSignal(signal string) bool {
	if o.OTLPEndpoint != "" {
		return true
	}
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_"+signal+"_EXPORTER")), "none") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}

// mainVersion is the main module's version, "(devel)" for a local build.
func mainVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// goVersion is the Go release the binary was built with.
func goVersion() string { return goruntime.Version() }
