// Command gen writes procagent's Grafana dashboards into dashboards/grafana, built by
// internal/dashgen from the names table (telemetry/names.go). `make dashboards` runs it from
// the module root; TestDashboardsUpToDate fails when the committed files differ from what it
// writes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/procagent/procagent/internal/dashgen"
)

func main() {
	root := flag.String("root", ".", "the module root (where go.mod is)")
	out := flag.String("out", dashgen.Dir, "the directory the dashboards are written to")
	flag.Parse()
	if err := dashgen.WriteAll(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
