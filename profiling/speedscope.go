package profiling

import (
	"encoding/json"
	"fmt"
	"strings"
)

// speedscopeSchema is the $schema every speedscope file names.
const speedscopeSchema = "https://www.speedscope.app/file-format-schema.json"

// speedscopeFile is speedscope's JSON file format (its
// src/lib/file-format-spec.ts): frames shared by the profiles, one
// "sampled" profile per thread.
type speedscopeFile struct {
	Schema             string              `json:"$schema"`
	Shared             speedscopeShared    `json:"shared"`
	Profiles           []speedscopeProfile `json:"profiles"`
	Name               string              `json:"name"`
	ActiveProfileIndex int                 `json:"activeProfileIndex"`
	Exporter           string              `json:"exporter"`
}

type speedscopeShared struct {
	Frames []speedscopeFrame `json:"frames"`
}

type speedscopeFrame struct {
	Name string `json:"name"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

type speedscopeProfile struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Unit       string  `json:"unit"`
	StartValue float64 `json:"startValue"`
	EndValue   float64 `json:"endValue"`
	// Samples are stacks of indexes into the shared frames, outermost
	// first; Weights their weights.
	Samples [][]int   `json:"samples"`
	Weights []float64 `json:"weights"`
}

// renderSpeedscope writes the stacks in speedscope's format: a sampled
// profile per process and thread, weighted by sampled microseconds when
// the stacks carry time (austin), else by sample counts (unit "none").
func renderSpeedscope(st *stacks, name string) ([]byte, error) {
	f := speedscopeFile{Schema: speedscopeSchema, Name: name, Exporter: "procagent"}
	unit := "none"
	if st.HasTime {
		unit = "microseconds"
	}
	frameIdx := map[frame]int{}
	profIdx := map[threadKey]int{}
	for _, s := range st.Samples {
		if len(s.Frames) == 0 {
			continue
		}
		k := threadKey{s.Pid, s.Thread}
		pi, ok := profIdx[k]
		if !ok {
			pi = len(f.Profiles)
			profIdx[k] = pi
			f.Profiles = append(f.Profiles, speedscopeProfile{Type: "sampled", Name: threadTitle(s), Unit: unit})
		}
		stack := make([]int, 0, len(s.Frames))
		for _, fr := range s.Frames {
			i, ok := frameIdx[fr]
			if !ok {
				i = len(f.Shared.Frames)
				frameIdx[fr] = i
				f.Shared.Frames = append(f.Shared.Frames, speedscopeFrame(fr))
			}
			stack = append(stack, i)
		}
		w := float64(s.Count)
		if st.HasTime {
			w = float64(s.Micros)
		}
		p := &f.Profiles[pi]
		p.Samples = append(p.Samples, stack)
		p.Weights = append(p.Weights, w)
		p.EndValue += w
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("speedscope profile: %w", err)
	}
	return b, nil
}

// threadTitle names a thread's profile.
func threadTitle(s *sample) string {
	var parts []string
	if s.Pid > 0 {
		parts = append(parts, fmt.Sprintf("process %d", s.Pid))
	}
	if s.Thread != "" {
		parts = append(parts, "thread "+s.Thread)
	}
	if s.ThreadName != "" {
		parts = append(parts, s.ThreadName)
	}
	if len(parts) == 0 {
		return "all threads"
	}
	return strings.Join(parts, " ")
}
