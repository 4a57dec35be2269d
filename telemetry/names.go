package telemetry

// metricSpec names one metric family in both exports: the OTel instrument
// (pushed over OTLP) and the Prometheus family /metrics serves. It is the
// one name table: instruments, the client_golang collector and the README
// are all made from it.
type metricSpec struct {
	// OTel is the instrument name, Unit its UCUM unit.
	OTel, Unit string
	// Prom is the Prometheus family name: the OTel Prometheus exporter's
	// translation of OTel and Unit (the collector of per-actor series uses
	// it as is).
	Prom string
	// Kind is gauge, counter or histogram.
	Kind string
	// Labels are the attribute keys, which are also the Prometheus labels.
	Labels []string
	// Help says what the metric means.
	Help string
	// Source is who emits the family when it is not this package's
	// instruments.
	Source string
	// Seed is the name Monarch's ProcAgent used, where it had one.
	Seed string
}

// Label and attribute keys. actor is also a label of the memory gauges,
// where it is the empty string for the agent's own process: the key is
// always present so every series has the same label set (Prometheus treats
// actor="" as no actor label).
const (
	labelProcID    = "proc_id"
	labelPid       = "pid"
	labelActor     = "actor"
	labelActorType = "actor_type"
	labelStatus    = "status"
	labelError     = "error"
	labelVersion   = "version"
	labelGoVersion = "go_version"
)

// The metrics this package emits.
var (
	mQueueDepth = metricSpec{OTel: "procagent.queue.depth", Unit: "{message}", Prom: "procagent_queue_depth", Kind: "gauge",
		Help: "Messages waiting in all mailboxes of the proc."}
	mQueueDepthMax = metricSpec{OTel: "procagent.queue.depth.max", Unit: "{message}", Prom: "procagent_queue_depth_max", Kind: "gauge",
		Help: "Messages waiting in the proc's deepest mailbox."}
	mQueueHighWater = metricSpec{OTel: "procagent.queue.depth.high_water_mark", Unit: "{message}", Prom: "procagent_queue_depth_high_water_mark", Kind: "gauge",
		Help: "Highest total queue depth the proc has seen."}
	mQueueNonzeroAge = metricSpec{OTel: "procagent.queue.last_nonzero.age", Unit: "s", Prom: "procagent_queue_last_nonzero_age_seconds", Kind: "gauge",
		Help: "Time since the proc's total queue depth was last non-zero (0 while it is); absent until it first is."}
	mActorQueueDepth = metricSpec{OTel: "procagent.actor.queue.depth", Unit: "{message}", Prom: "procagent_actor_queue_depth", Kind: "gauge",
		Labels: []string{labelActor, labelActorType},
		Help:   "Messages waiting in one live actor's mailbox; at most the actor series cap (default 1000) of actors, the deepest first (ties by name)."}
	mActorQueueOmitted = metricSpec{OTel: "procagent.actor.queue.depth.omitted", Unit: "{actor}", Prom: "procagent_actor_queue_depth_omitted", Kind: "gauge",
		Help: "Live actors left out of procagent.actor.queue.depth by the actor series cap."}
	mActors = metricSpec{OTel: "procagent.actors", Unit: "{actor}", Prom: "procagent_actors", Kind: "gauge",
		Labels: []string{labelStatus},
		Help:   "Resources the agent tracks, by status (RUNNING, STOPPING, STOPPED, FAILED, TIMEOUT always present)."}
	mPoisoned = metricSpec{OTel: "procagent.proc.poisoned", Prom: "procagent_proc_poisoned", Kind: "gauge",
		Help: "1 when an actor failed by a supervision event and the proc refuses spawns, else 0."}
	mFailedActors = metricSpec{OTel: "procagent.proc.failed_actors", Unit: "{actor}", Prom: "procagent_proc_failed_actors", Kind: "gauge",
		Help: "Actors that failed by a supervision event (the proc is poisoned iff above 0)."}
	mMessagesHandled = metricSpec{OTel: "procagent.messages.handled", Unit: "{message}", Prom: "procagent_messages_handled_total", Kind: "counter",
		Labels: []string{labelActorType, labelError},
		Help:   "Messages whose handler returned, by actor type; error=true when the handler failed."}
	mHandlerDuration = metricSpec{OTel: "procagent.handler.duration", Unit: "s", Prom: "procagent_handler_duration_seconds", Kind: "histogram",
		Labels: []string{labelActorType},
		Help:   "Time spent in message handlers, by actor type."}
	mSpawns = metricSpec{OTel: "procagent.actor.spawns", Unit: "{spawn}", Prom: "procagent_actor_spawns_total", Kind: "counter",
		Labels: []string{labelError},
		Help:   "Creates of new resources; error=true when the spawn failed (unknown type, bad params, poisoned proc)."}
	mStops = metricSpec{OTel: "procagent.actor.stops", Unit: "{stop}", Prom: "procagent_actor_stops_total", Kind: "counter",
		Help: "Stops requested (by Stop, StopAll or the orphan sweep): transitions to STOPPING."}
	mSupervision = metricSpec{OTel: "procagent.supervision.events", Unit: "{event}", Prom: "procagent_supervision_events_total", Kind: "counter",
		Labels: []string{labelStatus, labelError},
		Help:   "Supervision events (an actor's end), by terminal status; error=true for a failure."}
	mBuildInfo = metricSpec{OTel: "procagent.build.info", Prom: "procagent_build_info", Kind: "gauge",
		Labels: []string{labelVersion, labelGoVersion},
		Help:   "Always 1; labelled with the agent's version and Go version."}
)

