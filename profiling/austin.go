package profiling

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// austin writes one line per sample of one thread, outermost frame first,
// ending with its metric(s), in two generations:
//
//	austin 1.x: Thread 560c61907c80;<module> (worker.py);L13;busy_worker_fn (worker.py);L6 50105
//	            (with -C: "Process 14924;Thread …"; with -a: "busy_worker_fn (worker.py:6)";
//	            with -s an idle thread's leaf is "<idle>"; with -f: "… 50093 0 0")
//	austin 2.x: P14924;T560c61907c80;<module> (worker.py);L13;… 50105
//	austin 3.x: P14924;T0:14924;worker.py:<module>:13;worker.py:busy_worker_fn:6 1065
//	            (before 3.6 "P<pid>;T<tid>"; with -f the metric is "time,idle,memory";
//	            ":INVALID:" and ":GC:" pseudo-frames; "# key: value" metadata lines)
//
// Both are parsed by austinParser, which reads the stream as austin writes
// it, so that a long profile is aggregated as it is sampled rather than
// held in memory.

// Generations of austin's output.
const (
	austinGenUnknown = iota
	austinGen1       // 1.x and 2.x: "func (file);L12" frames
	austinGen3       // 3.x: "file:func:12" frames
)

// maxAustinLine bounds one sample line; a longer one is skipped.
const maxAustinLine = 1 << 20

// austinParser parses austin's output written to it; stacks returns the
// result once the writing is over. Not safe for concurrent writes.
type austinParser struct {
	st       *stacks
	gen      int
	keepIdle bool
	partial  []byte
	dropping bool
}

// newAustinParser returns a parser that keeps idle samples when keepIdle
// and each thread's last sample when trackLast.
func newAustinParser(keepIdle, trackLast bool) *austinParser {
	st := newStacks()
	st.trackLast = trackLast
	st.HasTime = true
	return &austinParser{st: st, keepIdle: keepIdle}
}

// parseAustin parses a whole austin output.
func parseAustin(data []byte, keepIdle, trackLast bool) *stacks {
	p := newAustinParser(keepIdle, trackLast)
	_, _ = p.Write(data)
	return p.stacks()
}

// Write consumes output, line by line.
func (p *austinParser) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.hold(b)
			break
		}
		p.hold(b[:i])
		if !p.dropping {
			p.line(string(p.partial))
		}
		p.partial, p.dropping = p.partial[:0], false
		b = b[i+1:]
	}
	return n, nil
}

// hold appends to the current line, dropping a line too long.
func (p *austinParser) hold(b []byte) {
	if p.dropping {
		return
	}
	if len(p.partial)+len(b) > maxAustinLine {
		p.partial, p.dropping = p.partial[:0], true
		p.st.Skipped++
		return
	}
	p.partial = append(p.partial, b...)
}

// stacks parses the last, unterminated line (austin stopped mid-write
// leaves one; it counts only if it parses) and returns the result.
func (p *austinParser) stacks() *stacks {
	if len(p.partial) > 0 && !p.dropping {
		p.line(string(p.partial))
	}
	p.partial = nil
	return p.st
}

func (p *austinParser) line(l string) {
	l = strings.TrimRight(validUTF8(l), "\r")
	if l == "" {
		return
	}
	if key, value, ok := strings.Cut(strings.TrimPrefix(l, "# "), ": "); ok && strings.HasPrefix(l, "# ") {
		p.st.Meta[key] = value
		if key == "austin" && strings.HasPrefix(value, "3.") {
			p.gen = austinGen3
		}
		return
	}
	if p.gen == austinGenUnknown {
		p.gen = austinGeneration(l)
	}
	var s austinSample
	var ok bool
	if p.gen == austinGen3 {
		s, ok = parseAustinV3Line(l, p.st.Meta["mode"])
	} else {
		s, ok = parseAustinV1Line(l)
	}
	switch {
	case !ok || s.invalid:
		p.st.Skipped++
	case s.Idle && !p.keepIdle:
	default:
		p.st.add(s.sample)
	}
}

// austinSample is a parsed line.
type austinSample struct {
	sample
	invalid bool
}

var (
	austinV1Head = regexp.MustCompile(`^(?:Process (\d+);)?Thread ([0-9a-fA-F]+)`)
	austinV2Head = regexp.MustCompile(`^P(\d+);T([0-9a-fA-F]+)`)
	austinV3Head = regexp.MustCompile(`^P(\d+);T(?:\d+:)?(\d+)`)
	austinLine   = regexp.MustCompile(`^L(\d+)$`)
	austinMetric = regexp.MustCompile(`^-?\d+(?:,-?\d+)*$`)
)

// austinGeneration tells the generation from a first sample line: austin
// 1 starts with "Thread" or "Process"; austin 2 and 3 both start with
// "P<pid>;T<tid>" and differ in their frames.
func austinGeneration(l string) int {
	if strings.HasPrefix(l, "Thread ") || strings.HasPrefix(l, "Process ") {
		return austinGen1
	}
	if m := austinV2Head.FindStringIndex(l); m != nil {
		rest := strings.TrimPrefix(l[m[1]:], ";")
		first, _, _ := strings.Cut(rest, ";")
		if strings.Contains(first, " (") {
			return austinGen1
		}
	}
	return austinGen3
}

