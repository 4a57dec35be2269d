package profiling

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/google/pprof/profile"
)

// pprofMeta describes a recording for its pprof form.
type pprofMeta struct {
	sampler      string
	pid          int
	timeType     string // "cpu", or "wall" with idle samples
	periodMicros int64
	start        time.Time
	duration     time.Duration
}

// funcKey and locKey index functions and locations while building.
type (
	funcKey struct{ name, file string }
	locKey  struct {
		fn   uint64
		line int
	}
)

// toPprof converts collapsed stacks to a gzipped profile.proto: sample
// types samples/count and, when the stacks carry time (austin),
// <timeType>/microseconds, the default; one function per name and file,
// one location per function and line (one mapping, marked symbolized, so
// pprof does not try to symbolize); each sample labelled with its thread
// ("thread", "thread_name") and process ("pid", numeric). The profile is
// checked with CheckValid.
func toPprof(st *stacks, m pprofMeta) ([]byte, error) {
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}},
		PeriodType:    &profile.ValueType{Type: m.timeType, Unit: "microseconds"},
		Period:        m.periodMicros,
		TimeNanos:     m.start.UnixNano(),
		DurationNanos: m.duration.Nanoseconds(),
		Comments:      []string{"sampler=" + m.sampler, fmt.Sprintf("pid=%d", m.pid)},
	}
	if st.HasTime {
		p.SampleType = append(p.SampleType, &profile.ValueType{Type: m.timeType, Unit: "microseconds"})
		p.DefaultSampleType = m.timeType
	}
	mapping := &profile.Mapping{ID: 1, File: "python", HasFunctions: true, HasFilenames: true, HasLineNumbers: true}
	p.Mapping = []*profile.Mapping{mapping}
	funcs := map[funcKey]*profile.Function{}
	locs := map[locKey]*profile.Location{}
	for _, s := range st.Samples {
		if len(s.Frames) == 0 {
			continue
		}
		ps := &profile.Sample{Value: []int64{s.Count}}
		if st.HasTime {
			ps.Value = append(ps.Value, s.Micros)
		}
		for _, f := range slices.Backward(s.Frames) {
			fk := funcKey{f.Name, f.File}
			fn, ok := funcs[fk]
			if !ok {
				fn = &profile.Function{ID: uint64(len(p.Function) + 1), Name: f.Name, SystemName: f.Name, Filename: f.File}
				funcs[fk] = fn
				p.Function = append(p.Function, fn)
			}
			lk := locKey{fn.ID, f.Line}
			loc, ok := locs[lk]
			if !ok {
				loc = &profile.Location{
					ID: uint64(len(p.Location) + 1), Mapping: mapping,
					Line: []profile.Line{{Function: fn, Line: int64(f.Line)}},
				}
				locs[lk] = loc
				p.Location = append(p.Location, loc)
			}
			ps.Location = append(ps.Location, loc)
		}
		ps.Label = map[string][]string{}
		if s.Thread != "" {
			ps.Label["thread"] = []string{s.Thread}
		}
		if s.ThreadName != "" {
			ps.Label["thread_name"] = []string{s.ThreadName}
		}
		pid := s.Pid
		if pid == 0 {
			pid = m.pid
		}
		ps.NumLabel = map[string][]int64{"pid": {int64(pid)}}
		p.Sample = append(p.Sample, ps)
	}
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("pprof profile: %w", err)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		return nil, fmt.Errorf("pprof profile: %w", err)
	}
	return b.Bytes(), nil
}
