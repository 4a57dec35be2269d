package profiling

import "github.com/procagent/procagent/internal/osproc"

// procRoot is the procfs of the processes the samplers attach to. It is
// always the real one: py-spy and austin sample real pids, so a tree read
// from any other root would name processes they cannot read. The readers,
// which take the root, are tested on fixtures in internal/osproc.
const procRoot = osproc.DefaultRoot

// descendants returns the descendants of pid under the procfs at root,
// breadth first (osproc.Descendants); none when the tree cannot be read.
func descendants(root string, pid int) []int {
	pids, err := osproc.Descendants(root, pid)
	if err != nil {
		return nil
	}
	return pids
}

// command names pid in a dump or a profile: its command line, or its comm
// in brackets (osproc.Command), made safe to return; "" when unreadable.
func command(root string, pid int) string {
	c, err := osproc.Command(root, pid)
	if err != nil {
		return ""
	}
	return clean(c)
}
