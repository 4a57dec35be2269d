package osproc

import (
	"fmt"
	"strings"

	"github.com/prometheus/procfs"
)

// Matching returns the live processes under the procfs at root, in pid
// order, whose command line holds substr in some argument: the way a test or
// the soak finds every process it started by a marker it put in their argv.
// Zombies (and dead ones) are left out: they run nothing and are the
// parent's to reap. A process that goes away during the scan is skipped;
// the error is for a root that cannot be listed.
func Matching(root, substr string) ([]int, error) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return nil, fmt.Errorf("proc root %q: %w", root, err)
	}
	procs, err := fs.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("proc root %q: %w", root, err)
	}
	var out []int
	for _, p := range procs {
		args, err := p.CmdLine()
		if err != nil || !strings.Contains(strings.Join(args, "\x00"), substr) {
			continue
		}
		st, err := p.Stat()
		if err != nil || st.State == "Z" || st.State == "X" {
			continue
		}
		out = append(out, p.PID)
	}
	return out, nil
}
