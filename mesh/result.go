package mesh

import (
	"cmp"
	"slices"
	"strings"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// Result is a cast's outcome: every rank's status merged into one
// overlay, and each rank's detail.
type Result struct {
	// Overlay holds every rank's status, as the controller merged the
	// ranks' one-run answers.
	Overlay Overlay
	// Ranks holds one outcome per target, by rank.
	Ranks []RankResult
}

// newResult sorts ranks by rank and merges their statuses.
func newResult(ranks []RankResult) *Result {
	slices.SortFunc(ranks, func(a, b RankResult) int { return cmp.Compare(a.Rank, b.Rank) })
	return &Result{Overlay: overlayOfRanks(ranks), Ranks: ranks}
}

// Reached reports whether a rank at status s has reached minStatus: s is
// at least minStatus in the status order, and a failure (FAILED, TIMEOUT,
// UNKNOWN) counts only when it is minStatus itself. A rank RUNNING has
// reached NOT_EXIST, INITIALIZING and RUNNING; a rank FAILED has reached
// FAILED only.
func Reached(s, minStatus Status) bool {
	if isFailure(s) {
		return s == minStatus
	}
	return s >= minStatus
}

// isFailure reports whether s says the rank failed or is not known.
func isFailure(s Status) bool {
	switch s {
	case procagentv1.Status_STATUS_FAILED, procagentv1.Status_STATUS_TIMEOUT, procagentv1.Status_STATUS_UNKNOWN:
		return true
	}
	return false
}

// Below returns the ranks that have not reached minStatus (Reached).
func (r *Result) Below(minStatus Status) []RankResult {
	var out []RankResult
	for _, rr := range r.Ranks {
		if !Reached(rr.Status, minStatus) {
			out = append(out, rr)
		}
	}
	return out
}

// Counts counts the ranks by status.
func (r *Result) Counts() map[Status]int {
	out := make(map[Status]int)
	for _, rr := range r.Ranks {
		out[rr.Status]++
	}
	return out
}

// Span is a run of consecutive ranks with one status and one reason, as
// people read a mesh: "0–997 RUNNING · 998 FAILED: exit status 3".
type Span struct {
	First, Last uint64 // inclusive
	Status      Status
	Reason      string
}

// Spans groups the ranks into runs of consecutive ranks with equal status
// and reason. Unlike Overlay, which keeps statuses only, a span splits
// where the reason changes.
func (r *Result) Spans() []Span {
	var out []Span
	for _, rr := range r.Ranks {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.Last+1 == rr.Rank && last.Status == rr.Status && last.Reason == rr.Reason {
				last.Last = rr.Rank
				continue
			}
		}
		out = append(out, Span{First: rr.Rank, Last: rr.Rank, Status: rr.Status, Reason: rr.Reason})
	}
	return out
}

// rankIndex is the index of rank in ranks, which are sorted by rank and
// hold it.
func rankIndex(ranks []RankResult, rank uint64) int {
	i, _ := slices.BinarySearchFunc(ranks, rank, func(r RankResult, rank uint64) int { return cmp.Compare(r.Rank, rank) })
	return i
}

// statusName names a status without its STATUS_ prefix: "RUNNING".
func statusName(s Status) string {
	return strings.TrimPrefix(s.String(), "STATUS_")
}
