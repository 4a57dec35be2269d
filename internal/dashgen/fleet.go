package dashgen

import "strings"

// Metric families the dashboards query, by their Prometheus names.
const (
	mQueueDepth      = "procagent_queue_depth"
	mQueueDepthMax   = "procagent_queue_depth_max"
	mQueueHighWater  = "procagent_queue_depth_high_water_mark"
	mQueueNonzeroAge = "procagent_queue_last_nonzero_age_seconds"
	mActorQueue      = "procagent_actor_queue_depth"
	mActorOmitted    = "procagent_actor_queue_depth_omitted"
	mActors          = "procagent_actors"
	mPoisoned        = "procagent_proc_poisoned"
	mFailedActors    = "procagent_proc_failed_actors"
	mHandled         = "procagent_messages_handled_total"
	mHandlerDuration = "procagent_handler_duration_seconds"
	mSpawns          = "procagent_actor_spawns_total"
	mStops           = "procagent_actor_stops_total"
	mSupervision     = "procagent_supervision_events_total"
	mBuildInfo       = "procagent_build_info"
	mRPCDuration     = "rpc_server_call_duration_seconds"
	mMemoryUsage     = "process_memory_usage_bytes"
	mMemoryVirtual   = "process_memory_virtual_bytes"
)

// Recording rules (dashboards/prometheus/procagent-rules.yml) the alerts and the fleet
// dashboard's "Alert signals" row share.
const (
	rHandlerErrorRatio = "procagent:handler_error_ratio:rate5m"
	rHandlerP99        = "procagent:handler_duration_seconds:p99_rate5m"
	rRPCErrorRatio     = "procagent:rpc_error_ratio:rate5m"
)

// desc joins sentences into a panel description.
func desc(sentences ...string) string { return strings.Join(sentences, " ") }

// fleet is the fleet overview: every selected agent at once.
func fleet(h *helpTexts) spec {
	return spec{
		file:      "procagent-fleet.json",
		uid:       FleetUID,
		title:     "procagent / Fleet overview",
		desc:      "Every procagent the data source scrapes: health, actors, queues, handlers, RPCs, memory and OTLP export.",
		collector: true,
		rows: []row{
			fleetAgents(h), fleetActors(h), fleetQueues(h), fleetHandlers(h),
			fleetRPC(h), fleetMemory(h), fleetOTLP(), fleetSignals(h),
		},
	}
}

func fleetAgents(h *helpTexts) row {
	return row{title: "Agents", panels: []panel{
		{viz: vizStat, title: "Agents up", unit: unitNone, w: 4, h: 5,
			desc:    "Targets of the selected jobs and instances whose last scrape succeeded (Prometheus's `up`).",
			targets: []target{{expr: sumBy("", sel("up")), legend: "up"}}},
		{viz: vizStat, title: "Agents down", unit: unitNone, w: 4, h: 5, red: ptr(1),
			desc:    "Targets of the selected jobs and instances whose last scrape failed (1 - `up`). The alert ProcAgentDown fires after 2 minutes.",
			targets: []target{{expr: sumBy("", "1 - "+sel("up")), legend: "down"}}},
		{viz: vizStat, title: "Poisoned procs", unit: unitNone, w: 4, h: 5, red: ptr(1),
			desc:    desc("Agents whose proc refuses spawns.", h.of(mPoisoned)),
			targets: []target{{expr: sumBy("", sel(mPoisoned)), legend: "poisoned"}}},
		{viz: vizStat, title: "Failed actors", unit: unitNone, w: 4, h: 5, red: ptr(1),
			desc:    desc("Actors failed by a supervision event, summed over the agents.", h.of(mFailedActors)),
			targets: []target{{expr: sumBy("", sel(mFailedActors)), legend: "failed"}}},
		{viz: vizTable, title: "Versions", unit: unitNone, w: 8, h: 5,
			desc:    desc("One row per agent with its version and Go version.", h.of(mBuildInfo)),
			targets: []target{{expr: maxBy("job, instance, version, go_version", sel(mBuildInfo)), instant: true}}},
		{title: "Uptime", unit: unitSeconds, w: 12, h: 8,
			desc:    "Time since each agent process started (`process_start_time_seconds`, client_golang's process collector); a drop is a restart.",
			targets: []target{{expr: maxBy("job, instance", "time() - "+sel("process_start_time_seconds")), legend: "{{instance}}"}}},
		{title: "Restarts", unit: unitNone, w: 12, h: 8, bars: true,
			desc:    "Restarts of each agent process in each interval: changes of `process_start_time_seconds` (client_golang's process collector). The alert ProcAgentRestarting fires at 3 in 30 minutes.",
			targets: []target{{expr: sumBy("job, instance", "changes("+sel("process_start_time_seconds")+"["+RateInterval+"])"), legend: "{{instance}}"}}},
	}}
}

