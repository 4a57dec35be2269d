package mesh

import (
	"fmt"
	"math"

	"github.com/procagent/procagent/internal/ranks"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// Status is an actor's lifecycle status as the agents report it on the
// wire; its values are ordered ("at least S" compares in this order).
type Status = procagentv1.Status

// ErrInvalidOverlay is an overlay whose runs are empty, out of order,
// overlapping, or adjacent and equal; or an agent's answer that is not
// the one run at the rank it was asked for.
var ErrInvalidOverlay = ranks.ErrInvalid

// Run is one run of an Overlay: the ranks [Start, End) have Status.
type Run = ranks.Run[Status]

// Overlay maps ranks to statuses as sorted, non-empty, non-overlapping
// runs, adjacent equal runs merged: the wire's StatusOverlay. Merge lays
// one over another, right wins; At reads a rank; Validate checks the
// form. The merge is the agent's own (internal/ranks), so a controller
// and an agent never disagree on it. Ranks in no run have no status: the
// overlay is sparse.
type Overlay = ranks.Overlay[Status]

// OverlayProto returns o as the wire's StatusOverlay.
func OverlayProto(o Overlay) *procagentv1.StatusOverlay {
	p := &procagentv1.StatusOverlay{Runs: make([]*procagentv1.StatusRun, len(o))}
	for i, r := range o {
		p.Runs[i] = &procagentv1.StatusRun{Start: r.Start, End: r.End, Status: r.Status}
	}
	return p
}

// OverlayFromProto converts the wire's StatusOverlay, which must be
// normalized (ErrInvalidOverlay otherwise).
func OverlayFromProto(p *procagentv1.StatusOverlay) (Overlay, error) {
	o := make(Overlay, len(p.GetRuns()))
	for i, r := range p.GetRuns() {
		o[i] = Run{Start: r.GetStart(), End: r.GetEnd(), Status: r.GetStatus()}
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// rankStatus reads an agent's answer to GetRankStatus or WaitRankStatus
// asked at rank: the one run [rank, rank+1), or no run for an id the
// agent does not know (NOT_EXIST). Anything else is ErrInvalidOverlay.
func rankStatus(p *procagentv1.StatusOverlay, rank uint64) (Status, error) {
	o, err := OverlayFromProto(p)
	if err != nil {
		return 0, err
	}
	switch {
	case len(o) == 0:
		return procagentv1.Status_STATUS_NOT_EXIST, nil
	case len(o) == 1 && o[0].Start == rank && o[0].End == rank+1:
		return o[0].Status, nil
	}
	return 0, fmt.Errorf("%w: asked for rank %d, the agent answered %v", ErrInvalidOverlay, rank, o)
}

// overlayOfRanks builds the overlay of one status per rank; ranks must be
// distinct and below the largest uint64.
func overlayOfRanks(ranks []RankResult) Overlay {
	o := make(Overlay, 0, len(ranks))
	for _, r := range ranks {
		if r.Rank == math.MaxUint64 {
			continue
		}
		o = append(o, Run{Start: r.Rank, End: r.Rank + 1, Status: r.Status})
	}
	return o.Normalize()
}
