package mesh_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/procagent/procagent/mesh"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// A Go program that drives a fleet: the inventory Prometheus scrapes, an
// echo actor on every rank, then a wait until every rank runs it. Ranks
// that are down or slow come back as UNKNOWN or TIMEOUT, never as an error.
func ExampleFleet() {
	ctx := context.Background()
	targets, err := mesh.LoadTargets(ctx, "dashboards/prometheus/targets/agents.yml", nil)
	if err != nil {
		log.Fatal(err)
	}
	fleet, err := mesh.New(targets, mesh.WithToken("…"), mesh.WithRankTimeout(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer fleet.Close()

	fleet.Create(ctx, "w1", &procagentv1.ActorSpec{ActorType: "echo"})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Wait fails only for a minimum status that is not one.
	res, _ := fleet.Wait(wctx, "w1", procagentv1.Status_STATUS_RUNNING)
	for _, s := range res.Spans() {
		fmt.Println(s.First, s.Last, s.Status, s.Reason)
	}
	for _, r := range res.Below(procagentv1.Status_STATUS_RUNNING) {
		fmt.Printf("rank %d (%s): %v %s\n", r.Rank, r.Addr, r.Status, r.Reason)
	}
}
