package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/procagent/procagent/bench/internal/report"
)

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peers report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rtPath := fs.String("runtimes", "", "results of `peers runtimes` (required)")
	exPath := fs.String("exporters", "", "results of `peers exporters` (required)")
	pairedPath := fs.String("paired", "", "output of the runtime's paired G1/G2 benchmarks (optional)")
	md := fs.String("md", "BENCHMARKS.md", "Markdown file to write")
	charts := fs.String("charts", "bench/charts", "directory for the PNG charts")
	command := fs.String("command", "make bench-peers", "the command that reproduces the run")
	detail := fs.String("detail", "", "file listing the commands the run made, one a line (optional)")
	wall := fs.Float64("wall", 0, "seconds the whole run took (0: unknown)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rtPath == "" || *exPath == "" {
		return errors.New("-runtimes and -exporters are required")
	}
	in := report.Input{Command: *command, WallSeconds: *wall, Date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if err := readJSON(*rtPath, &in.Runtimes); err != nil {
		return err
	}
	if err := readJSON(*exPath, &in.Exporters); err != nil {
		return err
	}
	if *pairedPath != "" {
		f, err := os.Open(*pairedPath)
		if err != nil {
			return err
		}
		in.Paired = report.ParsePaired(f)
		_ = f.Close()
	}
	if *detail != "" {
		lines, err := readLines(*detail)
		if err != nil {
			return err
		}
		in.Detail = lines
	}
	in.Machine = machine()
	if err := os.MkdirAll(*charts, 0o750); err != nil {
		return err
	}
	rtChart := filepath.Join(*charts, "runtimes.png")
	exChart := filepath.Join(*charts, "exporters.png")
	if err := report.RuntimeChart(report.SummarizeRuntimes(in.Runtimes.Series), rtChart); err != nil {
		return fmt.Errorf("runtime chart: %w", err)
	}
	if err := report.ExporterChart(report.SummarizeExporters(in.Exporters.Points),
		[]string{"procagent", "node-exporter", "process-exporter"}, exChart); err != nil {
		return fmt.Errorf("exporter chart: %w", err)
	}
	base := filepath.Dir(*md)
	var err error
	if in.RuntimeChart, err = filepath.Rel(base, rtChart); err != nil {
		return err
	}
	if in.ExporterChart, err = filepath.Rel(base, exChart); err != nil {
		return err
	}
	f, err := os.Create(*md)
	if err != nil {
		return err
	}
	if err := report.Write(f, in); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s, %s and %s\n", *md, rtChart, exChart)
	return nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path) //nolint:gosec // G304: a path from the command line
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, s.Err()
}

// machine describes this machine in a few lines.
func machine() []string {
	out := []string{}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		out = append(out, fmt.Sprintf("CPU: %s, %d cores", v, goruntime.NumCPU()))
	} else {
		out = append(out, fmt.Sprintf("CPU: %d cores", goruntime.NumCPU()))
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb int64
		if _, err := fmt.Sscanf(v, "%d", &kb); err == nil {
			out = append(out, fmt.Sprintf("memory: %.1f GiB", float64(kb)/(1<<20)))
		}
	}
	osName := ""
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		osName = "Debian " + strings.TrimSpace(string(b)) + ", "
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		out = append(out, fmt.Sprintf("OS: %sLinux %s (%s/%s)", osName, strings.TrimSpace(string(b)), goruntime.GOOS, goruntime.GOARCH))
	}
	out = append(out, "Go: "+goruntime.Version())
	return out
}

// procField returns the value of the first "key: value" line of path.
func procField(path, key string) string {
	f, err := os.Open(path) //nolint:gosec // G304: a /proc file named by the caller
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
