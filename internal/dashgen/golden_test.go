package dashgen

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
)

// The committed dashboards are exactly what the generator writes today: run `make
// dashboards` (or this test with -update) after changing the generator or the names table.
func TestDashboardsUpToDate(t *testing.T) {
	root := moduleRoot(t)
	if *update {
		if err := WriteAll(root, filepath.Join(root, Dir)); err != nil {
			t.Fatal(err)
		}
	}
	fams, err := LoadFamilies(root)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := Generate(fams)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, o := range outs {
		files = append(files, o.File)
		if got := readFile(t, filepath.Join(Dir, o.File)); !bytes.Equal(got, o.JSON) {
			t.Errorf("%s/%s differs from what the generator writes; run `make dashboards` and commit it", Dir, o.File)
		}
	}
	slices.Sort(files)
	if committed := committedDashboards(t); !slices.Equal(committed, files) {
		t.Errorf("%s holds %v, the generator writes %v", Dir, committed, files)
	}
}

// Generating twice gives the same bytes.
func TestGenerateDeterministic(t *testing.T) {
	fams, err := LoadFamilies(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Generate(fams)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(fams)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !bytes.Equal(a[i].JSON, b[i].JSON) {
			t.Errorf("%s: two runs differ", a[i].File)
		}
	}
}

// A family missing from the names table is an error naming it, not an empty description.
func TestGenerateMissingFamily(t *testing.T) {
	fams, err := LoadFamilies(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	var without []Family
	for _, f := range fams {
		if f.Prom != mQueueDepth {
			without = append(without, f)
		}
	}
	if _, err := Generate(without); err == nil {
		t.Fatalf("Generate without %s: no error", mQueueDepth)
	}
}
