package ctl

import (
	"strings"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// query writes a QueryChild reply; the table form lists the node's fields
// by their proto names, one per line.
func (p *printer) query(m *procagentv1.QueryChildResponse) error {
	if p.json {
		return p.message(m)
	}
	switch n := m.GetResult().GetNode().(type) {
	case *procagentv1.IntrospectResult_Proc:
		return p.table(procRows(n.Proc)...)
	case *procagentv1.IntrospectResult_Actor:
		return p.table(actorRows(n.Actor)...)
	}
	return p.table([]string{"node_type", ""})
}

// procRows lists a proc node's fields.
func procRows(n *procagentv1.ProcNode) [][]string {
	return [][]string{
		{"node_type", n.GetNodeType()},
		{"proc_name", n.GetProcName()},
		{"num_live", formatUint(uint64(n.GetNumLive()))},
		{"num_stopped", formatUint(uint64(n.GetNumStopped()))},
		{"children", strings.Join(n.GetChildren(), ", ")},
		{"system_children", strings.Join(n.GetSystemChildren(), ", ")},
		{"stopped_children", strings.Join(n.GetStoppedChildren(), ", ")},
		{"stopped_retention_cap", formatUint(uint64(n.GetStoppedRetentionCap()))},
		{"is_poisoned", yesNo(n.GetIsPoisoned())},
		{"failed_actor_count", formatUint(uint64(n.GetFailedActorCount()))},
		{"process_rss_bytes", optBytes(n.ProcessRssBytes)},
		{"process_vm_bytes", optBytes(n.ProcessVmBytes)},
		{"queue_depth_total", formatUint(n.GetQueueDepthTotal())},
		{"queue_depth_max", formatUint(n.GetQueueDepthMax())},
		{"queue_depth_high_water_mark", formatUint(n.GetQueueDepthHighWaterMark())},
		{"last_nonzero_queue_age", optAge(n.LastNonzeroQueueAgeMs)},
	}
}

// actorRows lists an actor node's fields.
func actorRows(n *procagentv1.ActorNode) [][]string {
	return [][]string{
		{"node_type", n.GetNodeType()},
		{"id", n.GetId()},
		{"status", statusName(n.GetStatus())},
		{"actor_type", n.GetActorType()},
		{"system", yesNo(n.GetSystem())},
		{"terminated", yesNo(n.GetTerminated())},
		{"pid", formatPid(n.GetPid())},
		{"messages_processed", formatUint(n.GetMessagesProcessed())},
		{"queue_depth", formatUint(n.GetQueueDepth())},
		{"created_at", formatTime(n.GetCreatedAt())},
		{"last_handler", n.GetLastHandler()},
		{"last_handler_at", formatTime(n.GetLastHandlerAt())},
		{"failure_reason", n.GetFailureReason()},
		{"exit_code", optInt(n.ExitCode)},
		{"failed_at", formatTime(n.GetFailedAt())},
	}
}
