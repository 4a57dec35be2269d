package profiling

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"strconv"
)

// procRoot is the procfs the process tree is read from; tests pass
// testdata/proc to the readers instead.
const procRoot = "/proc"

// maxTree bounds the processes a tree walk returns.
const maxTree = 1024

// descendants returns the descendants of pid under the procfs at root,
// breadth first: the children each of its threads started
// (<root>/<pid>/task/<tid>/children), recursively. An unreadable process
// contributes none.
func descendants(root string, pid int) []int {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil
	}
	defer func() { _ = r.Close() }()
	seen := map[int]bool{pid: true}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 && len(out) < maxTree {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children(r, p) {
			if seen[c] || len(out) >= maxTree {
				continue
			}
			seen[c] = true
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// children reads the direct children of pid from all its threads.
func children(r *os.Root, pid int) []int {
	fsys := r.FS()
	tasks, err := fs.Glob(fsys, path.Join(strconv.Itoa(pid), "task", "*", "children"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range tasks {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			continue
		}
		out = append(out, parseChildren(b)...)
	}
	return out
}

// parseChildren parses a task's children file: pids separated by spaces.
func parseChildren(b []byte) []int {
	var out []int
	for _, f := range bytes.Fields(b) {
		if p, err := strconv.Atoi(string(f)); err == nil && p > 0 {
			out = append(out, p)
		}
	}
	return out
}

// command reads pid's command line under the procfs at root (arguments
// joined by spaces), or its comm in brackets when the command line is
// empty (a kernel thread, a zombie); "" when unreadable.
func command(root string, pid int) string {
	r, err := os.OpenRoot(root)
	if err != nil {
		return ""
	}
	defer func() { _ = r.Close() }()
	dir := strconv.Itoa(pid)
	if b, err := r.ReadFile(path.Join(dir, "cmdline")); err == nil {
		if c := parseCmdline(b); c != "" {
			return c
		}
	}
	if b, err := r.ReadFile(path.Join(dir, "comm")); err == nil {
		return "[" + clean(string(b)) + "]"
	}
	return ""
}

// parseCmdline joins a NUL-separated command line with spaces.
func parseCmdline(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	return clean(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}
