package procagent

import (
	"os"

	"github.com/procagent/procagent/internal/osproc"
)

// MemoryReader reads the resident and virtual size of the agent's process.
// ok is false when they cannot be read: they are then absent, never
// invented.
type MemoryReader interface {
	ReadMemory() (rss, vm uint64, ok bool)
}

// SelfMemory returns the MemoryReader New uses by default: it reads the
// agent's own statm under osproc.DefaultRoot on every call
// (osproc.ReadStatm). cmd/agent gives the agent telemetry's reader instead,
// so that QueryChild reports the sample the memory gauges do.
func SelfMemory() MemoryReader { return selfStatm{root: osproc.DefaultRoot} }

// selfStatm reads the agent's statm under root once per call.
type selfStatm struct{ root string }

// ReadMemory implements MemoryReader.
func (s selfStatm) ReadMemory() (rss, vm uint64, ok bool) {
	rss, vm, err := osproc.ReadStatm(s.root, os.Getpid())
	return rss, vm, err == nil
}
