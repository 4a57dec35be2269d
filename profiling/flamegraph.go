package profiling

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"html"
	"slices"
	"strings"
)

// Geometry of the flame graph.
const (
	flameWidth   = 1200.0
	flameRow     = 17.0
	flameTop     = 36.0
	flameMinRect = 0.1 // px: narrower frames are not drawn
	flameCharPx  = 7.0 // approximate width of a 12 px monospace character
)

// flameNode is a node of the merged call tree.
type flameNode struct {
	name     string
	value    int64
	children []*flameNode
	index    map[string]*flameNode
}

func (n *flameNode) child(name string) *flameNode {
	if c, ok := n.index[name]; ok {
		return c
	}
	c := &flameNode{name: name, index: map[string]*flameNode{}}
	n.index[name] = c
	n.children = append(n.children, c)
	return c
}

// flameTree merges the stacks into a call tree weighted by samples, a
// process and a thread level above the frames when known, frames named
// "function (file:line)".
func flameTree(st *stacks) (*flameNode, int) {
	root := &flameNode{name: "all", index: map[string]*flameNode{}}
	depth := 0
	for _, s := range st.Samples {
		if len(s.Frames) == 0 {
			continue
		}
		path := make([]string, 0, len(s.Frames)+2)
		if s.Pid > 0 {
			path = append(path, fmt.Sprintf("process %d %s", s.Pid, s.Command))
		}
		if s.Thread != "" {
			path = append(path, strings.TrimSpace("thread "+s.Thread+" "+s.ThreadName))
		}
		for _, f := range s.Frames {
			path = append(path, f.label())
		}
		depth = max(depth, len(path))
		n := root
		n.value += s.Count
		for _, name := range path {
			n = n.child(name)
			n.value += s.Count
		}
	}
	return root, depth + 1
}

// renderFlamegraph draws the stacks as a self-contained SVG icicle graph:
// the root at the top, callees below their callers, each frame a rectangle
// as wide as its share of the samples, with a title (shown on hover) giving
// its name and samples. No script: any browser opens it.
func renderFlamegraph(st *stacks, title string) []byte {
	root, depth := flameTree(st)
	height := flameTop + float64(depth)*flameRow + 10
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8" standalone="no"?>`+"\n")
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n",
		flameWidth, height, flameWidth, height)
	fmt.Fprintf(&b, `<style>text{font-family:monospace;font-size:12px;fill:#000}rect{stroke:#fff;stroke-width:0.5}g:hover rect{stroke:#000}</style>`+"\n")
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#fdfdf5" stroke="none"/>`+"\n", flameWidth, height)
	fmt.Fprintf(&b, `<text x="%.0f" y="22" text-anchor="middle" style="font-size:16px">%s</text>`+"\n", flameWidth/2, html.EscapeString(title))
	if root.value > 0 {
		drawFlame(&b, root, root.value, 0, 0, flameWidth)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// drawFlame draws n at depth d spanning [x, x+w) and its children below.
func drawFlame(b *bytes.Buffer, n *flameNode, total int64, d int, x, w float64) {
	if w < flameMinRect {
		return
	}
	y := flameTop + float64(d)*flameRow
	pct := 100 * float64(n.value) / float64(total)
	name := html.EscapeString(n.name)
	fmt.Fprintf(b, `<g><title>%s (%d samples, %.2f%%)</title><rect x="%.2f" y="%.0f" width="%.2f" height="%.0f" rx="2" fill="%s"/>`,
		name, n.value, pct, x, y, w, flameRow-1, flameColor(n.name, d))
	if chars := int((w - 6) / flameCharPx); chars >= 3 {
		label := n.name
		if r := []rune(label); len(r) > chars {
			label = string(r[:chars-2]) + ".."
		}
		fmt.Fprintf(b, `<text x="%.2f" y="%.0f">%s</text>`, x+3, y+12, html.EscapeString(label))
	}
	b.WriteString("</g>\n")
	children := slices.Clone(n.children)
	slices.SortFunc(children, func(a, c *flameNode) int { return strings.Compare(a.name, c.name) })
	cx := x
	for _, c := range children {
		cw := w * float64(c.value) / float64(n.value)
		drawFlame(b, c, total, d+1, cx, cw)
		cx += cw
	}
}

// flameColor picks a warm colour from the frame's name, stable across
// renders; process and thread levels are grey-blue.
func flameColor(name string, depth int) string {
	if depth == 0 || strings.HasPrefix(name, "process ") || strings.HasPrefix(name, "thread ") {
		return "rgb(190,200,215)"
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	v := h.Sum32()
	return fmt.Sprintf("rgb(%d,%d,%d)", 205+v%50, 80+(v>>8)%130, 40+(v>>16)%50)
}
