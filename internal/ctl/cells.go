package ctl

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"
)

// cell makes s fit a table cell: one line, "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Join(strings.Fields(s), " ")
}

// formatUint formats n in decimal.
func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// yesNo formats a flag as "yes" or "no".
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatTime formats a timestamp for people; "" when absent.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Local().Format("2006-01-02T15:04:05.000Z07:00")
}

// formatBytes formats a byte count exactly, with a binary-unit
// approximation: "512 B", "23907532 (22.8 MiB)".
func formatBytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d (%s)", n, humanBytes(n))
}

// humanBytes formats a byte count compactly in binary units: "512 B",
// "22.8 MiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatAge formats a duration given in milliseconds.
func formatAge(ms uint64) string {
	if ms < 1000 {
		return fmt.Sprintf("%dms", ms)
	}
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}

// formatPid formats a pid; "" for 0 (not a process).
func formatPid(pid int64) string {
	if pid == 0 {
		return ""
	}
	return strconv.FormatInt(pid, 10)
}

// optInt formats an optional int; "" when absent.
func optInt(n *int32) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(int(*n))
}

// optBytes formats an optional byte count; "" when absent.
func optBytes(n *uint64) string {
	if n == nil {
		return ""
	}
	return formatBytes(*n)
}

// optAge formats an optional age in milliseconds; "" when absent.
func optAge(ms *uint64) string {
	if ms == nil {
		return ""
	}
	return formatAge(*ms)
}