// emitted are the families this package's instruments and collector make.
var emitted = []metricSpec{
	mQueueDepth, mQueueDepthMax, mQueueHighWater, mQueueNonzeroAge,
	mActorQueueDepth, mActorQueueOmitted, mActors, mPoisoned, mFailedActors,
	mMessagesHandled, mHandlerDuration, mSpawns, mStops, mSupervision, mBuildInfo,
}

// The families others emit through this package's providers and registry,
// and the memory reporter's (memory.go), which the README lists after them.
var (
	mRPCDuration = metricSpec{OTel: "rpc.server.call.duration", Unit: "s", Prom: "rpc_server_call_duration_seconds", Kind: "histogram",
		Labels: []string{"rpc_system_name", "rpc_method", "rpc_response_status_code", "error_type"},
		Help:   "Duration of each Connect / gRPC / gRPC-Web call the agent served, by method and status (OTel RPC semantic conventions; error_type only on errors).",
		Source: "connectrpc.com/otelconnect"}
	// The memory gauges are named by the OpenTelemetry semantic conventions
	// for process metrics. The conventions declare these names as
	// UpDownCounters; Monarch, docs/semantics.md and the Prometheus exposition treat
	// them as gauges, and gauges they are here: a sample is a level, not a
	// sum of deltas.
	mMemoryUsage = metricSpec{OTel: "process.memory.usage", Unit: "By", Prom: "process_memory_usage_bytes", Kind: "gauge",
		Labels: []string{labelProcID, labelPid, labelActor},
		Help:   "Resident set size of the agent (actor=\"\") and of every process-backed actor, republished periodically and after supervision events.",
		Source: "the memory reporter (memory.go)", Seed: "process.memory.rss_bytes"}
	mMemoryVirtual = metricSpec{OTel: "process.memory.virtual", Unit: "By", Prom: "process_memory_virtual_bytes", Kind: "gauge",
		Labels: []string{labelProcID, labelPid, labelActor},
		Help:   "Virtual memory size of the agent (actor=\"\") and of every process-backed actor, republished with process.memory.usage.",
		Source: "the memory reporter (memory.go)", Seed: "process.memory.vm_bytes"}
	mTargetInfo = metricSpec{Prom: "target_info", Kind: "gauge",
		Labels: []string{"service_name", "service_version", "service_instance_id", "host_name", "process_pid", "procagent_proc_id", "telemetry_sdk_*"},
		Help:   "The OTel resource (OTLP sends it as the resource itself).",
		Source: "the OTel Prometheus exporter"}
	mProcessSelf = metricSpec{Prom: "process_*", Kind: "various",
		Help:   "The agent process's CPU, memory, file descriptors and start time; /metrics only.",
		Source: "client_golang's process collector"}
	mGoSelf = metricSpec{Prom: "go_*", Kind: "various",
		Help:   "The agent's Go runtime (goroutines, GC, memory, scheduler); /metrics only.",
		Source: "client_golang's Go collector"}
	mPromhttp = metricSpec{Prom: "promhttp_metric_handler_*", Kind: "various",
		Help:   "Scrapes of /metrics served and in flight, and errors; /metrics only.",
		Source: "client_golang's promhttp"}
)

// metricTable is every family on /metrics or OTLP, in the README's order.
func metricTable() []metricSpec {
	out := append([]metricSpec(nil), emitted...)
	return append(out, mRPCDuration, mMemoryUsage, mMemoryVirtual, mTargetInfo, mProcessSelf, mGoSelf, mPromhttp)
}
