package profiling

import (
	"encoding/json"
	"fmt"
)

// pyspyTrace is one element of `py-spy dump --json`: serde's form of
// py-spy's StackTrace (src/stack_trace.rs), one per Python thread.
type pyspyTrace struct {
	Pid         int          `json:"pid"`
	ThreadID    uint64       `json:"thread_id"`
	ThreadName  *string      `json:"thread_name"`
	OSThreadID  *uint64      `json:"os_thread_id"`
	Active      bool         `json:"active"`
	OwnsGIL     bool         `json:"owns_gil"`
	Frames      []pyspyFrame `json:"frames"`
	ProcessInfo *struct {
		Pid         int    `json:"pid"`
		CommandLine string `json:"command_line"`
	} `json:"process_info"`
}

// pyspyFrame is py-spy's Frame, innermost first in a trace. is_entry and
// is_shim_entry (py-spy ≥ 0.3.14) are not needed.
type pyspyFrame struct {
	Name          string          `json:"name"`
	Filename      string          `json:"filename"`
	Module        *string         `json:"module"`
	ShortFilename *string         `json:"short_filename"`
	Line          int             `json:"line"`
	Locals        []pyspyVariable `json:"locals"`
}

// pyspyVariable is py-spy's LocalVariable (dump --locals).
type pyspyVariable struct {
	Name string  `json:"name"`
	Addr uint64  `json:"addr"`
	Arg  bool    `json:"arg"`
	Repr *string `json:"repr"`
}

// parsePySpyDump parses the output of `py-spy dump --json` (a JSON array
// of traces) into the threads of one process, frames innermost first.
func parsePySpyDump(data []byte) ([]ThreadStack, error) {
	var traces []pyspyTrace
	if err := json.Unmarshal(data, &traces); err != nil {
		return nil, fmt.Errorf("parse py-spy dump: %w", err)
	}
	threads := make([]ThreadStack, 0, len(traces))
	for _, tr := range traces {
		t := ThreadStack{ID: tr.ThreadID, Active: tr.Active, OwnsGIL: tr.OwnsGIL}
		if tr.ThreadName != nil {
			t.Name = validUTF8(*tr.ThreadName)
		}
		if tr.OSThreadID != nil {
			t.NativeID = *tr.OSThreadID
		}
		for _, f := range tr.Frames {
			fr := Frame{Name: validUTF8(f.Name), File: validUTF8(f.Filename), Line: f.Line}
			if f.Module != nil {
				fr.Module = validUTF8(*f.Module)
			}
			if len(f.Locals) > 0 {
				fr.Locals = make(map[string]string, len(f.Locals))
				for _, v := range f.Locals {
					repr := ""
					if v.Repr != nil {
						repr = validUTF8(*v.Repr)
					}
					fr.Locals[validUTF8(v.Name)] = repr
				}
			}
			t.Frames = append(t.Frames, fr)
		}
		threads = append(threads, t)
	}
	return threads, nil
}

// hasFrames reports whether any thread has a frame.
func hasFrames(processes []ProcessStacks) bool {
	for _, p := range processes {
		for _, t := range p.Threads {
			if len(t.Frames) > 0 {
				return true
			}
		}
	}
	return false
}
