package procagent

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// StopAllResult is what StopAll reports.
type StopAllResult struct {
	// ExitCode is 1 if any actor failed by a supervision event, else 0.
	ExitCode int
	// Stopped lists the ids this call asked to stop.
	Stopped []string
}

// StopAll stops every actor and refuses new ones. Once all are terminal,
// telemetry is flushed (bounded by the flush timeout) and the exit code is
// delivered on Exit. StopAll itself returns when all are terminal, or when
// ctx is done (the stop carries on).
func (a *Agent) StopAll(ctx context.Context, reason string) (StopAllResult, error) {
	if reason == "" {
		reason = "stop all"
	}
	var res StopAllResult
	a.mu.Lock()
	if !a.stopping {
		a.stopping = true
		ids := slices.Sorted(maps.Keys(a.instances))
		live := 0
		for _, id := range ids {
			if inst := a.instances[id]; !inst.stopRequested && !inst.terminal() {
				live++
			}
		}
		a.observer.StoppingAll(reason, live)
		for _, id := range ids {
			inst := a.instances[id]
			if a.stopLocked(inst, reason) {
				res.Stopped = append(res.Stopped, id)
				a.transitionLocked(inst)
			}
		}
	}
	a.checkAllTerminalLocked()
	a.mu.Unlock()
	select {
	case <-a.terminal:
	case <-ctx.Done():
		return res, fmt.Errorf("stop all: %w", ctx.Err())
	}
	a.mu.Lock()
	res.ExitCode = a.exitCode
	a.mu.Unlock()
	return res, nil
}

// checkAllTerminalLocked finishes a StopAll once every actor is terminal:
// exit code, then a flush off the lock, then the code on Exit. The check is
// O(1): the counts by status are kept as transitions happen.
func (a *Agent) checkAllTerminalLocked() {
	if !a.stopping {
		return
	}
	select {
	case <-a.terminal:
		return // already finished
	default:
	}
	if a.liveLocked() > 0 {
		return
	}
	a.exitCode = a.exitCodeLocked()
	close(a.terminal)
	code := a.exitCode
	a.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), a.flushTimeout)
		defer cancel()
		if err := a.flusher.Flush(ctx); err != nil {
			a.log.Warn("telemetry flush after stop all", "err", err)
		}
		a.exit <- code
	})
}

// exitCodeLocked is 1 iff some actor failed by a supervision event (the
// failed_actor_count), else 0. A spawn that failed — unknown type, bad
// params, refused by a poisoned proc — never ran, and does not count.
func (a *Agent) exitCodeLocked() int {
	if len(a.failed) > 0 {
		return 1
	}
	return 0
}
