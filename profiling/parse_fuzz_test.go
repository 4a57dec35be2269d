package profiling

import (
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets of the sampler parsers; `make fuzz` runs each for a few
// seconds, with the real outputs under testdata as seeds besides those
// under testdata/fuzz.

// addFiles adds the files matching pattern under testdata as seeds.
func addFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkStacks fails on a parse that produced impossible samples.
func checkStacks(t *testing.T, st *stacks) {
	t.Helper()
	for _, s := range st.Samples {
		if s.Count < 0 {
			t.Fatalf("negative sample count %d", s.Count)
		}
	}
}

func FuzzParsePySpyDump(f *testing.F) {
	addFiles(f, "pyspy/*.json")
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"thread_id": 1, "frames": [{"name": "f", "filename": "a.py", "line": 1}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		threads, err := parsePySpyDump(data)
		if err != nil && threads != nil {
			t.Fatalf("an error with %d threads", len(threads))
		}
	})
}

func FuzzParsePySpyRaw(f *testing.F) {
	addFiles(f, "pyspy/*.raw")
	f.Add([]byte("process 1:\"python x.py\";thread (0x1);f (a.py:1) 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStacks(t, parsePySpyRaw(data))
	})
}

func FuzzParseAustin(f *testing.F) {
	addFiles(f, "austin/*.txt")
	f.Add([]byte("P1;T1;a.py:f:1 10\n"))
	f.Add([]byte("# austin: 3.5.0\n# mode: wall\n\nP1;T7f:1;a.py:f:L1 5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, keepIdle := range []bool{false, true} {
			checkStacks(t, parseAustin(data, keepIdle, keepIdle))
		}
		// In pieces, as the runner feeds it.
		p := newAustinParser(true, true)
		for i := 0; i < len(data); i += 7 {
			_, _ = p.Write(data[i:min(i+7, len(data))])
		}
		checkStacks(t, p.stacks())
	})
}

func FuzzParseAustinWhere(f *testing.F) {
	addFiles(f, "austin/v3-where.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStacks(t, parseAustinWhere(data))
	})
}