func fleetActors(h *helpTexts) row {
	return row{title: "Actors and supervision", panels: []panel{
		{title: "Actors by status", unit: unitNone, w: 12, h: 8, stack: true,
			desc:    desc("Resources the selected agents track, by status, summed over the agents.", h.of(mActors)),
			targets: []target{{expr: sumBy("status", sel(mActors)), legend: "{{status}}"}}},
		{title: "Failed actors and poisoned procs by agent", unit: unitNone, w: 12, h: 8,
			desc: desc("Per agent: actors failed by a supervision event, and whether the proc is poisoned.",
				h.of(mFailedActors), h.of(mPoisoned)),
			targets: []target{
				{expr: maxBy("job, instance", sel(mFailedActors)), legend: "failed actors {{instance}}"},
				{expr: maxBy("job, instance", sel(mPoisoned)), legend: "poisoned {{instance}}"},
			}},
		{title: "Supervision events: failures and clean stops", unit: unitEvents, w: 12, h: 8,
			desc: desc("Actors ending, per second: failures (error=\"true\", by terminal status) against clean stops.",
				h.of(mSupervision)),
			targets: []target{
				{expr: sumBy("status", rate(sel(mSupervision, `error="true"`))), legend: "failures {{status}}"},
				{expr: sumBy("", rate(sel(mSupervision, `error="false"`))), legend: "clean stops"},
			}},
		{title: "Spawns and stops", unit: unitOps, w: 12, h: 8,
			desc: desc("Creates of new resources per second, by outcome, and stops requested per second.",
				h.of(mSpawns), h.of(mStops)),
			targets: []target{
				{expr: sumBy("error", rate(sel(mSpawns))), legend: "spawns error={{error}}"},
				{expr: sumBy("", rate(sel(mStops))), legend: "stops requested"},
			}},
	}}
}

func fleetQueues(h *helpTexts) row {
	return row{title: "Queues", panels: []panel{
		{title: "Queue depth total by agent", unit: unitNone, w: 8, h: 8,
			desc:    desc("Messages waiting in all mailboxes, per agent.", h.of(mQueueDepth)),
			targets: []target{{expr: sumBy("job, instance", sel(mQueueDepth)), legend: "{{instance}}"}}},
		{title: "Deepest mailbox by agent", unit: unitNone, w: 8, h: 8,
			desc:    desc("Messages waiting in each agent's deepest mailbox.", h.of(mQueueDepthMax)),
			targets: []target{{expr: maxBy("job, instance", sel(mQueueDepthMax)), legend: "{{instance}}"}}},
		{title: "Queue high-water mark by agent", unit: unitNone, w: 8, h: 8,
			desc:    desc("The highest total queue depth each agent has seen since it started.", h.of(mQueueHighWater)),
			targets: []target{{expr: maxBy("job, instance", sel(mQueueHighWater)), legend: "{{instance}}"}}},
		{title: "Time since the queues were last non-empty", unit: unitSeconds, w: 12, h: 8,
			desc:    desc("0 while messages wait; then how long the queues have been empty.", h.of(mQueueNonzeroAge)),
			targets: []target{{expr: maxBy("job, instance", sel(mQueueNonzeroAge)), legend: "{{instance}}"}}},
		{title: "Actors left out of the per-actor series", unit: unitNone, w: 12, h: 8,
			desc:    desc("Live actors whose queue depth is not exported because of the actor series cap. The alert ProcAgentActorSeriesCapped fires after 15 minutes above 0.", h.of(mActorOmitted)),
			targets: []target{{expr: maxBy("job, instance", sel(mActorOmitted)), legend: "{{instance}}"}}},
	}}
}

