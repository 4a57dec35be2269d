package profiling

import (
	"fmt"
	"slices"
)

// filterDumpThreads applies DumpOptions.GIL and Threads to a dump, in
// place, and returns the warnings they leave: austin cannot tell the GIL
// holder; a selection that matched no thread names the threads there were.
func filterDumpThreads(ok *Ok, kind string, opts DumpOptions) {
	if opts.GIL && kind == KindAustin {
		ok.Warnings = append(ok.Warnings, "austin does not report which thread holds the GIL: dumped every thread")
		opts.GIL = false
	}
	if !opts.GIL && len(opts.Threads) == 0 {
		return
	}
	var seen []uint64
	kept := 0
	for i := range ok.Processes {
		p := &ok.Processes[i]
		p.Threads = slices.DeleteFunc(p.Threads, func(t ThreadStack) bool {
			seen = append(seen, t.ID)
			keep := (!opts.GIL || t.OwnsGIL) &&
				(len(opts.Threads) == 0 || slices.Contains(opts.Threads, t.ID) || (t.NativeID != 0 && slices.Contains(opts.Threads, t.NativeID)))
			if keep {
				kept++
			}
			return !keep
		})
	}
	if kept == 0 {
		ok.Warnings = append(ok.Warnings, fmt.Sprintf("no thread matched the selection (gil %v, threads %v); threads sampled: %v", opts.GIL, opts.Threads, seen))
	}
}

// filterProfileThreads keeps the samples of the threads asked for, and
// returns a warning when none matched.
func filterProfileThreads(st *stacks, threads []uint64) (*stacks, []string) {
	if len(threads) == 0 {
		return st, nil
	}
	out := newStacks()
	out.HasTime, out.Meta, out.Skipped = st.HasTime, st.Meta, st.Skipped
	seen := map[uint64]bool{}
	for _, s := range st.Samples {
		id := parseThreadID(s.Thread)
		seen[id] = true
		if slices.Contains(threads, id) {
			out.add(*s)
		}
	}
	if out.empty() {
		ids := make([]uint64, 0, len(seen))
		for id := range seen {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return out, []string{fmt.Sprintf("no sample of threads %v; threads sampled: %v", threads, ids)}
	}
	return out, nil
}