// parseAustinV1Line parses a line of austin 1.x (or 2.x): frames
// "func (file);L12", or "func (file:12)" in the alternative format; a
// trailing "<idle>" marks an idle thread (-s); "Bad sample" an invalid
// one. The first metric is the time in microseconds (-f adds two memory
// deltas).
func parseAustinV1Line(l string) (austinSample, bool) {
	var s austinSample
	var rest string
	if m := austinV1Head.FindStringSubmatch(l); m != nil {
		if m[1] != "" {
			s.Pid, _ = strconv.Atoi(m[1])
		}
		s.Thread = "0x" + strings.ToLower(m[2])
		rest = l[len(m[0]):]
	} else if m := austinV2Head.FindStringSubmatch(l); m != nil {
		s.Pid, _ = strconv.Atoi(m[1])
		s.Thread = "0x" + strings.ToLower(m[2])
		rest = l[len(m[0]):]
	} else {
		return s, false
	}
	rest, metrics := trailingMetrics(rest, 3)
	if len(metrics) == 0 || (rest != "" && rest[0] != ';') {
		return s, false
	}
	s.Micros = metrics[0]
	s.Count = 1
	toks := strings.Split(strings.TrimPrefix(rest, ";"), ";")
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "":
		case t == "<idle>":
			s.Idle = true
		case strings.HasPrefix(t, "Bad sample"):
			s.invalid = true
		default:
			f := parseFrameLabel(t)
			if i+1 < len(toks) {
				if m := austinLine.FindStringSubmatch(toks[i+1]); m != nil {
					f.Line, _ = strconv.Atoi(m[1])
					i++
				}
			}
			s.Frames = append(s.Frames, f)
		}
	}
	return s, true
}

// parseAustinV3Line parses a line of austin 3.x: frames "file:func:12"
// (the alternative format of early 3.x: "file:func;L12"); the metric is
// the time in microseconds, "time,idle,memory" in full mode, a memory
// delta in memory mode (then no time is recorded).
func parseAustinV3Line(l, mode string) (austinSample, bool) {
	var s austinSample
	m := austinV3Head.FindStringSubmatch(l)
	if m == nil {
		return s, false
	}
	s.Pid, _ = strconv.Atoi(m[1])
	s.Thread = m[2]
	rest, metrics := trailingMetrics(l[len(m[0]):], 1)
	if len(metrics) == 0 || (rest != "" && rest[0] != ';') {
		return s, false
	}
	s.Count = 1
	switch {
	case mode == "memory":
	case len(metrics) >= 3:
		s.Micros = metrics[0]
		s.Idle = metrics[1] == 1
	default:
		s.Micros = metrics[0]
	}
	toks := strings.Split(strings.TrimPrefix(rest, ";"), ";")
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t {
		case "", ":GC:":
			continue
		case ":INVALID:":
			s.invalid = true
			continue
		}
		f := frame{Name: t}
		if c := strings.LastIndexByte(t, ':'); c >= 0 {
			if n, err := strconv.Atoi(t[c+1:]); err == nil {
				f.Line = n
				t = t[:c]
			} else if i+1 < len(toks) {
				if lm := austinLine.FindStringSubmatch(toks[i+1]); lm != nil {
					f.Line, _ = strconv.Atoi(lm[1])
					i++
				}
			}
			if c := strings.LastIndexByte(t, ':'); c >= 0 {
				f.File, f.Name = t[:c], t[c+1:]
			} else {
				f.Name = t
			}
		}
		s.Frames = append(s.Frames, f)
	}
	return s, true
}

// trailingMetrics splits up to max space-separated metrics off the end of
// a line; each metric may be a comma-separated tuple (austin 3 full mode),
// whose values are all returned.
func trailingMetrics(l string, maxFields int) (string, []int64) {
	var fields []string
	for len(fields) < maxFields {
		i := strings.LastIndexByte(l, ' ')
		if i < 0 || !austinMetric.MatchString(l[i+1:]) {
			break
		}
		fields = append([]string{l[i+1:]}, fields...)
		l = l[:i]
	}
	var out []int64
	for _, f := range fields {
		for v := range strings.SplitSeq(f, ",") {
			n, _ := strconv.ParseInt(v, 10, 64)
			out = append(out, n)
		}
	}
	return l, out
}

// ansi matches the terminal escapes of austin's where mode.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

var (
	austinWhereHead  = regexp.MustCompile(`Process (\d+) .*Thread (?:\d+:)?(\d+)`)
	austinWhereFrame = regexp.MustCompile(`^\s+(.*) \((.*):(\d+)\)$`)
)

// parseAustinWhere parses the output of austin -w (3.3 and later): per
// thread a head "🚀 Process 42 🧵 Thread 0:43" (💤 for an idle thread, 🧒
// for a child process) and its frames, outermost first, one per line as
// "    func (file:line)", in terminal colours.
func parseAustinWhere(data []byte) *stacks {
	st := newStacks()
	st.trackLast = true
	var cur *sample
	flush := func() {
		if cur != nil {
			st.add(*cur)
		}
		cur = nil
	}
	for line := range bytes.Lines(data) {
		l := strings.TrimRight(ansi.ReplaceAllString(validUTF8(string(line)), ""), "\r\n")
		if m := austinWhereHead.FindStringSubmatch(l); m != nil {
			flush()
			cur = &sample{Count: 1, Thread: m[2], Idle: strings.Contains(l, "💤")}
			cur.Pid, _ = strconv.Atoi(m[1])
			continue
		}
		if cur == nil || strings.TrimSpace(l) == "" {
			continue
		}
		if m := austinWhereFrame.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[3])
			cur.Frames = append(cur.Frames, frame{Name: m[1], File: m[2], Line: n})
		} else {
			cur.Frames = append(cur.Frames, frame{Name: strings.TrimSpace(strings.TrimSuffix(l, "🐧"))})
		}
	}
	flush()
	return st
}
