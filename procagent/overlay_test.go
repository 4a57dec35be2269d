package procagent

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/runtime"
)

func TestOverlayMerge(t *testing.T) {
	const (
		run  = runtime.StatusRunning
		stop = runtime.StatusStopped
		fail = runtime.StatusFailed
	)
	tests := []struct {
		name        string
		left, right StatusOverlay
		want        StatusOverlay
	}{
		{"empty", nil, nil, nil},
		{"disjoint sorted", StatusOverlay{{4, 5, run}}, StatusOverlay{{0, 2, stop}}, StatusOverlay{{0, 2, stop}, {4, 5, run}}},
		{"right wins", StatusOverlay{{0, 10, run}}, StatusOverlay{{3, 5, fail}}, StatusOverlay{{0, 3, run}, {3, 5, fail}, {5, 10, run}}},
		{"adjacent equal merged", StatusOverlay{{0, 2, run}}, StatusOverlay{{2, 4, run}}, StatusOverlay{{0, 4, run}}},
		{"cover all", StatusOverlay{{0, 2, run}, {2, 4, stop}}, StatusOverlay{{0, 4, fail}}, StatusOverlay{{0, 4, fail}}},
		{"empty run ignored", StatusOverlay{{0, 2, run}}, StatusOverlay{{1, 1, fail}}, StatusOverlay{{0, 2, run}}},
		{"heal a hole", StatusOverlay{{0, 1, run}, {1, 2, fail}, {2, 3, run}}, StatusOverlay{{1, 2, run}}, StatusOverlay{{0, 3, run}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.left.Merge(tt.right)
			if diff := cmp.Diff(tt.want, got); diff != "" && (len(tt.want) != 0 || len(got) != 0) {
				t.Fatalf("Merge (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("merged overlay invalid: %v", err)
			}
		})
	}
}

func TestOverlayValidate(t *testing.T) {
	run := runtime.StatusRunning
	tests := []struct {
		name string
		o    StatusOverlay
		ok   bool
	}{
		{"valid", StatusOverlay{{0, 1, run}, {2, 3, run}}, true},
		{"empty run", StatusOverlay{{1, 1, run}}, false},
		{"overlap", StatusOverlay{{0, 2, run}, {1, 3, runtime.StatusFailed}}, false},
		{"unsorted", StatusOverlay{{2, 3, run}, {0, 1, runtime.StatusFailed}}, false},
		{"adjacent equal", StatusOverlay{{0, 1, run}, {1, 2, run}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidOverlay)) {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestSelfMemory(t *testing.T) {
	if _, _, ok := (selfStatm{root: "testdata/nonexistent"}).ReadMemory(); ok {
		t.Error("an unreadable statm must be absent, not invented")
	}
	if rss, vm, ok := SelfMemory().ReadMemory(); !ok || rss == 0 || vm < rss {
		t.Errorf("own statm: rss %d vm %d ok %v", rss, vm, ok)
	}
}
