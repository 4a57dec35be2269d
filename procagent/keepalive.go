package procagent

import (
	"context"
	"time"
)

// KeepaliveGetState is GetState, and the actor now expires ttl after this
// call on the monotonic clock (the orphan timeout when ttl is 0). An
// expired actor is stopped by the sweep with reason "orphaned".
func (a *Agent) KeepaliveGetState(id string, ttl time.Duration) (State, error) {
	if err := ValidateID(id); err != nil {
		return State{}, err
	}
	if ttl < 0 {
		return State{}, fmtErr(ErrInvalidArgument, "ttl must not be negative, got %v", ttl)
	}
	if ttl == 0 {
		ttl = a.orphanTimeout
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	inst := a.instances[id]
	if inst == nil {
		return notExist(id), nil
	}
	if ttl > 0 {
		inst.expiry = time.Now().Add(ttl) // keeps the monotonic reading
	}
	return inst.state(), nil
}

// sweepLoop stops orphans every period until ctx is cancelled.
func (a *Agent) sweepLoop(ctx context.Context, period time.Duration) {
	t := time.NewTicker(max(period, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.sweep(time.Now())
		}
	}
}

// sweep stops every actor that had a keepalive and whose expiry passed.
func (a *Agent) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, inst := range a.instances {
		if inst.expiry.IsZero() || !now.After(inst.expiry) || inst.stopRequested || inst.terminal() {
			continue
		}
		a.log.Info("stopping orphan", "actor", inst.id)
		a.observer.Orphaned(inst.id)
		a.stopLocked(inst, "orphaned")
		a.transitionLocked(inst)
	}
}
