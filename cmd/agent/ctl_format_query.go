package main

import (
	"strconv"
	"strings"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// query writes a QueryChild reply; the table form lists the node's fields
// by their proto names, one per line.
func (p *ctlPrinter) query(m *procagentv1.QueryChildResponse) error {
	if p.json {
		return p.message(m)
	}
	switch n := m.GetResult().GetNode().(type) {
	case *procagentv1.IntrospectResult_Proc:
		return p.table(ctlProcRows(n.Proc)...)
	case *procagentv1.IntrospectResult_Actor:
		return p.table(ctlActorRows(n.Actor)...)
	}
	return p.table([]string{"node_type", ""})
}

// ctlProcRows lists a proc node's fields.
func ctlProcRows(n *procagentv1.ProcNode) [][]string {
	return [][]string{
		{"node_type", n.GetNodeType()},
		{"proc_name", n.GetProcName()},
		{"num_live", ctlUint(uint64(n.GetNumLive()))},
		{"num_stopped", ctlUint(uint64(n.GetNumStopped()))},
		{"children", strings.Join(n.GetChildren(), ", ")},
		{"system_children", strings.Join(n.GetSystemChildren(), ", ")},
		{"stopped_children", strings.Join(n.GetStoppedChildren(), ", ")},
		{"stopped_retention_cap", ctlUint(uint64(n.GetStoppedRetentionCap()))},
		{"is_poisoned", ctlYesNo(n.GetIsPoisoned())},
		{"failed_actor_count", ctlUint(uint64(n.GetFailedActorCount()))},
		{"process_rss_bytes", ctlOptBytes(n.ProcessRssBytes)},
		{"process_vm_bytes", ctlOptBytes(n.ProcessVmBytes)},
		{"queue_depth_total", ctlUint(n.GetQueueDepthTotal())},
		{"queue_depth_max", ctlUint(n.GetQueueDepthMax())},
		{"queue_depth_high_water_mark", ctlUint(n.GetQueueDepthHighWaterMark())},
		{"last_nonzero_queue_age", ctlOptAge(n.LastNonzeroQueueAgeMs)},
	}
}

// ctlActorRows lists an actor node's fields.
func ctlActorRows(n *procagentv1.ActorNode) [][]string {
	return [][]string{
		{"node_type", n.GetNodeType()},
		{"id", n.GetId()},
		{"status", ctlStatus(n.GetStatus())},
		{"actor_type", n.GetActorType()},
		{"system", ctlYesNo(n.GetSystem())},
		{"terminated", ctlYesNo(n.GetTerminated())},
		{"pid", ctlPid(n.GetPid())},
		{"messages_processed", ctlUint(n.GetMessagesProcessed())},
		{"queue_depth", ctlUint(n.GetQueueDepth())},
		{"created_at", ctlTime(n.GetCreatedAt())},
		{"last_handler", n.GetLastHandler()},
		{"last_handler_at", ctlTime(n.GetLastHandlerAt())},
		{"failure_reason", n.GetFailureReason()},
		{"exit_code", ctlOptInt(n.ExitCode)},
		{"failed_at", ctlTime(n.GetFailedAt())},
	}
}

// ctlPid formats a pid; "" for 0 (not a process).
func ctlPid(pid int64) string {
	if pid == 0 {
		return ""
	}
	return strconv.FormatInt(pid, 10)
}

// ctlOptInt formats an optional int; "" when absent.
func ctlOptInt(n *int32) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(int(*n))
}

// ctlOptBytes formats an optional byte count; "" when absent.
func ctlOptBytes(n *uint64) string {
	if n == nil {
		return ""
	}
	return ctlBytes(*n)
}

// ctlOptAge formats an optional age in milliseconds; "" when absent.
func ctlOptAge(ms *uint64) string {
	if ms == nil {
		return ""
	}
	return ctlAge(*ms)
}
