package osproc

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"

	"github.com/prometheus/procfs"
)

// maxDescendants bounds the processes a tree walk returns.
const maxDescendants = 1024

// Descendants returns the descendants of pid under the procfs at root,
// breadth first: the children each of its threads started
// (<root>/<pid>/task/<tid>/children), recursively, each once and at most
// 1024 of them. A process that cannot be read (gone, not permitted)
// contributes none: the tree of a live process changes under the walk. The
// error is for a root that cannot be opened.
func Descendants(root string, pid int) ([]int, error) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return nil, fmt.Errorf("proc root %q: %w", root, err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("proc root %q: %w", root, err)
	}
	defer func() { _ = r.Close() }()
	seen := map[int]bool{pid: true}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 && len(out) < maxDescendants {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children(fs, r, p) {
			if seen[c] || len(out) >= maxDescendants {
				continue
			}
			seen[c] = true
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out, nil
}

// children reads the direct children of pid from all its threads, in
// thread order. procfs lists the threads; it has no reader of their
// children files, which are read here.
func children(fs procfs.FS, r *os.Root, pid int) []int {
	threads, err := fs.AllThreads(pid)
	if err != nil {
		return nil
	}
	sort.Sort(threads)
	dir := strconv.Itoa(pid)
	var out []int
	for _, t := range threads {
		b, err := r.ReadFile(path.Join(dir, "task", strconv.Itoa(t.PID), "children"))
		if err != nil {
			continue
		}
		out = append(out, parseChildren(b)...)
	}
	return out
}

// parseChildren parses a task's children file: positive pids separated by
// spaces. Anything else in it is skipped.
func parseChildren(b []byte) []int {
	var out []int
	for _, f := range bytes.Fields(b) {
		if p, err := strconv.Atoi(string(f)); err == nil && p > 0 {
			out = append(out, p)
		}
	}
	return out
}
