package ctl

import (
	"strings"
	"testing"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

func TestFormatHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, want string
	}{
		{"bytes small", formatBytes(512), "512 B"},
		{"bytes KiB", formatBytes(2048), "2048 (2.0 KiB)"},
		{"bytes MiB", formatBytes(15552512), "15552512 (14.8 MiB)"},
		{"age ms", formatAge(13), "13ms"},
		{"age s", formatAge(1500), "1.5s"},
		{"cell empty", cell(""), "-"},
		{"cell multiline", cell("a\tb\nc"), "a b c"},
		{"status", statusName(procagentv1.Status_STATUS_NOT_EXIST), "NOT_EXIST"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// parseTable parses table output: one map per row, keyed by the header.
// Cells must not contain spaces.
func parseTable(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	header := strings.Fields(lines[0])
	var rows []map[string]string
	for _, l := range lines[1:] {
		cells := strings.Fields(l)
		if len(cells) != len(header) {
			t.Fatalf("row %q has %d cells, header %q has %d", l, len(cells), lines[0], len(header))
		}
		row := make(map[string]string, len(cells))
		for i, c := range cells {
			row[header[i]] = c
		}
		rows = append(rows, row)
	}
	return rows
}

// parseKV parses a key/value listing: the first word of each line is the key.
func parseKV(out string) map[string]string {
	kv := make(map[string]string)
	for l := range strings.Lines(out) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		kv[k] = strings.TrimSpace(v)
	}
	return kv
}
