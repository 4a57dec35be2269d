package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/procagent/procagent/bench/internal/exporters"
)

func runExporters(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peers exporters", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agent := fs.String("agent", "bin/agent", "the agent binary")
	nodeExp := fs.String("node-exporter", "prometheus-node-exporter", "node-exporter binary (on PATH or a path)")
	procExp := fs.String("process-exporter", "prometheus-process-exporter", "process-exporter binary (on PATH or a path)")
	python := fs.String("python", "python3", "the Python the workers run (on PATH or a path)")
	ns := fs.String("n", "10,100,1000", "worker counts, increasing")
	idle := fs.Duration("idle", 60*time.Second, "idle window per N")
	windows := fs.Int("windows", 6, "parts of the idle window (its median is reported)")
	reps := fs.Int("reps", 5, "interleaved repetitions of the scrape and republish measurements")
	scrapes := fs.Int("scrapes", 5, "scrapes of each exporter per repetition")
	seed := fs.Uint64("seed", 1, "seed of the order the exporters are scraped in")
	dir := fs.String("dir", "", "directory for logs and the process-exporter config (required)")
	out := fs.String("out", "", "file to write the results to (JSON; required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *dir == "" {
		return fmt.Errorf("-out and -dir are required")
	}
	var counts []int
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || (len(counts) > 0 && n <= counts[len(counts)-1]) {
			return fmt.Errorf("-n %q: want increasing positive counts", *ns)
		}
		counts = append(counts, n)
	}
	cfg := exporters.Config{
		Ns: counts, Idle: *idle, Windows: *windows, Reps: *reps, Scrapes: *scrapes, Seed: *seed, Dir: *dir,
		Log: func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) },
	}
	var err error
	for _, b := range []struct {
		dst  *string
		name string
	}{{&cfg.Agent, *agent}, {&cfg.NodeExporter, *nodeExp}, {&cfg.ProcessExporter, *procExp}, {&cfg.Python, *python}} {
		if *b.dst, err = exec.LookPath(b.name); err != nil {
			return fmt.Errorf("find %s: %w", b.name, err)
		}
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	start := time.Now()
	res, err := exporters.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.Seed, res.Reps, res.Scrapes, res.Windows = *seed, *reps, *scrapes, *windows
	res.IdleSeconds, res.Seconds = idle.Seconds(), time.Since(start).Seconds()
	res.WorkerCommand = "python3 -S -c 'import time; time.sleep(86400)' TOKEN"
	return writeJSON(*out, res)
}