func fleetHandlers(h *helpTexts) row {
	return row{title: "Handlers", panels: []panel{
		{title: "Messages handled by actor type", unit: unitMsgs, w: 8, h: 8,
			desc:    desc("Messages whose handler returned, per second, by actor type.", h.of(mHandled)),
			targets: []target{{expr: sumBy("actor_type", rate(sel(mHandled))), legend: "{{actor_type}}"}}},
		{title: "Handler errors by actor type", unit: unitMsgs, w: 8, h: 8,
			desc: desc("Handlers that returned an error, per second, by actor type (0 for types without errors).",
				h.of(mHandled)),
			targets: []target{{expr: orZero(
				sumBy("actor_type", rate(sel(mHandled, `error="true"`))),
				sumBy("actor_type", rate(sel(mHandled)))), legend: "{{actor_type}}"}}},
		{title: "Handler latency p50 and p99 by actor type", unit: unitSeconds, w: 8, h: 8,
			desc: desc("Quantiles of the time spent in handlers, by actor type, from the histogram's buckets.",
				h.of(mHandlerDuration)),
			targets: []target{
				{expr: quantile(0.5, mHandlerDuration, "actor_type"), legend: "p50 {{actor_type}}"},
				{expr: quantile(0.99, mHandlerDuration, "actor_type"), legend: "p99 {{actor_type}}"},
			}},
	}}
}

func fleetRPC(h *helpTexts) row {
	return row{title: "RPC", panels: []panel{
		{title: "RPC rate by method", unit: unitReqs, w: 8, h: 8,
			desc:    desc("Calls served per second, by method.", h.of(mRPCDuration)),
			targets: []target{{expr: sumBy("rpc_method", rate(sel(mRPCDuration+"_count"))), legend: "{{rpc_method}}"}}},
		{title: "RPC errors by method and code", unit: unitReqs, w: 8, h: 8,
			desc: desc("Calls that ended with a status other than OK, per second, by method and code (no line while every call succeeds).",
				h.of(mRPCDuration)),
			targets: []target{{expr: sumBy("rpc_method, rpc_response_status_code", rate(sel(mRPCDuration+"_count", `rpc_response_status_code!="OK"`))),
				legend: "{{rpc_method}} {{rpc_response_status_code}}"}}},
		{title: "RPC latency p50 and p99 by method", unit: unitSeconds, w: 8, h: 8,
			desc:    desc("Quantiles of the call duration, by method, from the histogram's buckets.", h.of(mRPCDuration)),
			targets: rpcQuantiles()},
	}}
}

// rpcQuantiles are the p50 and p99 of the call duration by method.
func rpcQuantiles() []target {
	return []target{
		{expr: quantile(0.5, mRPCDuration, "rpc_method"), legend: "p50 {{rpc_method}}"},
		{expr: quantile(0.99, mRPCDuration, "rpc_method"), legend: "p99 {{rpc_method}}"},
	}
}

func fleetMemory(h *helpTexts) row {
	return row{title: "Memory", panels: []panel{
		{title: "Agent RSS", unit: unitBytes, w: 8, h: 8,
			desc:    desc("Resident set size of each agent process (actor=\"\").", h.of(mMemoryUsage)),
			targets: []target{{expr: maxBy("job, instance", sel(mMemoryUsage, `actor=""`)), legend: "{{instance}}"}}},
		{title: "Worker RSS", unit: unitBytes, w: 8, h: 8,
			desc:    desc("Resident set size of each process-backed actor (a worker), by agent and actor.", h.of(mMemoryUsage)),
			targets: []target{{expr: maxBy("job, instance, actor", sel(mMemoryUsage, `actor!=""`)), legend: "{{instance}} {{actor}}"}}},
		{title: "Workers' RSS total by agent", unit: unitBytes, w: 8, h: 8,
			desc:    desc("Resident set size of all process-backed actors of each agent.", h.of(mMemoryUsage)),
			targets: []target{{expr: sumBy("job, instance", sel(mMemoryUsage, `actor!=""`)), legend: "{{instance}}"}}},
	}}
}

