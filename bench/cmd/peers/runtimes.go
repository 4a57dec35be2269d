package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"time"

	"github.com/procagent/procagent/bench/internal/results"
	"github.com/procagent/procagent/bench/internal/runtimes"
)

func runRuntimes(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("peers runtimes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reps := fs.Int("reps", 7, "interleaved repetitions of every workload on every runtime")
	seed := fs.Uint64("seed", 1, "seed of the order the runtimes run in")
	scale := fs.Float64("scale", 1, "scale of the message counts (1 = default sizes)")
	out := fs.String("out", "", "file to write the results to (JSON; required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *reps < 1 {
		return fmt.Errorf("-out is required and -reps must be at least 1")
	}
	hw, err := runtimes.NewHollywood()
	if err != nil {
		return err
	}
	pa := runtimes.NewProtoactor()
	contenders := []runtimes.Contender{runtimes.GoBaseline{}, runtimes.Procagent{}, hw, pa}
	defer func() {
		for _, c := range contenders {
			c.Close()
		}
	}()
	start := time.Now()
	series, err := runtimes.Run(contenders, runtimes.Workloads(*scale), runtimes.Options{
		Reps: *reps, Seed: *seed,
		Log: func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) },
	})
	if err != nil {
		return err
	}
	res := results.Runtimes{
		Seed: *seed, Reps: *reps, Scale: *scale, GoVersion: goruntime.Version(),
		Versions: moduleVersions(), Seconds: time.Since(start).Seconds(), Series: series,
	}
	return writeJSON(*out, res)
}

// moduleVersions returns the versions of the peer modules built in.
func moduleVersions() map[string]string {
	v := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/anthdm/hollywood", "github.com/asynkron/protoactor-go", "gonum.org/v1/plot":
			v[d.Path] = d.Version
		}
	}
	return v
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path) //nolint:gosec // G304: a path from the command line
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
