package ctl

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// topStyles paints the live view; plain ones (--once) write no escape
// code at all.
type topStyles struct {
	plain  bool
	title  lipgloss.Style
	header lipgloss.Style
	dim    lipgloss.Style
	bad    lipgloss.Style
	warn   lipgloss.Style
	good   lipgloss.Style
	info   lipgloss.Style
}

// plainTopStyles are the styles of --once: text only.
func plainTopStyles() topStyles { return topStyles{plain: true} }

// colorTopStyles are the styles of the live view, in the 16 ANSI colours
// so that the terminal's theme decides the shades.
func colorTopStyles() topStyles {
	s := lipgloss.NewStyle()
	return topStyles{
		title:  s.Bold(true),
		header: s.Reverse(true),
		dim:    s.Faint(true),
		bad:    s.Foreground(lipgloss.Red).Bold(true),
		warn:   s.Foreground(lipgloss.Yellow),
		good:   s.Foreground(lipgloss.Green),
		info:   s.Foreground(lipgloss.Cyan),
	}
}

// paint renders text in style st, or leaves it as is when plain.
func (s topStyles) paint(st lipgloss.Style, text string) string {
	if s.plain || text == "" {
		return text
	}
	return st.Render(text)
}

// status is the style of an actor status.
func (s topStyles) status(name string) lipgloss.Style {
	switch name {
	case "FAILED", "TIMEOUT", "UNKNOWN":
		return s.bad
	case "STOPPING", "INITIALIZING":
		return s.warn
	case "RUNNING":
		return s.good
	case "STOPPED", "NOT_EXIST":
		return s.dim
	}
	return lipgloss.NewStyle()
}

// topColumn is one column of top's table; key is the sort key it shows.
type topColumn struct {
	title string
	key   string
	right bool
}

var (
	actorColumns = []topColumn{
		{title: "ID", key: "id"}, {title: "STATUS", key: "status"}, {title: "TYPE", key: "type"},
		{title: "QUEUE", key: "queue", right: true}, {title: "PID", key: "pid", right: true},
		{title: "RSS", key: "rss", right: true}, {title: "VM", key: "vm", right: true},
		{title: "GEN", key: "gen", right: true}, {title: "LAST FAILURE"},
	}
	fleetColumns = []topColumn{
		{title: "RANK", key: "rank", right: true}, {title: "ADDR", key: "addr"}, {title: "UP", key: "status"},
		{title: "VERSION", key: "version"}, {title: "ACTORS", key: "actors", right: true},
		{title: "BY STATUS", key: "failed"}, {title: "POISONED"}, {title: "QUEUE", key: "queue", right: true},
		{title: "RSS", key: "rss", right: true}, {title: "LABELS"}, {title: "ERROR"},
	}
)

