package profiling

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// frame is one frame of a collapsed stack.
type frame struct {
	Name string
	File string
	Line int
}

// label is how py-spy's raw format writes a frame: "name (file:line)",
// "name (file)" without a line, "name" without a file.
func (f frame) label() string {
	switch {
	case f.File == "":
		return f.Name
	case f.Line == 0:
		return f.Name + " (" + f.File + ")"
	}
	return f.Name + " (" + f.File + ":" + strconv.Itoa(f.Line) + ")"
}

// sample is one distinct stack of one thread and its weight.
type sample struct {
	Pid        int
	Command    string
	Thread     string // the thread id as the sampler wrote it; "" unknown
	ThreadName string
	Frames     []frame // outermost first
	Count      int64   // samples
	Micros     int64   // sampled time (austin); 0 unknown
	Idle       bool    // austin marked the thread idle
}

func (s *sample) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\x00%s\x00%s", s.Pid, s.Thread, s.ThreadName)
	for _, f := range s.Frames {
		fmt.Fprintf(&b, "\x00%s\x01%s\x01%d", f.Name, f.File, f.Line)
	}
	return b.String()
}

// threadKey names a thread of a process.
type threadKey struct {
	Pid    int
	Thread string
}

// stacks is a sampler's parsed output: its distinct stacks in the order
// first seen, with counts merged.
type stacks struct {
	Samples []*sample
	index   map[string]*sample
	// last holds each thread's last sample when trackLast (austin dumps).
	trackLast bool
	last      map[threadKey]*sample
	lastOrder []threadKey
	// Meta holds austin 3's "# key: value" lines.
	Meta map[string]string
	// Total is the number of samples; Skipped counts lines not understood
	// and invalid samples.
	Total   int64
	Skipped int
	// HasTime says the samples carry measured time (austin).
	HasTime bool
}

func newStacks() *stacks {
	return &stacks{index: map[string]*sample{}, last: map[threadKey]*sample{}, Meta: map[string]string{}}
}

// add merges s into the set.
func (st *stacks) add(s sample) {
	if s.Count <= 0 {
		s.Count = 1
	}
	st.Total += s.Count
	if st.trackLast {
		k := threadKey{s.Pid, s.Thread}
		if _, ok := st.last[k]; !ok {
			st.lastOrder = append(st.lastOrder, k)
		}
		c := s
		st.last[k] = &c
	}
	k := s.key()
	if have, ok := st.index[k]; ok {
		have.Count += s.Count
		have.Micros += s.Micros
		return
	}
	c := s
	st.Samples = append(st.Samples, &c)
	st.index[k] = &c
}

// empty reports whether the set holds no stack with a frame.
func (st *stacks) empty() bool {
	for _, s := range st.Samples {
		if len(s.Frames) > 0 {
			return false
		}
	}
	return true
}

// parsePySpyRaw parses py-spy's raw format (record --format raw): one
// line per distinct stack, "frame;frame;… count", outermost frame first,
// each frame "name (file:line)", "name (file)" or "name". With --threads
// the stack starts with "thread (tid)" or "thread (tid): name"; with
// --subprocesses with `process pid:"command line"` frames, the parent's
// first.
func parsePySpyRaw(data []byte) *stacks {
	st := newStacks()
	for line := range bytes.Lines(data) {
		l := strings.TrimRight(validUTF8(string(line)), "\r\n")
		if l == "" {
			continue
		}
		s, ok := parsePySpyRawLine(l)
		if !ok {
			st.Skipped++
			continue
		}
		st.add(s)
	}
	return st
}

var (
	pyspyProcessFrame = regexp.MustCompile(`^process (\d+):"(.*)"$`)
	pyspyThreadFrame  = regexp.MustCompile(`^thread \((0[xX][0-9a-fA-F]+|\d+)\)(?:: (.*))?$`)
)

// parsePySpyRawLine parses one line of py-spy's raw format.
func parsePySpyRawLine(l string) (sample, bool) {
	i := strings.LastIndexByte(l, ' ')
	if i < 0 {
		return sample{}, false
	}
	n, err := strconv.ParseInt(l[i+1:], 10, 64)
	if err != nil || n <= 0 {
		return sample{}, false
	}
	s := sample{Count: n}
	parts := strings.Split(l[:i], ";")
	j := 0
	for ; j < len(parts); j++ {
		if m := pyspyProcessFrame.FindStringSubmatch(parts[j]); m != nil {
			s.Pid, _ = strconv.Atoi(m[1])
			s.Command = m[2]
			continue
		}
		if m := pyspyThreadFrame.FindStringSubmatch(parts[j]); m != nil && s.Thread == "" {
			s.Thread, s.ThreadName = m[1], m[2]
			continue
		}
		break
	}
	for _, p := range parts[j:] {
		if p == "" {
			continue
		}
		s.Frames = append(s.Frames, parseFrameLabel(p))
	}
	return s, true
}

// parseFrameLabel parses "name (file:line)", "name (file)" or "name" (the
// frames of py-spy's raw format and of austin 1's alternative format).
func parseFrameLabel(p string) frame {
	open := labelOpen(p)
	if open < 0 {
		return frame{Name: p}
	}
	f := frame{Name: p[:open]}
	inner := p[open+2 : len(p)-1]
	if c := strings.LastIndexByte(inner, ':'); c >= 0 {
		if n, err := strconv.Atoi(inner[c+1:]); err == nil && n >= 0 {
			f.File, f.Line = inner[:c], n
			return f
		}
	}
	f.File = inner
	return f
}

// labelOpen finds the " (" that opens a label's final parenthesis, the
// parentheses balanced (a file "dir (old)/w.py", a C++ name "f(int)"); -1
// when the label does not end with one.
func labelOpen(p string) int {
	if !strings.HasSuffix(p, ")") {
		return -1
	}
	depth := 0
	for i := len(p) - 1; i > 0; i-- {
		switch p[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				if p[i-1] == ' ' {
					return i - 1
				}
				return -1
			}
		}
	}
	return -1
}

// renderCollapsed writes the set in py-spy's raw format, so both samplers'
// raw profiles read alike: `process pid:"command"` frames when withProcess,
// a "thread (id)" frame when the thread is known, then the frames, then the
// count.
func renderCollapsed(st *stacks, withProcess bool) []byte {
	var b bytes.Buffer
	for _, s := range st.Samples {
		var parts []string
		if withProcess && s.Pid > 0 {
			// As py-spy writes it, unquoted; a ';' would split the frame.
			parts = append(parts, fmt.Sprintf("process %d:\"%s\"", s.Pid, strings.ReplaceAll(s.Command, ";", " ")))
		}
		if s.Thread != "" {
			t := "thread (" + s.Thread + ")"
			if s.ThreadName != "" {
				t += ": " + s.ThreadName
			}
			parts = append(parts, t)
		}
		for _, f := range s.Frames {
			parts = append(parts, f.label())
		}
		if len(parts) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s %d\n", strings.Join(parts, ";"), s.Count)
	}
	return b.Bytes()
}
