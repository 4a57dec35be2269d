// Command agent is procagent's binary: `agent serve` runs the proc agent,
// `agent ctl` drives one over Connect RPC.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/procagent/procagent/internal/ctl"
	"github.com/procagent/procagent/runtime"
)

const usage = `usage: agent <command> [flags]

commands:
  serve    run the proc agent (Connect API, /metrics, /debug/pprof on one listener)
  ctl      call a running agent's RPCs (agent ctl help)
  version  print the version
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// exit ends the process: main's return and a forced exit on a second
// signal (serve.go) are the only ways out.
var exit = os.Exit

// run dispatches a subcommand and returns the process exit code; main is
// the only place that exits.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "ctl":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return ctl.Run(ctx, args[1:], stdout, stderr, os.Getenv)
	case runtime.ShimCommand: // hidden: the exec shim in front of each worker
		return runtime.RunShim(args[1:])
	case "version", "--version":
		fmt.Fprintln(stdout, version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "agent: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