// render draws the model: the header, the table (the rows that fit from
// the scroll position on, when the terminal's size is known) and, live,
// a footer with the keys.
func (m topModel) render(live bool) string {
	lines := m.headerLines()
	if m.frame != nil && (m.frame.Fleet || len(m.frame.Agents) == 1 && m.frame.Agents[0].Up) {
		table := m.tableLines(live)
		rows := table[1:]
		if live && m.height > 0 {
			rows = rows[min(m.offset, len(rows)):min(m.offset+m.pageRows(), len(rows))]
		}
		lines = append(lines, table[0])
		lines = append(lines, rows...)
	}
	if live {
		lines = append(lines, m.footer())
	}
	if m.width > 0 {
		for i, l := range lines {
			lines[i] = ansi.Truncate(l, m.width, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// headerLines are the lines above the table.
func (m topModel) headerLines() []string {
	st := m.styles
	title := st.paint(st.title, "procagent top") + "  " + m.source
	if m.frame == nil {
		return []string{title, "waiting for the first refresh…"}
	}
	f := m.frame
	title += "  " + f.Time.Format("15:04:05")
	if f.Fleet {
		return m.fleetHeader(title)
	}
	if len(f.Agents) != 1 {
		return []string{title}
	}
	a := &f.Agents[0]
	title += "  proc " + cell(a.ProcName) + "  version " + cell(a.Version)
	if !a.Up {
		return []string{title, st.paint(st.bad, "down: "+a.Err)}
	}
	stats := fmt.Sprintf("actors %d: %s  queue %d (max %d)  agent rss %s, vm %s",
		a.actorCount(), m.byStatus(a.ByStatus), a.QueueTotal, a.QueueMax, optHuman(a.RSS), optHuman(a.VM))
	if a.Poisoned {
		stats += "  " + st.paint(st.bad, fmt.Sprintf("POISONED (%d failed)", a.FailedActors))
	}
	lines := []string{title, stats}
	if a.QueueOmitted > 0 {
		lines = append(lines, st.paint(st.dim, fmt.Sprintf("%d live actors beyond the agent's actor series cap have no queue depth here", a.QueueOmitted)))
	}
	if a.Err != "" {
		lines = append(lines, st.paint(st.warn, "partly read: "+a.Err))
	}
	return lines
}

// fleetHeader is the fleet view's header: the fleet's totals.
func (m topModel) fleetHeader(title string) []string {
	st := m.styles
	var up, poisoned int
	var queue, rss uint64
	all := map[string]int{}
	for i := range m.frame.Agents {
		a := &m.frame.Agents[i]
		if !a.Up {
			continue
		}
		up++
		if a.Poisoned {
			poisoned++
		}
		queue += a.QueueTotal
		if a.RSS != nil {
			rss += *a.RSS
		}
		for s, n := range a.ByStatus {
			all[s] += n
		}
	}
	n := len(m.frame.Agents)
	health := fmt.Sprintf("%d agents: %d up", n, up)
	if down := n - up; down > 0 {
		health += ", " + st.paint(st.bad, fmt.Sprintf("%d down", down))
	}
	total := 0
	for _, c := range all {
		total += c
	}
	stats := fmt.Sprintf("actors %d: %s  queue %d  agents' rss %s", total, m.byStatus(all), queue, humanBytes(rss))
	if poisoned > 0 {
		stats += "  " + st.paint(st.bad, fmt.Sprintf("%d poisoned", poisoned))
	}
	return []string{title + "  " + health, stats}
}

// byStatus summarizes counts by status, in status order: "2 RUNNING, 1
// FAILED", or "none".
func (m topModel) byStatus(counts map[string]int) string {
	var parts []string
	for _, name := range statusNames() {
		if n := counts[name]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+m.styles.paint(m.styles.status(name), name))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// footer is the live view's last line: the rows shown, the sort and the
// keys.
func (m topModel) footer() string {
	n := m.rowCount()
	shown := fmt.Sprintf("rows %d-%d of %d", min(m.offset+1, n), min(m.offset+m.pageRows(), n), n)
	keys := fmt.Sprintf("sort %s%s (s/S key, r reverse)  ↑↓ PgUp PgDn scroll  q quit  every %v", m.sortKey().name, m.arrow(), m.interval)
	return m.styles.paint(m.styles.dim, shown+"  "+keys)
}

// arrow is the direction of the current sort.
func (m topModel) arrow() string {
	if m.sortKey().desc != m.reverse {
		return "↓"
	}
	return "↑"
}

// tableLines lays out the table: its header, then one line per row.
// Live, the sort column's title carries the direction.
func (m topModel) tableLines(live bool) []string {
	cols, rows, styleOf := m.actorTable()
	if m.frame.Fleet {
		cols, rows, styleOf = m.fleetTable()
	}
	widths := make([]int, len(cols))
	titles := make([]string, len(cols))
	for c, col := range cols {
		titles[c] = col.title
		if live && col.key == m.sortKey().name {
			titles[c] += m.arrow()
		}
		widths[c] = ansi.StringWidth(titles[c])
		for _, r := range rows {
			widths[c] = max(widths[c], ansi.StringWidth(r[c]))
		}
	}
	lines := make([]string, 0, len(rows)+1)
	header := joinCells(cols, widths, titles, nil)
	if live && m.width > ansi.StringWidth(header) {
		header += strings.Repeat(" ", m.width-ansi.StringWidth(header)) // the bar spans the terminal
	}
	lines = append(lines, m.styles.paint(m.styles.header, header))
	for i, r := range rows {
		lines = append(lines, joinCells(cols, widths, r, func(c int, s string) string { return m.styles.paint(styleOf(i, cols[c].title), s) }))
	}
	return lines
}

// joinCells pads each cell to its column's width and joins them with two
// spaces; paint, when set, styles each padded cell.
func joinCells(cols []topColumn, widths []int, cells []string, paint func(c int, s string) string) string {
	var b strings.Builder
	for c, text := range cells {
		if c > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", widths[c]-ansi.StringWidth(text))
		switch {
		case cols[c].right:
			text = pad + text
		case c < len(cells)-1:
			text += pad
		}
		if paint != nil {
			text = paint(c, text)
		}
		b.WriteString(text)
	}
	return strings.TrimRight(b.String(), " ")
}

// actorTable is the single view's table.
func (m topModel) actorTable() ([]topColumn, [][]string, func(r int, title string) lipgloss.Style) {
	var actors []topActor
	if len(m.frame.Agents) == 1 {
		actors = m.frame.Agents[0].Actors
	}
	rows := make([][]string, len(actors))
	for i := range actors {
		a := &actors[i]
		queue := "-"
		if a.Queue != nil {
			queue = formatUint(*a.Queue)
		}
		rows[i] = []string{a.ID, a.Status, cell(a.Type), queue, cell(formatPid(a.Pid)), optHuman(a.RSS), optHuman(a.VM),
			formatUint(a.Generation), cell(a.LastFailure)}
	}
	styleOf := func(r int, title string) lipgloss.Style {
		switch {
		case title == "STATUS":
			return m.styles.status(actors[r].Status)
		case title == "LAST FAILURE" && actors[r].LastFailure != "":
			return m.styles.bad
		}
		return lipgloss.NewStyle()
	}
	return actorColumns, rows, styleOf
}

// fleetTable is the fleet view's table; the LABELS column only when a
// target has labels.
func (m topModel) fleetTable() ([]topColumn, [][]string, func(r int, title string) lipgloss.Style) {
	agents := m.frame.Agents
	rows := make([][]string, len(agents))
	labels := false
	for i := range agents {
		labels = labels || len(agents[i].Labels) > 0
		a := &agents[i]
		rank := "-"
		if a.Rank != nil {
			rank = formatUint(*a.Rank)
		}
		row := []string{rank, a.Addr, "down", "-", "-", "-", "-", "-", "-", labelText(a.Labels), cell(a.Err)}
		if a.Up {
			row[2], row[3], row[4], row[5] = "up", cell(a.Version), strconv.Itoa(a.actorCount()), m.plainByStatus(a.ByStatus)
			row[6], row[7], row[8] = yesNo(a.Poisoned), formatUint(a.QueueTotal), optHuman(a.RSS)
		}
		rows[i] = row
	}
	styleOf := func(r int, title string) lipgloss.Style {
		switch {
		case title == "UP" && !agents[r].Up:
			return m.styles.bad
		case title == "UP":
			return m.styles.good
		case title == "POISONED" && agents[r].Poisoned:
			return m.styles.bad
		case title == "ERROR" && agents[r].Err != "":
			return m.styles.warn
		}
		return lipgloss.NewStyle()
	}
	cols := fleetColumns
	if !labels {
		labelCol := slices.IndexFunc(cols, func(c topColumn) bool { return c.title == "LABELS" })
		cols = slices.Delete(slices.Clone(cols), labelCol, labelCol+1)
		for i := range rows {
			rows[i] = slices.Delete(rows[i], labelCol, labelCol+1)
		}
	}
	return cols, rows, styleOf
}

// plainByStatus is byStatus without styles, for a table cell (whose width
// is measured before it is painted).
func (m topModel) plainByStatus(counts map[string]int) string {
	return topModel{styles: plainTopStyles()}.byStatus(counts)
}

// labelText formats labels as k=v pairs sorted by key; "-" when none.
func labelText(labels map[string]string) string {
	if len(labels) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return cell(strings.Join(parts, ","))
}

// optHuman formats an optional byte count; "-" when unknown.
func optHuman(n *uint64) string {
	if n == nil {
		return "-"
	}
	return humanBytes(*n)
}
