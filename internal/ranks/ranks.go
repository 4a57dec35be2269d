// Package ranks holds the sparse map from ranks to statuses that both sides
// of a mesh keep: an agent answers its own rank as a one-run overlay
// (procagent.StatusOverlay), and a controller merges the answers of many
// agents into one (mesh.Overlay). One merge, over any status type, so the
// two can never disagree. Standard library only.
package ranks

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// ErrInvalid is an overlay whose runs are empty, out of order,
// overlapping, or adjacent and equal.
var ErrInvalid = errors.New("invalid status overlay")

// Run is one run of an Overlay: the ranks [Start, End) have Status.
type Run[S comparable] struct {
	Start, End uint64
	Status     S
}

// Overlay maps ranks to statuses as sorted, non-empty, non-overlapping
// runs, adjacent equal runs merged. Ranks in no run have no status: the
// overlay is sparse.
type Overlay[S comparable] []Run[S]

// Merge lays other over o, right wins, and returns the normalized result.
// Neither o nor other is changed.
func (o Overlay[S]) Merge(other Overlay[S]) Overlay[S] {
	var out Overlay[S]
	for _, r := range o {
		out = out.paint(r)
	}
	for _, r := range other {
		out = out.paint(r)
	}
	return out
}

// paint lays one run over a normalized overlay.
func (o Overlay[S]) paint(r Run[S]) Overlay[S] {
	if r.Start >= r.End {
		return o
	}
	out := make(Overlay[S], 0, len(o)+2)
	for _, x := range o {
		if x.End <= r.Start || x.Start >= r.End {
			out = append(out, x)
			continue
		}
		if x.Start < r.Start {
			out = append(out, Run[S]{x.Start, r.Start, x.Status})
		}
		if x.End > r.End {
			out = append(out, Run[S]{r.End, x.End, x.Status})
		}
	}
	out = append(out, r)
	return out.Normalize()
}

// Normalize sorts o's runs by start and merges adjacent equal runs, in
// place, and returns the result. The runs must not overlap.
func (o Overlay[S]) Normalize() Overlay[S] {
	slices.SortFunc(o, func(a, b Run[S]) int { return cmp.Compare(a.Start, b.Start) })
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
// non-overlapping runs with adjacent equal runs merged (ErrInvalid).
func (o Overlay[S]) Validate() error {
	for i, r := range o {
		if r.Start >= r.End {
			return fmt.Errorf("%w: run %d is empty: [%d, %d)", ErrInvalid, i, r.Start, r.End)
		}
		if i > 0 {
			p := o[i-1]
			if r.Start < p.End {
				return fmt.Errorf("%w: run %d overlaps or is out of order", ErrInvalid, i)
			}
			if r.Start == p.End && r.Status == p.Status {
				return fmt.Errorf("%w: runs %d and %d are adjacent and equal", ErrInvalid, i-1, i)
			}
		}
	}
	return nil
}

// At returns the status of rank, and false for a rank in no run. o must
// be normalized.
func (o Overlay[S]) At(rank uint64) (S, bool) {
	i, found := slices.BinarySearchFunc(o, rank, func(r Run[S], rank uint64) int {
		switch {
		case r.End <= rank:
			return -1
		case r.Start > rank:
			return 1
		}
		return 0
	})
	if !found {
		var zero S
		return zero, false
	}
	return o[i].Status, true
}
