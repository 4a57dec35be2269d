package mesh

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkMeshCreateWait is `agent ctl mesh create` then `mesh wait --min
// RUNNING` across N real in-process agents, each on its own loopback h2c
// listener: per op, a fresh fleet (as a new command has) creates a new
// echo actor on every rank and waits until every rank runs it. The agents
// are started before the timer. `make bench-fleet` runs it.
func BenchmarkMeshCreateWait(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			// A listener, the agent's end and the fleet's end of a
			// connection per agent, and room for the rest.
			raiseNoFile(b, uint64(4*n+256))
			agents := startAgents(b, n, nil)
			targets := fleetTargets(agents)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("w%d", i)
				if err := createWait(b.Context(), targets, id); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ranks/s")
		})
	}
}

// createWait is one `mesh create` and one `mesh wait --min RUNNING`, each
// with its own fleet, as two commands run them.
func createWait(ctx context.Context, targets []Target, id string) error {
	f, err := New(targets)
	if err != nil {
		return err
	}
	res := f.Create(ctx, id, echoSpec)
	f.Close()
	if below := res.Below(initializing); len(below) > 0 {
		return fmt.Errorf("create: %d ranks did not create, first %+v", len(below), below[0])
	}
	f, err = New(targets)
	if err != nil {
		return err
	}
	defer f.Close()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err = f.Wait(wctx, id, running)
	if err != nil {
		return err
	}
	if below := res.Below(running); len(below) > 0 {
		return fmt.Errorf("wait: %d ranks below RUNNING, first %+v", len(below), below[0])
	}
	return nil
}

// raiseNoFile raises the soft limit of open files to at least want, up to
// the hard limit; the benchmark is skipped when the hard limit is lower.
func raiseNoFile(b *testing.B, want uint64) {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur >= want {
		return
	}
	if lim.Max < want {
		b.Skipf("RLIMIT_NOFILE hard limit %d is below the %d descriptors this size needs", lim.Max, want)
	}
	old := lim
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}
