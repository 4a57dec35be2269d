package mesh

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

func TestOverlayValidateAndProto(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Overlay
		ok   bool
	}{
		{"valid", Overlay{{Start: 0, End: 1, Status: running}, {Start: 2, End: 3, Status: running}}, true},
		{"empty run", Overlay{{Start: 1, End: 1, Status: running}}, false},
		{"overlap", Overlay{{Start: 0, End: 2, Status: running}, {Start: 1, End: 3, Status: failed}}, false},
		{"unsorted", Overlay{{Start: 2, End: 3, Status: running}, {Start: 0, End: 1, Status: failed}}, false},
		{"adjacent equal", Overlay{{Start: 0, End: 1, Status: running}, {Start: 1, End: 2, Status: running}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.o.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidOverlay)) {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
			back, err := OverlayFromProto(OverlayProto(tc.o))
			if (err == nil) != tc.ok {
				t.Fatalf("OverlayFromProto(Proto) = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && !cmp.Equal(tc.o, back) {
				t.Errorf("round trip = %v, want %v", back, tc.o)
			}
		})
	}
}

// An agent's answer is the one run at the rank asked, or none.
func TestRankStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Overlay
		want procagentv1.Status
		ok   bool
	}{
		{"the rank", Overlay{{Start: 7, End: 8, Status: running}}, running, true},
		{"unknown id", nil, notExist, true},
		{"another rank", Overlay{{Start: 6, End: 7, Status: running}}, 0, false},
		{"a wider run", Overlay{{Start: 7, End: 9, Status: running}}, 0, false},
		{"two runs", Overlay{{Start: 7, End: 8, Status: running}, {Start: 9, End: 10, Status: failed}}, 0, false},
		{"invalid", Overlay{{Start: 8, End: 7, Status: running}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rankStatus(OverlayProto(tc.o), 7)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("rankStatus = %v, %v; want %v, ok=%v", got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidOverlay) {
				t.Errorf("error %v is not ErrInvalidOverlay", err)
			}
		})
	}
}

func TestReached(t *testing.T) {
	for _, tc := range []struct {
		s, min procagentv1.Status
		want   bool
	}{
		{running, running, true},
		{stopping, running, true},
		{initializing, running, false},
		{notExist, running, false},
		{failed, running, false},
		{timeout, running, false},
		{unknown, running, false},
		{stopped, stopped, true},
		{failed, stopped, false},
		{failed, failed, true},
		{unknown, failed, false},
		{timeout, timeout, true},
		{notExist, notExist, true},
	} {
		if got := Reached(tc.s, tc.min); got != tc.want {
			t.Errorf("Reached(%v, %v) = %v, want %v", tc.s, tc.min, got, tc.want)
		}
	}
}

func TestSpans(t *testing.T) {
	r := newResult([]RankResult{
		{Rank: 3, Status: failed, Reason: "exit status 3"},
		{Rank: 0, Status: running}, {Rank: 1, Status: running}, {Rank: 2, Status: running},
		{Rank: 4, Status: failed, Reason: "exit status 3"},
		{Rank: 5, Status: failed, Reason: "exit status 1"},
		{Rank: 7, Status: running},
	})
	want := []Span{
		{0, 2, running, ""},
		{3, 4, failed, "exit status 3"},
		{5, 5, failed, "exit status 1"},
		{7, 7, running, ""},
	}
	if diff := cmp.Diff(want, r.Spans()); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Overlay{{Start: 0, End: 3, Status: running}, {Start: 3, End: 6, Status: failed}, {Start: 7, End: 8, Status: running}}, r.Overlay); diff != "" {
		t.Errorf("overlay (-want +got):\n%s", diff)
	}
	if st, ok := r.Overlay.At(4); !ok || st != failed {
		t.Errorf("At(4) = %v, %v", st, ok)
	}
	if _, ok := r.Overlay.At(6); ok {
		t.Error("At(6): a rank in no run has a status")
	}
	if diff := cmp.Diff(map[procagentv1.Status]int{running: 4, failed: 3}, r.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
