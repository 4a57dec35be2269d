package ctl

import (
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"
)

// topFrameMsg delivers a refresh to the live view.
type topFrameMsg struct{ frame topFrame }

// topModel is the live view's state: the latest frame, the sort, the
// scroll position and the terminal's size. Update is its only mutator and
// does no I/O: the frames come from a poller that top owns (top.go), so the
// model is tested without a terminal (top_model_test.go).
type topModel struct {
	frame    *topFrame // nil until the first refresh
	keys     []topSortKey
	sortIdx  int
	reverse  bool
	offset   int // first row shown
	width    int
	height   int
	interval time.Duration
	styles   topStyles
	source   string // what the header names: the address, or the targets spec
}

// newTopModel returns the model of a view (fleet or not) sorted by the
// key at sortIdx.
func newTopModel(fleet bool, sortIdx int, reverse bool, interval time.Duration, source string, styles topStyles) topModel {
	keys := actorSortKeys
	if fleet {
		keys = fleetSortKeys
	}
	return topModel{keys: keys, sortIdx: sortIdx, reverse: reverse, interval: interval, source: source, styles: styles}
}

// Init implements tea.Model: nothing to start, the poller sends frames.
func (m topModel) Init() tea.Cmd { return nil }

// Update implements tea.Model: frames replace the shown one, keys sort,
// scroll and quit, a resize re-lays the table.
func (m topModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case topFrameMsg:
		f := msg.frame
		m.frame = &f
		m.sortFrame()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		return m.key(msg.String())
	}
	m.offset = m.clampOffset(m.offset)
	return m, nil
}

// key handles one key press.
func (m topModel) key(k string) (tea.Model, tea.Cmd) {
	switch k {
	case "q", "Q", "ctrl+c", "esc":
		return m, tea.Quit
	case "s", ">", "tab":
		m.sortIdx = (m.sortIdx + 1) % len(m.keys)
		m.reverse = false
		m.sortFrame()
	case "S", "<", "shift+tab":
		m.sortIdx = (m.sortIdx + len(m.keys) - 1) % len(m.keys)
		m.reverse = false
		m.sortFrame()
	case "r":
		m.reverse = !m.reverse
		m.sortFrame()
	case "down", "j":
		m.offset++
	case "up", "k":
		m.offset--
	case "pgdown", "space", "f":
		m.offset += m.pageRows()
	case "pgup", "b":
		m.offset -= m.pageRows()
	case "home", "g":
		m.offset = 0
	case "end", "G":
		m.offset = m.rowCount()
	}
	m.offset = m.clampOffset(m.offset)
	return m, nil
}

// sortKey is the current sort key.
func (m topModel) sortKey() topSortKey { return m.keys[m.sortIdx] }

// sortFrame sorts the frame's rows by the current key. The frame is the
// model's own copy: the rows are cloned before they are sorted.
func (m *topModel) sortFrame() {
	if m.frame == nil {
		return
	}
	if m.frame.Fleet {
		m.frame.Agents = slices.Clone(m.frame.Agents)
		sortAgents(m.frame.Agents, m.sortKey(), m.reverse)
		return
	}
	if len(m.frame.Agents) == 1 {
		m.frame.Agents = slices.Clone(m.frame.Agents)
		m.frame.Agents[0].Actors = slices.Clone(m.frame.Agents[0].Actors)
		sortActors(m.frame.Agents[0].Actors, m.sortKey(), m.reverse)
	}
}

// rowCount is the number of table rows of the frame.
func (m topModel) rowCount() int {
	switch {
	case m.frame == nil:
		return 0
	case m.frame.Fleet:
		return len(m.frame.Agents)
	case len(m.frame.Agents) == 1:
		return len(m.frame.Agents[0].Actors)
	}
	return 0
}

// pageRows is how many table rows fit the terminal (all of them when its
// height is unknown).
func (m topModel) pageRows() int {
	if m.height <= 0 {
		return m.rowCount()
	}
	return max(m.height-len(m.headerLines())-2, 1) // the table's header and the footer
}

// clampOffset keeps the scroll position within the rows.
func (m topModel) clampOffset(off int) int {
	return max(min(off, m.rowCount()-m.pageRows()), 0)
}

// View implements tea.Model: the frame on the alternate screen.
func (m topModel) View() tea.View {
	v := tea.NewView(m.render(true))
	v.AltScreen = true
	return v
}
