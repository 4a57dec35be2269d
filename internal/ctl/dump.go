package ctl

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// writeDump writes a dump's stacks for people: per process its threads,
// per thread its frames innermost first as "func (file:line)", with locals
// below their frame.
func writeDump(w io.Writer, ok *procagentv1.PySpyOk) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sampled pid %d with %s (%s)\n", ok.GetPid(), ok.GetBinary(), ok.GetPath())
	for _, p := range ok.GetProcesses() {
		fmt.Fprintf(&b, "\nprocess %d: %s\n", p.GetPid(), oneLine(p.GetCommand(), 100))
		for _, t := range p.GetThreads() {
			fmt.Fprintf(&b, "  thread %s%s%s\n", threadID(t), threadName(t.GetName()), threadState(t))
			for _, f := range t.GetFrames() {
				fmt.Fprintf(&b, "    %s\n", formatFrame(f))
				for _, k := range slices.Sorted(maps.Keys(f.GetLocals())) {
					fmt.Fprintf(&b, "        %s = %s\n", k, f.GetLocals()[k])
				}
			}
		}
	}
	for _, warn := range ok.GetWarnings() {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// threadID is the OS thread id, else the Python one in hex.
func threadID(t *procagentv1.ThreadStack) string {
	if t.GetNativeId() != 0 {
		return formatUint(t.GetNativeId())
	}
	return fmt.Sprintf("%#x", t.GetId())
}

// threadName is the thread's name quoted after a space; "" when unnamed.
func threadName(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}

// threadState is " (active, gil)", " (idle)", ...
func threadState(t *procagentv1.ThreadStack) string {
	state := "idle"
	if t.GetActive() {
		state = "active"
	}
	if t.GetOwnsGil() {
		state += ", gil"
	}
	return " (" + state + ")"
}

// formatFrame formats a frame as "func (file:line)"; a native frame without a
// file names its module.
func formatFrame(f *procagentv1.Frame) string {
	where := f.GetFile()
	switch {
	case where == "":
		where = f.GetModule()
	case f.GetLine() > 0:
		where = fmt.Sprintf("%s:%d", where, f.GetLine())
	}
	if where == "" {
		return f.GetName()
	}
	return fmt.Sprintf("%s (%s)", f.GetName(), where)
}

// oneLine shortens a command line to its first line and at most n runes,
// marking what it cut with "…" (a `python -c` script spans many lines).
func oneLine(s string, n int) string {
	first, _, cut := strings.Cut(s, "\n")
	if r := []rune(first); len(r) > n {
		first, cut = string(r[:n]), true
	}
	if cut {
		first = strings.TrimRight(first, " ") + " …"
	}
	return first
}
