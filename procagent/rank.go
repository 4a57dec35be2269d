package procagent

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/procagent/procagent/runtime"
)

// waiter is one pending WaitRankStatus: it gets the first state whose
// status is at least min.
type waiter struct {
	min runtime.Status
	ch  chan State // buffered 1
}

// GetRankStatus returns id's status as one run [rank, rank+1); an unknown
// id gives an empty overlay.
func (a *Agent) GetRankStatus(id string, rank uint64) (StatusOverlay, error) {
	if err := errors.Join(ValidateID(id), validateRank(rank)); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	inst := a.instances[id]
	if inst == nil {
		return StatusOverlay{}, nil
	}
	return rankRun(rank, inst.status()), nil
}

// WaitRankStatus returns id's status at rank once it is at least minStatus,
// at once if it already is, or once it is terminated even below minStatus
// (a terminated resource never changes again); an unknown id gives an
// empty overlay at once. It honours ctx's deadline.
func (a *Agent) WaitRankStatus(ctx context.Context, id string, rank uint64, minStatus runtime.Status) (StatusOverlay, error) {
	if err := errors.Join(ValidateID(id), validateRank(rank)); err != nil {
		return nil, err
	}
	if minStatus < runtime.StatusNotExist || minStatus > runtime.StatusUnknown {
		return nil, fmtErr(ErrInvalidArgument, "min_status %d is not a status", int(minStatus))
	}
	a.mu.Lock()
	inst := a.instances[id]
	if inst == nil {
		a.mu.Unlock()
		return StatusOverlay{}, nil
	}
	if s := inst.status(); s.AtLeast(minStatus) || s.IsTerminated() {
		// A terminated resource never changes again: waiting for a status
		// it did not reach (FAILED of one that STOPPED) could only time out.
		a.mu.Unlock()
		return rankRun(rank, s), nil
	}
	w := &waiter{min: minStatus, ch: make(chan State, 1)}
	if inst.waiters == nil {
		inst.waiters = make(map[*waiter]struct{})
	}
	inst.waiters[w] = struct{}{}
	a.mu.Unlock()
	select {
	case st := <-w.ch:
		return rankRun(rank, st.Status), nil
	case <-ctx.Done():
		a.mu.Lock()
		delete(inst.waiters, w)
		a.mu.Unlock()
		return nil, fmt.Errorf("wait for %q to reach %v: %w", id, minStatus, ctx.Err())
	}
}

func rankRun(rank uint64, s runtime.Status) StatusOverlay {
	return StatusOverlay{{Start: rank, End: rank + 1, Status: s}}
}

// validateRank refuses the one rank whose run [rank, rank+1) cannot exist.
func validateRank(rank uint64) error {
	if rank == math.MaxUint64 {
		return fmtErr(ErrInvalidArgument, "rank %d is out of range", rank)
	}
	return nil
}
