// Command peers measures procagent against what a user would pick instead,
// side by side in one run, and writes the report:
//
//	peers runtimes  [flags]   G1–G5 on procagent's runtime, hollywood, protoactor-go and raw Go
//	peers exporters [flags]   the agent, node-exporter and process-exporter watching N workers
//	peers report    [flags]   BENCHMARKS.md and its charts from the two result files
//
// `make bench-peers` (scripts/bench-peers.sh) runs all three. Run the
// runtimes with GOLANG_PROTOBUF_REGISTRATION_CONFLICT=warn: both peers
// register actor.proto.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: peers {runtimes|exporters|report} [flags]")
		return 2
	}
	var err error
	switch args[0] {
	case "runtimes":
		err = runRuntimes(args[1:], stdout, stderr)
	case "exporters":
		err = runExporters(ctx, args[1:], stdout, stderr)
	case "report":
		err = runReport(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "peers: unknown command %q\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "peers %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
