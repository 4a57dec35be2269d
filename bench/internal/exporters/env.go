package exporters

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// workerMemory is what one sleeping `python3 -S` costs the machine, with
// room to spare (about 8 MB resident, most of it shared).
const workerMemory = 12 << 20

// memoryNeed is the memory n more workers need, plus a reserve for the rest.
func memoryNeed(n int) int64 { return int64(max(n, 0))*workerMemory + 1<<30 }

// memAvailable returns MemAvailable from /proc/meminfo, 0 when unknown.
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// versions asks each binary for its version, first line only.
func versions(ctx context.Context, cfg Config) map[string]string {
	v := map[string]string{}
	for name, c := range map[string][]string{
		NodeExporter:    {cfg.NodeExporter, "--version"},
		ProcessExporter: {cfg.ProcessExporter, "-version"},
		Agent:           {cfg.Agent, "version"},
		"python":        {cfg.Python, "--version"},
	} {
		vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out, err := exec.CommandContext(vctx, c[0], c[1:]...).CombinedOutput() //nolint:gosec // G204: binaries resolved by the harness
		cancel()
		if err != nil && len(out) == 0 {
			continue
		}
		line, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
		v[name] = string(line)
	}
	return v
}
