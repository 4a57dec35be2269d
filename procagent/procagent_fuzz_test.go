package procagent

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/procagent/procagent/runtime"
)

// Fuzz targets; `make fuzz` runs each for a few seconds, with the seeds
// below and those under testdata/fuzz.

// A valid id is a name the runtime spawns under, and an error quotes at
// most a bounded part of a huge id.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"w1", "label-A.b_c-1", "", "W", "a" + strings.Repeat("b", 62), "label-", "x/y", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID(id)
		if err == nil {
			if !runtime.ValidName(id) || len(id) > runtime.MaxNameLen {
				t.Fatalf("ValidateID accepted %q, which the runtime refuses", id)
			}
			return
		}
		if len(err.Error()) > 400 {
			t.Fatalf("the error for a %d-byte id is %d bytes long", len(id), len(err.Error()))
		}
	})
}

// overlayFrom reads runs of (start, length, status) from b.
func overlayFrom(b []byte) StatusOverlay {
	var o StatusOverlay
	for len(b) >= 5 {
		start := uint64(binary.LittleEndian.Uint16(b))
		n := uint64(b[2])
		st := runtime.Status(int(b[3]) % int(runtime.NumStatuses))
		o = append(o, StatusRun{Start: start, End: start + n, Status: st})
		b = b[5:]
	}
	return o
}

// statusAt is the status of rank r in o, painted in order, right wins, and
// whether some run covers it.
func statusAt(runs []StatusRun, r uint64) (runtime.Status, bool) {
	var st runtime.Status
	found := false
	for _, run := range runs {
		if run.Start <= r && r < run.End {
			st, found = run.Status, true
		}
	}
	return st, found
}

// Merging any two lists of runs gives a valid overlay in which every rank
// has the status of the last run that covers it.
func FuzzOverlayMerge(f *testing.F) {
	f.Add([]byte{0, 0, 4, 2, 0}, []byte{2, 0, 4, 5, 0})
	f.Add([]byte{}, []byte{1, 0, 1, 1, 0, 1, 0, 1, 1, 0})
	f.Add([]byte{255, 255, 255, 7, 0}, []byte{0, 0, 0, 3, 0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		left, right := overlayFrom(a), overlayFrom(b)
		got := left.Merge(right)
		if err := got.Validate(); err != nil && len(got) > 0 {
			t.Fatalf("Merge(%v, %v) = %v: %v", left, right, got, err)
		}
		all := append(append([]StatusRun(nil), left...), right...)
		for _, r := range []uint64{0, 1, 2, 3, 100, 255, 256, 65535, 65600} {
			want, wok := statusAt(all, r)
			st, ok := statusAt(got, r)
			if wok != ok || (ok && want != st) {
				t.Fatalf("rank %d: merged %v (%v), want %v (%v); %v over %v", r, st, ok, want, wok, right, left)
			}
		}
	})
}

// The built-in types' params decode or fail cleanly, whatever the bytes:
// building an actor never runs it.
func FuzzActorParams(f *testing.F) {
	for _, s := range []string{`{}`, `{"ms": 250}`, `{"ms": -1}`, `null`, `{"argv": ["true"], "grace_period": "5s", "output_limit": 65536}`,
		`{"argv": [], "env": {"A": "B"}, "dir": "/"}`, `{"argv": ["x"], "grace_period": "1min"}`, `[1,2]`, `{"unknown": 1}`} {
		f.Add(s)
	}
	reg := runtime.NewRegistry()
	runtime.RegisterBuiltins(reg)
	f.Fuzz(func(t *testing.T, params string) {
		for _, typ := range reg.Types() {
			a, err := reg.New(typ, []byte(params))
			if (a == nil) == (err == nil) {
				t.Fatalf("New(%s, %q) = %v, %v: want an actor or an error", typ, params, a, err)
			}
		}
	})
}

// Any config file parses or fails with an error; what parses loads or
// fails validation with an error.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{"addr: 127.0.0.1:1\nmailbox_size: 4\n", `{"orphan_timeout": "1min"}`, "---\n", "a: [1]\n", "addr: 1\naddr: 2\n", "x: &a 1\ny: *a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		settings, err := parseConfigFile([]byte(data), "fuzz.yaml")
		if err != nil {
			return
		}
		for name := range settings {
			if !slices.ContainsFunc(ConfigKeys(), func(k Key) bool { return k.Name == name }) {
				t.Fatalf("parseConfigFile kept the unknown key %q", name)
			}
		}
	})
}

// Durations parse or fail; none parses to a negative value from a string
// without a minus sign.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h 30m", "1min", "2days", "5", "-1s", "", "1e9h", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := parseDuration(raw)
		if err == nil && d < 0 && !strings.Contains(raw, "-") {
			t.Fatalf("parseDuration(%q) = %v", raw, d)
		}
	})
}
