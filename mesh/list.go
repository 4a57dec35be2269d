package mesh

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"connectrpc.com/connect"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// ListResult is the outcome of List: every actor id some rank knows, with
// its status at every rank, and the ranks that did not answer.
type ListResult struct {
	// Actors are the ids known to some rank, sorted by id.
	Actors []ListedActor
	// Ranks holds one outcome per target, by rank: STATUS_UNSPECIFIED
	// for a rank that answered, TIMEOUT or UNKNOWN (with the reason) for
	// one that did not.
	Ranks []RankResult
}

// ListedActor is one actor id across the mesh.
type ListedActor struct {
	ID string
	// Types are the actor types the ranks created it as, sorted; one for
	// a mesh created by one cast.
	Types []string
	// Overlay holds the id's status at every rank: NOT_EXIST at a rank
	// that answered without it, the rank's TIMEOUT or UNKNOWN at one that
	// did not answer.
	Overlay Overlay
}

// Unanswered returns the ranks that did not answer.
func (l *ListResult) Unanswered() []RankResult {
	var out []RankResult
	for _, rr := range l.Ranks {
		if !rr.Answered() {
			out = append(out, rr)
		}
	}
	return out
}

// List casts List to every rank and gathers the answers by actor id.
func (f *Fleet) List(ctx context.Context) *ListResult {
	lists := make([][]*procagentv1.ListEntry, len(f.targets)) // each index written by one call
	res := f.Cast(ctx, func(ctx context.Context, t Target, c procagentv1connect.ProcAgentServiceClient) (Answer, error) {
		r, err := c.List(ctx, connect.NewRequest(&procagentv1.ListRequest{}))
		if err != nil {
			return Answer{}, err
		}
		lists[f.index(t.Rank)] = r.Msg.GetActors()
		return Answer{}, nil
	})
	type acc struct {
		types map[string]struct{}
		ranks map[uint64]Status
	}
	byID := map[string]*acc{}
	for i, entries := range lists {
		for _, e := range entries {
			a := byID[e.GetId()]
			if a == nil {
				a = &acc{types: map[string]struct{}{}, ranks: map[uint64]Status{}}
				byID[e.GetId()] = a
			}
			a.types[e.GetActorType()] = struct{}{}
			a.ranks[f.targets[i].Rank] = e.GetStatus()
		}
	}
	out := &ListResult{Ranks: res.Ranks}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		a := byID[id]
		per := make([]RankResult, len(res.Ranks))
		for i, rr := range res.Ranks {
			per[i] = RankResult{Rank: rr.Rank, Status: rr.Status}
			if rr.Answered() {
				s, ok := a.ranks[rr.Rank]
				if !ok {
					s = procagentv1.Status_STATUS_NOT_EXIST
				}
				per[i].Status = s
			}
		}
		out.Actors = append(out.Actors, ListedActor{ID: id, Types: slices.Sorted(maps.Keys(a.types)), Overlay: overlayOfRanks(per)})
	}
	return out
}

// index is the index of the target of rank in f.targets.
func (f *Fleet) index(rank uint64) int {
	i, _ := slices.BinarySearchFunc(f.targets, rank, func(t Target, rank uint64) int { return cmp.Compare(t.Rank, rank) })
	return i
}
