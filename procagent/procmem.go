package procagent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// MemoryReader reads the resident and virtual size of the agent's process.
// ok is false when they cannot be read: they are then absent, never
// invented.
type MemoryReader interface {
	ReadMemory() (rss, vm uint64, ok bool)
}

// StatmReader reads /proc/<pid>/statm under Root ("/proc" in production,
// a testdata directory in tests).
type StatmReader struct {
	Root string
	Pid  string // "self" or a pid
}

// SelfMemory reads the agent's own /proc/self/statm.
func SelfMemory() StatmReader { return StatmReader{Root: "/proc", Pid: "self"} }

// ReadMemory implements MemoryReader.
func (s StatmReader) ReadMemory() (rss, vm uint64, ok bool) {
	b, err := os.ReadFile(filepath.Join(s.Root, s.Pid, "statm"))
	if err != nil {
		return 0, 0, false
	}
	rss, vm, err = parseStatm(b, uint64(os.Getpagesize())) //nolint:gosec // a page size is positive
	return rss, vm, err == nil
}

// parseStatm parses statm ("size resident shared text lib data dt", in
// pages) into resident and virtual bytes.
func parseStatm(b []byte, pageSize uint64) (rss, vm uint64, err error) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("statm: want at least 2 fields, got %d", len(f))
	}
	size, err := strconv.ParseUint(string(f[0]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("statm size: %w", err)
	}
	res, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("statm resident: %w", err)
	}
	return res * pageSize, size * pageSize, nil
}
