package procagent

import (
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
