package profiling

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilterDumpThreads(t *testing.T) {
	dump := func() *Ok {
		return &Ok{Processes: []ProcessStacks{{Pid: 1, Threads: []ThreadStack{
			{ID: 10, NativeID: 100, OwnsGIL: true}, {ID: 11, NativeID: 101}, {ID: 12},
		}}}}
	}
	ids := func(ok *Ok) []uint64 {
		var out []uint64
		for _, p := range ok.Processes {
			for _, th := range p.Threads {
				out = append(out, th.ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		kind     string
		opts     DumpOptions
		want     []uint64
		wantWarn string
	}{
		{"no selection", KindPySpy, DumpOptions{}, []uint64{10, 11, 12}, ""},
		{"gil with py-spy", KindPySpy, DumpOptions{GIL: true}, []uint64{10}, ""},
		{"gil with austin warns", KindAustin, DumpOptions{GIL: true}, []uint64{10, 11, 12}, "austin does not report which thread holds the GIL"},
		{"threads by id", KindAustin, DumpOptions{Threads: []uint64{12, 11}}, []uint64{11, 12}, ""},
		{"threads by native id", KindPySpy, DumpOptions{Threads: []uint64{101}}, []uint64{11}, ""},
		{"no match warns", KindPySpy, DumpOptions{Threads: []uint64{7}}, nil, "no thread matched the selection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok := dump()
			filterDumpThreads(ok, tc.kind, tc.opts)
			if diff := cmp.Diff(tc.want, ids(ok)); diff != "" {
				t.Errorf("threads kept (-want +got):\n%s", diff)
			}
			got := strings.Join(ok.Warnings, "; ")
			if (tc.wantWarn == "") != (got == "") || !strings.Contains(got, tc.wantWarn) {
				t.Errorf("warnings %q, want %q", got, tc.wantWarn)
			}
		})
	}
}

func TestFilterProfileThreads(t *testing.T) {
	st := newStacks()
	st.add(sample{Thread: "0x10", Frames: []frame{{Name: "a"}}, Count: 2})
	st.add(sample{Thread: "17", Frames: []frame{{Name: "b"}}, Count: 3})
	got, warn := filterProfileThreads(st, []uint64{16})
	if got.Total != 2 || len(got.Samples) != 1 || got.Samples[0].Frames[0].Name != "a" || warn != nil {
		t.Errorf("kept %d samples (total %d), warnings %v", len(got.Samples), got.Total, warn)
	}
	got, warn = filterProfileThreads(st, []uint64{99})
	if !got.empty() || len(warn) != 1 || !strings.Contains(warn[0], "threads sampled: [16 17]") {
		t.Errorf("no match: total %d, warnings %v", got.Total, warn)
	}
	if same, _ := filterProfileThreads(st, nil); same != st {
		t.Error("no selection should keep the stacks as they are")
	}
}
