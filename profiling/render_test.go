package profiling

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/pprof/profile"
)

// pprofStack is a sample of a parsed pprof profile, for comparisons:
// frames leaf first as "function file:line", its values and labels.
type pprofStack struct {
	Frames []string
	Values []int64
	Thread string
	Pid    int64
}

func pprofStacks(p *profile.Profile) []pprofStack {
	var out []pprofStack
	for _, s := range p.Sample {
		ps := pprofStack{Values: s.Value}
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				ps.Frames = append(ps.Frames, fmt.Sprintf("%s %s:%d", l.Function.Name, l.Function.Filename, l.Line))
			}
		}
		if t := s.Label["thread"]; len(t) > 0 {
			ps.Thread = t[0]
		}
		if p := s.NumLabel["pid"]; len(p) > 0 {
			ps.Pid = p[0]
		}
		out = append(out, ps)
	}
	return out
}

func TestToPprof(t *testing.T) {
	meta := func(timeType string) pprofMeta {
		return pprofMeta{sampler: "test", pid: 4242, timeType: timeType, periodMicros: 10000, start: time.Unix(1700000000, 0), duration: 2 * time.Second}
	}
	tests := []struct {
		name        string
		st          *stacks
		timeType    string
		sampleTypes []string
		want        []pprofStack
	}{
		{
			name:        "py-spy raw, counts only",
			st:          parsePySpyRaw(readTestdata(t, "pyspy/record.raw")),
			timeType:    "cpu",
			sampleTypes: []string{"samples/count"},
			want: []pprofStack{
				{Frames: []string{"busy_worker_fn worker.py:6", "<module> worker.py:13"}, Values: []int64{187}, Thread: "4242", Pid: 4242},
				{Frames: []string{"busy_worker_fn worker.py:5", "<module> worker.py:13"}, Values: []int64{9}, Thread: "4242", Pid: 4242},
				{Frames: []string{
					"idle_waiter_fn worker.py:10", "run threading.py:917",
					"_bootstrap_inner threading.py:980", "_bootstrap threading.py:937",
				}, Values: []int64{4}, Thread: "4243", Pid: 4242},
			},
		},
		{
			name:        "austin 1 children, counts and time",
			st:          parseAustin(readTestdata(t, "austin/v1-children.txt"), false, false),
			timeType:    "cpu",
			sampleTypes: []string{"samples/count", "cpu/microseconds"},
			want: []pprofStack{
				{Frames: []string{"child_spin_fn <string>:2", "<module> <string>:3"}, Values: []int64{7, 295966}, Thread: "0x55a4495a4300", Pid: 15694},
				{Frames: []string{"parent_wait_fn parent.py:5", "<module> parent.py:8"}, Values: []int64{7, 295963}, Thread: "0x5622c6352d40", Pid: 15661},
			},
		},
		{
			name:        "austin 3 with idle samples, wall time",
			st:          parseAustin(readTestdata(t, "austin/v3-full-children.txt"), true, false),
			timeType:    "wall",
			sampleTypes: []string{"samples/count", "wall/microseconds"},
			want: []pprofStack{
				{Frames: []string{"parent_wait_fn parent.py:5", "<module> parent.py:8"}, Values: []int64{2, 10034}, Thread: "15661", Pid: 15661},
				{Frames: []string{"child_spin_fn <string>:2", "<module> <string>:3"}, Values: []int64{3, 20055}, Thread: "15694", Pid: 15694},
				{Frames: []string{"parent_wait_fn parent.py:6", "<module> parent.py:8"}, Values: []int64{1, 10012}, Thread: "15661", Pid: 15661},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := toPprof(tt.st, meta(tt.timeType))
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Fatal("profile is not gzipped")
			}
			p, err := profile.Parse(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckValid(); err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, st := range p.SampleType {
				types = append(types, st.Type+"/"+st.Unit)
			}
			if diff := cmp.Diff(tt.sampleTypes, types); diff != "" {
				t.Errorf("sample types mismatch (-want +got):\n%s", diff)
			}
			if p.Period != 10000 || p.PeriodType.Type != tt.timeType || p.PeriodType.Unit != "microseconds" {
				t.Errorf("period %d %v, want 10000 %s/microseconds", p.Period, p.PeriodType, tt.timeType)
			}
			if diff := cmp.Diff(tt.want, pprofStacks(p)); diff != "" {
				t.Errorf("samples mismatch (-want +got):\n%s", diff)
			}
			// One function per name and file, one location per line.
			names := map[string]int{}
			for _, f := range p.Function {
				names[f.Name+" "+f.Filename]++
			}
			for n, c := range names {
				if c != 1 {
					t.Errorf("function %s appears %d times", n, c)
				}
			}
			if !slices.Contains(p.Comments, "pid=4242") {
				t.Errorf("comments %v lack the pid", p.Comments)
			}
		})
	}
}