// fleetOTLP reads the OpenTelemetry Collector's own metrics (names as of collector v0.161,
// without a _total suffix): the agents' OTLP push as the collector saw it. Its queries carry
// the collector's job and instance variables instead of the agents'.
func fleetOTLP() row {
	const note = "From the collector's own metrics (service.telemetry in dashboards/otelcol/collector.yaml), scraped as the collector's job; empty where no collector is scraped."
	return row{title: "OTLP export (collector)", panels: []panel{
		{title: "Metric points received by the collector", unit: unitCounts, w: 8, h: 8,
			desc: desc("Metric points per second the collector's receivers accepted, refused (back-pressure) and failed on.", note),
			targets: []target{
				{expr: sumBy("receiver", rate(colSel("otelcol_receiver_accepted_metric_points"))), legend: "accepted {{receiver}}"},
				{expr: sumBy("receiver", rate(colSel("otelcol_receiver_refused_metric_points"))), legend: "refused {{receiver}}"},
				{expr: sumBy("receiver", rate(colSel("otelcol_receiver_failed_metric_points"))), legend: "failed {{receiver}}"},
			}},
		{title: "Metric points exported by the collector", unit: unitCounts, w: 8, h: 8,
			desc: desc("Metric points per second the collector's exporters sent on, and failed to send (0 while none failed).", note),
			targets: []target{
				{expr: sumBy("exporter", rate(colSel("otelcol_exporter_sent_metric_points"))), legend: "sent {{exporter}}"},
				{expr: orZero(
					sumBy("exporter", rate(colSel("otelcol_exporter_send_failed_metric_points"))),
					sumBy("exporter", rate(colSel("otelcol_exporter_sent_metric_points")))), legend: "failed {{exporter}}"},
			}},
		{title: "Spans received and exported by the collector", unit: unitCounts, w: 8, h: 8,
			desc: desc("Spans per second the collector accepted and sent on.", note),
			targets: []target{
				{expr: sumBy("receiver", rate(colSel("otelcol_receiver_accepted_spans"))), legend: "accepted {{receiver}}"},
				{expr: sumBy("exporter", rate(colSel("otelcol_exporter_sent_spans"))), legend: "sent {{exporter}}"},
			}},
	}}
}

// fleetSignals plots the recording rules the alerts read, with the alerts' thresholds.
func fleetSignals(h *helpTexts) row {
	const note = "A recording rule of dashboards/prometheus/procagent-rules.yml over 5 minutes: empty unless Prometheus loads those rules. The dashed line is the alert's threshold."
	return row{title: "Alert signals (recording rules)", panels: []panel{
		{title: "Handler error ratio", unit: unitRatio, w: 8, h: 8, alertedAbove: ptr(0.05),
			desc:    desc("Failed handlers over all handled messages, by agent and actor type; ProcAgentHandlerErrorRatio fires above 5% for 10 minutes.", note, h.of(mHandled)),
			targets: []target{{expr: maxBy("job, instance, actor_type", sel(rHandlerErrorRatio)), legend: "{{instance}} {{actor_type}}"}}},
		{title: "Handler latency p99", unit: unitSeconds, w: 8, h: 8, alertedAbove: ptr(1),
			desc:    desc("The 99th percentile of handler time, by agent and actor type; ProcAgentHandlerSlow fires above 1 s for 15 minutes.", note, h.of(mHandlerDuration)),
			targets: []target{{expr: maxBy("job, instance, actor_type", sel(rHandlerP99)), legend: "{{instance}} {{actor_type}}"}}},
		{title: "RPC error ratio", unit: unitRatio, w: 8, h: 8, alertedAbove: ptr(0.05),
			desc:    desc("Calls that failed (any code but OK, CANCELED and DEADLINE_EXCEEDED) over all calls, by agent and method; ProcAgentRPCErrors fires above 5% for 10 minutes.", note, h.of(mRPCDuration)),
			targets: []target{{expr: maxBy("job, instance, rpc_method", sel(rRPCErrorRatio)), legend: "{{instance}} {{rpc_method}}"}}},
	}}
}
