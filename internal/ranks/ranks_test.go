package ranks

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// status stands for any status type: the overlay only compares them.
type status uint8

const (
	run status = iota + 1
	stop
	fail
	numStatuses
)

func TestMerge(t *testing.T) {
	type o = Overlay[status]
	tests := []struct {
		name        string
		left, right o
		want        o
	}{
		{"empty", nil, nil, nil},
		{"disjoint sorted", o{{4, 5, run}}, o{{0, 2, stop}}, o{{0, 2, stop}, {4, 5, run}}},
		{"right wins", o{{0, 10, run}}, o{{3, 5, fail}}, o{{0, 3, run}, {3, 5, fail}, {5, 10, run}}},
		{"adjacent equal merged", o{{0, 2, run}}, o{{2, 4, run}}, o{{0, 4, run}}},
		{"cover all", o{{0, 2, run}, {2, 4, stop}}, o{{0, 4, fail}}, o{{0, 4, fail}}},
		{"empty run ignored", o{{0, 2, run}}, o{{1, 1, fail}}, o{{0, 2, run}}},
		{"heal a hole", o{{0, 1, run}, {1, 2, fail}, {2, 3, run}}, o{{1, 2, run}}, o{{0, 3, run}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			left := append(o(nil), tt.left...)
			got := tt.left.Merge(tt.right)
			if diff := cmp.Diff(tt.want, got); diff != "" && (len(tt.want) != 0 || len(got) != 0) {
				t.Fatalf("Merge (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("merged overlay invalid: %v", err)
			}
			if diff := cmp.Diff(left, tt.left); diff != "" {
				t.Fatalf("Merge changed its receiver (-before +after):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	type o = Overlay[status]
	tests := []struct {
		name string
		o    o
		ok   bool
	}{
		{"valid", o{{0, 1, run}, {2, 3, run}}, true},
		{"empty run", o{{1, 1, run}}, false},
		{"overlap", o{{0, 2, run}, {1, 3, fail}}, false},
		{"unsorted", o{{2, 3, run}, {0, 1, fail}}, false},
		{"adjacent equal", o{{0, 1, run}, {1, 2, run}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestAt(t *testing.T) {
	o := Overlay[status]{{0, 3, run}, {3, 6, fail}, {7, 8, run}}
	for _, tt := range []struct {
		rank uint64
		want status
		ok   bool
	}{{0, run, true}, {2, run, true}, {3, fail, true}, {5, fail, true}, {6, 0, false}, {7, run, true}, {8, 0, false}} {
		if got, ok := o.At(tt.rank); got != tt.want || ok != tt.ok {
			t.Errorf("At(%d) = %v, %v; want %v, %v", tt.rank, got, ok, tt.want, tt.ok)
		}
	}
}

// overlayFrom reads runs of (start, length, status) from b.
func overlayFrom(b []byte) Overlay[status] {
	var o Overlay[status]
	for len(b) >= 5 {
		start := uint64(binary.LittleEndian.Uint16(b))
		n := uint64(b[2])
		o = append(o, Run[status]{Start: start, End: start + n, Status: status(b[3]) % numStatuses})
		b = b[5:]
	}
	return o
}

// statusAt is the status of rank r in runs painted in order, right wins,
// and whether some run covers it.
func statusAt(runs []Run[status], r uint64) (status, bool) {
	var st status
	found := false
	for _, run := range runs {
		if run.Start <= r && r < run.End {
			st, found = run.Status, true
		}
	}
	return st, found
}

// Merging any two lists of runs gives a valid overlay in which every rank
// has the status of the last run that covers it, and At agrees.
func FuzzOverlayMerge(f *testing.F) {
	f.Add([]byte{0, 0, 4, 2, 0}, []byte{2, 0, 4, 5, 0})
	f.Add([]byte{}, []byte{1, 0, 1, 1, 0, 1, 0, 1, 1, 0})
	f.Add([]byte{255, 255, 255, 7, 0}, []byte{0, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		left, right := overlayFrom(a), overlayFrom(b)
		got := left.Merge(right)
		if err := got.Validate(); err != nil {
			t.Fatalf("Merge(%v, %v) = %v: %v", left, right, got, err)
		}
		all := append(append([]Run[status](nil), left...), right...)
		for _, r := range []uint64{0, 1, 2, 3, 100, 255, 256, 65535, 65600} {
			want, wok := statusAt(all, r)
			st, ok := got.At(r)
			if wok != ok || (ok && want != st) {
				t.Fatalf("rank %d: merged %v (%v), want %v (%v); %v over %v", r, st, ok, want, wok, right, left)
			}
		}
	})
}