// TestRenderFlamegraph checks the SVG is well-formed XML with a titled
// rectangle per frame, the root holding every sample.
func TestRenderFlamegraph(t *testing.T) {
	st := parsePySpyRaw(readTestdata(t, "pyspy/record.raw"))
	b := renderFlamegraph(st, `py-spy: pid 4242 <&>`)
	dec := xml.NewDecoder(bytes.NewReader(b))
	var titles []string
	rects := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "rect":
			rects++
		case "title":
			var s string
			if err := dec.DecodeElement(&s, &se); err != nil {
				t.Fatal(err)
			}
			titles = append(titles, s)
		}
	}
	sort.Strings(titles)
	for _, want := range []string{
		"all (200 samples, 100.00%)",
		"busy_worker_fn (worker.py:6) (187 samples, 93.50%)",
		"idle_waiter_fn (worker.py:10) (4 samples, 2.00%)",
		"thread 4242 MainThread (196 samples, 98.00%)",
	} {
		if !slices.Contains(titles, want) {
			t.Errorf("no frame titled %q in %q", want, titles)
		}
	}
	if rects != len(titles)+1 { // and the background
		t.Errorf("%d rectangles for %d titles", rects, len(titles))
	}
	if !bytes.Contains(b, []byte("&lt;&amp;&gt;")) {
		t.Error("the title is not escaped")
	}
}

func TestRenderSpeedscope(t *testing.T) {
	tests := []struct {
		name     string
		st       *stacks
		unit     string
		profiles []string
		end      []float64
	}{
		{
			name: "py-spy counts", st: parsePySpyRaw(readTestdata(t, "pyspy/record.raw")), unit: "none",
			profiles: []string{"thread 4242 MainThread", "thread 4243 waiter"}, end: []float64{196, 4},
		},
		{
			name: "austin time", st: parseAustin(readTestdata(t, "austin/v1-children.txt"), false, false), unit: "microseconds",
			profiles: []string{"process 15694 thread 0x55a4495a4300", "process 15661 thread 0x5622c6352d40"}, end: []float64{295966, 295963},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := renderSpeedscope(tt.st, "test")
			if err != nil {
				t.Fatal(err)
			}
			var f speedscopeFile
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			if f.Schema != speedscopeSchema {
				t.Errorf("$schema %q", f.Schema)
			}
			var names []string
			var ends []float64
			for _, p := range f.Profiles {
				names = append(names, p.Name)
				ends = append(ends, p.EndValue)
				if p.Type != "sampled" || p.Unit != tt.unit || len(p.Samples) != len(p.Weights) {
					t.Errorf("profile %s: type %s unit %s, %d samples %d weights", p.Name, p.Type, p.Unit, len(p.Samples), len(p.Weights))
				}
				for _, s := range p.Samples {
					for _, i := range s {
						if i < 0 || i >= len(f.Shared.Frames) {
							t.Fatalf("frame index %d out of %d", i, len(f.Shared.Frames))
						}
					}
				}
			}
			if diff := cmp.Diff(tt.profiles, names); diff != "" {
				t.Errorf("profiles mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.end, ends); diff != "" {
				t.Errorf("end values mismatch (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(b), `"shared":{"frames":[`) {
				t.Error("no shared frames")
			}
		})
	}
}
