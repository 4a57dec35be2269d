package dashgen

// proc is the drill-down into one proc (select one instance; with several, every panel
// splits by instance).
func proc(h *helpTexts) spec {
	return spec{
		file:  "procagent-proc.json",
		uid:   ProcUID,
		title: "procagent / Proc drill-down",
		desc:  "One proc in depth: its actors, mailboxes, handlers, memory per actor, Go runtime, CPU and file descriptors.",
		rows: []row{
			procOverview(h), procActors(h), procHandlers(h), procMemory(h), procRuntime(), procProcess(), procRPC(h),
		},
	}
}

func procOverview(h *helpTexts) row {
	return row{title: "Proc", panels: []panel{
		{viz: vizStat, title: "Poisoned", unit: unitNone, w: 4, h: 5, red: ptr(1),
			desc:    h.of(mPoisoned),
			targets: []target{{expr: maxBy("", sel(mPoisoned)), legend: "poisoned"}}},
		{viz: vizStat, title: "Failed actors", unit: unitNone, w: 4, h: 5, red: ptr(1),
			desc:    h.of(mFailedActors),
			targets: []target{{expr: sumBy("", sel(mFailedActors)), legend: "failed"}}},
		{viz: vizStat, title: "Running actors", unit: unitNone, w: 4, h: 5,
			desc:    desc("Actors in status RUNNING.", h.of(mActors)),
			targets: []target{{expr: sumBy("", sel(mActors, `status="RUNNING"`)), legend: "running"}}},
		{viz: vizStat, title: "Queue depth", unit: unitNone, w: 4, h: 5,
			desc:    h.of(mQueueDepth),
			targets: []target{{expr: sumBy("", sel(mQueueDepth)), legend: "waiting"}}},
		{viz: vizStat, title: "Uptime", unit: unitSeconds, w: 8, h: 5,
			desc:    "Time since the agent process started (`process_start_time_seconds`, client_golang's process collector).",
			targets: []target{{expr: maxBy("", "time() - "+sel("process_start_time_seconds")), legend: "uptime"}}},
		{title: "Actors by status", unit: unitNone, w: 12, h: 8, stack: true,
			desc:    h.of(mActors),
			targets: []target{{expr: sumBy("instance, status", sel(mActors)), legend: "{{status}}"}}},
		{title: "Queue depth: total, deepest mailbox, high-water mark", unit: unitNone, w: 12, h: 8,
			desc: desc("The proc's three queue gauges.", h.of(mQueueDepth), h.of(mQueueDepthMax), h.of(mQueueHighWater)),
			targets: []target{
				{expr: sumBy("instance", sel(mQueueDepth)), legend: "total {{instance}}"},
				{expr: maxBy("instance", sel(mQueueDepthMax)), legend: "deepest mailbox {{instance}}"},
				{expr: maxBy("instance", sel(mQueueHighWater)), legend: "high-water mark {{instance}}"},
			}},
	}}
}

func procActors(h *helpTexts) row {
	return row{title: "Actors", panels: []panel{
		{title: "Queue depth per actor (top 10)", unit: unitNone, w: 12, h: 9,
			desc:    desc("The ten deepest mailboxes at each moment.", h.of(mActorQueue)),
			targets: []target{{expr: "topk(10, " + maxBy("instance, actor, actor_type", sel(mActorQueue)) + ")", legend: "{{actor}} ({{actor_type}})"}}},
		{title: "Actor lifecycle events", unit: unitNone, w: 12, h: 9, bars: true,
			desc: desc("Spawns (by outcome), stops requested and supervision events (by terminal status and error) in each interval.",
				h.of(mSpawns), h.of(mStops), h.of(mSupervision)),
			targets: []target{
				{expr: sumBy("error", increase(sel(mSpawns))), legend: "spawn error={{error}}"},
				{expr: sumBy("", increase(sel(mStops))), legend: "stop requested"},
				{expr: sumBy("status, error", increase(sel(mSupervision))), legend: "ended {{status}} error={{error}}"},
			}},
		{title: "Time since the queues were last non-empty", unit: unitSeconds, w: 12, h: 8,
			desc:    h.of(mQueueNonzeroAge),
			targets: []target{{expr: maxBy("instance", sel(mQueueNonzeroAge)), legend: "{{instance}}"}}},
		{title: "Actors left out of the per-actor series", unit: unitNone, w: 12, h: 8,
			desc:    h.of(mActorOmitted),
			targets: []target{{expr: maxBy("instance", sel(mActorOmitted)), legend: "{{instance}}"}}},
	}}
}

func procHandlers(h *helpTexts) row {
	return row{title: "Handlers", panels: []panel{
		{viz: vizHeatmap, title: "Handler latency heatmap", unit: unitSeconds, w: 12, h: 9,
			desc:    desc("Messages handled per second in each latency bucket, all actor types together.", h.of(mHandlerDuration)),
			targets: []target{{expr: sumBy("le", rate(sel(mHandlerDuration+"_bucket"))), legend: "{{le}}", heatmap: true}}},
		{title: "Messages handled by actor type and outcome", unit: unitMsgs, w: 12, h: 9,
			desc:    h.of(mHandled),
			targets: []target{{expr: sumBy("actor_type, error", rate(sel(mHandled))), legend: "{{actor_type}} error={{error}}"}}},
		{title: "Handler latency p50 and p99 by actor type", unit: unitSeconds, w: 24, h: 8,
			desc: h.of(mHandlerDuration),
			targets: []target{
				{expr: quantile(0.5, mHandlerDuration, "actor_type"), legend: "p50 {{actor_type}}"},
				{expr: quantile(0.99, mHandlerDuration, "actor_type"), legend: "p99 {{actor_type}}"},
			}},
	}}
}

