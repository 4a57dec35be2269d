package procagent

import (
	"slices"
	"time"

	"github.com/procagent/procagent/runtime"
)

// State is what the agent reports about one resource (docs/semantics.md).
type State struct {
	ID            string
	Status        runtime.Status
	FailureReason string
	// Actor is nil for an id the agent does not know (NOT_EXIST).
	Actor      *ActorState
	Generation uint64
	Timestamp  time.Time
}

// ActorState describes the actor behind a resource.
type ActorState struct {
	Type       string
	Pid        int
	CreateRank uint64
	// Events holds the actor's supervision event once it has ended.
	Events []runtime.SupervisionEvent
}

// Spec is what to create: a registered actor type and its JSON params.
type Spec struct {
	ActorType string
	Params    []byte
}

// StatusRun is one run of a StatusOverlay: ranks [Start, End) have Status.
type StatusRun struct {
	Start, End uint64
	Status     runtime.Status
}

// StatusOverlay is a sorted list of non-overlapping, non-empty runs with
// adjacent equal runs merged.
type StatusOverlay []StatusRun

// Merge lays other over o, right wins, and returns the normalized result.
func (o StatusOverlay) Merge(other StatusOverlay) StatusOverlay {
	var out StatusOverlay
	for _, r := range o {
		out = out.paint(r)
	}
	for _, r := range other {
		out = out.paint(r)
	}
	return out
}

// paint lays one run over a normalized overlay.
func (o StatusOverlay) paint(r StatusRun) StatusOverlay {
	if r.Start >= r.End {
		return o
	}
	out := make(StatusOverlay, 0, len(o)+2)
	for _, x := range o {
		if x.End <= r.Start || x.Start >= r.End {
			out = append(out, x)
			continue
		}
		if x.Start < r.Start {
			out = append(out, StatusRun{x.Start, r.Start, x.Status})
		}
		if x.End > r.End {
			out = append(out, StatusRun{r.End, x.End, x.Status})
		}
	}
	out = append(out, r)
	return out.normalize()
}

// normalize sorts runs by start and merges adjacent equal runs.
func (o StatusOverlay) normalize() StatusOverlay {
	sortRuns(o)
	out := o[:0]
	for _, r := range o {
		if n := len(out); n > 0 && out[n-1].End == r.Start && out[n-1].Status == r.Status {
			out[n-1].End = r.End
			continue
		}
		out = append(out, r)
	}
	return out
}

// Validate reports whether o is normalized: sorted, non-empty,
// non-overlapping runs with adjacent equal runs merged.
func (o StatusOverlay) Validate() error {
	for i, r := range o {
		if r.Start >= r.End {
			return fmtErr(ErrInvalidOverlay, "run %d is empty: [%d, %d)", i, r.Start, r.End)
		}
		if i > 0 {
			p := o[i-1]
			if r.Start < p.End {
				return fmtErr(ErrInvalidOverlay, "run %d overlaps or is out of order", i)
			}
			if r.Start == p.End && r.Status == p.Status {
				return fmtErr(ErrInvalidOverlay, "runs %d and %d are adjacent and equal", i-1, i)
			}
		}
	}
	return nil
}

// sortRuns orders runs by start.
func sortRuns(o StatusOverlay) {
	slices.SortFunc(o, func(a, b StatusRun) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
}