// agentNamed labels the agent's own memory series (actor="") actor="agent" for the legend.
func agentNamed(expr string) string {
	return `label_replace(` + expr + `, "actor", "(agent)", "actor", "")`
}

func procMemory(h *helpTexts) row {
	return row{title: "Memory per actor", panels: []panel{
		{title: "RSS per actor", unit: unitBytes, w: 12, h: 9,
			desc:    desc("Resident set size of the agent, shown as (agent), and of each process-backed actor, republished periodically and after spawns and supervision events.", h.of(mMemoryUsage)),
			targets: []target{{expr: agentNamed(maxBy("instance, actor, pid", sel(mMemoryUsage))), legend: "{{actor}} pid {{pid}}"}}},
		{title: "VM per actor", unit: unitBytes, w: 12, h: 9,
			desc:    desc("Virtual memory size of the agent, shown as (agent), and of each process-backed actor.", h.of(mMemoryVirtual)),
			targets: []target{{expr: agentNamed(maxBy("instance, actor, pid", sel(mMemoryVirtual))), legend: "{{actor}} pid {{pid}}"}}},
	}}
}

func procRuntime() row {
	const src = "From client_golang's Go collector (go_*)."
	return row{title: "Go runtime", panels: []panel{
		{title: "Goroutines and threads", unit: unitNone, w: 6, h: 8,
			desc: desc("Goroutines that exist (`go_goroutines`) and OS threads created (`go_threads`).", src),
			targets: []target{
				{expr: sumBy("instance", sel("go_goroutines")), legend: "goroutines {{instance}}"},
				{expr: sumBy("instance", sel("go_threads")), legend: "threads {{instance}}"},
			}},
		{title: "GC cycles", unit: unitOps, w: 6, h: 8,
			desc:    desc("Garbage collections per second (`go_gc_duration_seconds_count`).", src),
			targets: []target{{expr: sumBy("instance", rate(sel("go_gc_duration_seconds_count"))), legend: "{{instance}}"}}},
		{title: "GC pause quantiles", unit: unitSeconds, w: 6, h: 8,
			desc:    desc("Stop-the-world pause durations since the process started, by summary quantile (`go_gc_duration_seconds`; quantile 1 is the longest).", src),
			targets: []target{{expr: maxBy("instance, quantile", sel("go_gc_duration_seconds")), legend: "q{{quantile}} {{instance}}"}}},
		{title: "Heap", unit: unitBytes, w: 6, h: 8,
			desc: desc("Heap bytes allocated and in use, and the heap size of the next GC (`go_memstats_heap_alloc_bytes`, `go_memstats_heap_inuse_bytes`, `go_memstats_next_gc_bytes`).", src),
			targets: []target{
				{expr: sumBy("instance", sel("go_memstats_heap_alloc_bytes")), legend: "allocated {{instance}}"},
				{expr: sumBy("instance", sel("go_memstats_heap_inuse_bytes")), legend: "in use {{instance}}"},
				{expr: sumBy("instance", sel("go_memstats_next_gc_bytes")), legend: "next GC {{instance}}"},
			}},
		{title: "Allocation rate", unit: unitBytesPS, w: 12, h: 8,
			desc:    desc("Heap bytes allocated per second (`go_memstats_alloc_bytes_total`).", src),
			targets: []target{{expr: sumBy("instance", rate(sel("go_memstats_alloc_bytes_total"))), legend: "{{instance}}"}}},
		{title: "Heap objects", unit: unitNone, w: 12, h: 8,
			desc:    desc("Objects allocated on the heap and not yet freed (`go_memstats_heap_objects`).", src),
			targets: []target{{expr: sumBy("instance", sel("go_memstats_heap_objects")), legend: "{{instance}}"}}},
	}}
}

func procProcess() row {
	const src = "From client_golang's process collector (process_*)."
	return row{title: "Process", panels: []panel{
		{title: "CPU", unit: unitRatio, w: 8, h: 8,
			desc:    desc("CPU time the agent process used per second (`process_cpu_seconds_total`): 100% is one core.", src),
			targets: []target{{expr: sumBy("instance", rate(sel("process_cpu_seconds_total"))), legend: "{{instance}}"}}},
		{title: "File descriptors", unit: unitNone, w: 8, h: 8,
			desc: desc("Open file descriptors and the process's limit (`process_open_fds`, `process_max_fds`).", src),
			targets: []target{
				{expr: sumBy("instance", sel("process_open_fds")), legend: "open {{instance}}"},
				{expr: sumBy("instance", sel("process_max_fds")), legend: "limit {{instance}}"},
			}},
		{title: "File descriptor use", unit: unitRatio, w: 8, h: 8, alertedAbove: ptr(0.8),
			desc:    desc("Open file descriptors over the limit; ProcAgentFdsNearLimit fires above 80% for 10 minutes.", src),
			targets: []target{{expr: sumBy("instance", sel("process_open_fds")) + " / " + sumBy("instance", sel("process_max_fds")), legend: "{{instance}}"}}},
	}}
}

func procRPC(h *helpTexts) row {
	return row{title: "RPC", panels: []panel{
		{title: "RPC rate by method and code", unit: unitReqs, w: 12, h: 8,
			desc:    h.of(mRPCDuration),
			targets: []target{{expr: sumBy("rpc_method, rpc_response_status_code", rate(sel(mRPCDuration+"_count"))), legend: "{{rpc_method}} {{rpc_response_status_code}}"}}},
		{title: "RPC latency p50 and p99 by method", unit: unitSeconds, w: 12, h: 8,
			desc:    h.of(mRPCDuration),
			targets: rpcQuantiles()},
	}}
}
