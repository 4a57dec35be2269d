package ctl

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

// actorFrame is a single-agent frame of seven actors, in List's order.
func actorFrame() topFrame {
	return topFrame{
		Time: time.Date(2026, 5, 1, 12, 3, 4, 0, time.Local),
		Agents: []topAgent{{
			Addr: "127.0.0.1:9464", Up: true, Version: "v1.2.3", ProcName: "host-42", Poisoned: true, FailedActors: 1,
			ByStatus:   map[string]int{"RUNNING": 4, "FAILED": 2, "STOPPED": 1},
			QueueTotal: 12, QueueMax: 9, RSS: ptr[uint64](24 << 20), VM: ptr[uint64](1700 << 20),
			Actors: []topActor{
				{ID: "a-echo", Status: "RUNNING", Type: "echo", Generation: 1, Queue: ptr[uint64](0)},
				{ID: "b-worker", Status: "RUNNING", Type: "exec", Generation: 1, Queue: ptr[uint64](3), Pid: 4242, RSS: ptr[uint64](300 << 20), VM: ptr[uint64](900 << 20)},
				{ID: "c-bad", Status: "FAILED", Type: "fail", Generation: 2, LastFailure: "boom"},
				{ID: "d-sleep", Status: "RUNNING", Type: "sleep", Generation: 1, Queue: ptr[uint64](9)},
				{ID: "e-done", Status: "STOPPED", Type: "echo", Generation: 3},
				{ID: "f-refused", Status: "FAILED", Type: "echo", Generation: 1, LastFailure: "proc is poisoned"},
				{ID: "g-small", Status: "RUNNING", Type: "exec", Generation: 5, Queue: ptr[uint64](0), Pid: 77, RSS: ptr[uint64](2 << 20), VM: ptr[uint64](3 << 20)},
			},
		}},
	}
}

// fleetFrame is a fleet of four agents, in the targets' order: rank 2 is
// down, rank 1 poisoned, rank 3 has no rank.
func fleetFrame() topFrame {
	return topFrame{
		Time: time.Date(2026, 5, 1, 12, 3, 4, 0, time.Local), Fleet: true,
		Agents: []topAgent{
			{Addr: "10.0.0.1:9464", Rank: ptr[uint64](0), Up: true, Version: "v1", ByStatus: map[string]int{"RUNNING": 3}, QueueTotal: 5, RSS: ptr[uint64](30 << 20)},
			{Addr: "10.0.0.2:9464", Rank: ptr[uint64](1), Up: true, Version: "v1", Poisoned: true, FailedActors: 1,
				ByStatus: map[string]int{"RUNNING": 1, "FAILED": 1}, RSS: ptr[uint64](20 << 20), Labels: map[string]string{"host": "b", "zone": "x"}},
			{Addr: "10.0.0.3:9464", Rank: ptr[uint64](2), Err: "unavailable: connection refused"},
			{Addr: "10.0.0.4:9464", Up: true, Version: "v2", ByStatus: map[string]int{"RUNNING": 10}, QueueTotal: 50, RSS: ptr[uint64](40 << 20)},
		},
	}
}

// withFrame is m after it received f.
func withFrame(t *testing.T, m topModel, f topFrame) topModel {
	t.Helper()
	next, cmd := m.Update(topFrameMsg{frame: f})
	if cmd != nil {
		t.Fatalf("a frame returned a command")
	}
	return next.(topModel)
}

// press is m after the key k.
func press(t *testing.T, m topModel, k tea.KeyPressMsg) (topModel, tea.Cmd) {
	t.Helper()
	next, cmd := m.Update(k)
	return next.(topModel), cmd
}

func key(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

func actorIDs(m topModel) []string {
	var ids []string
	for _, a := range m.frame.Agents[0].Actors {
		ids = append(ids, a.ID)
	}
	return ids
}

func agentAddrs(m topModel) []string {
	var addrs []string
	for _, a := range m.frame.Agents {
		addrs = append(addrs, a.Addr)
	}
	return addrs
}

func TestTopSortActors(t *testing.T) {
	tests := []struct {
		key     string
		reverse bool
		want    []string
	}{
		{key: "status", want: []string{"c-bad", "f-refused", "a-echo", "b-worker", "d-sleep", "g-small", "e-done"}},
		{key: "status", reverse: true, want: []string{"e-done", "a-echo", "b-worker", "d-sleep", "g-small", "c-bad", "f-refused"}},
		{key: "id", reverse: true, want: []string{"g-small", "f-refused", "e-done", "d-sleep", "c-bad", "b-worker", "a-echo"}},
		{key: "type", want: []string{"a-echo", "e-done", "f-refused", "b-worker", "g-small", "c-bad", "d-sleep"}},
		// Unknown depths (not live) sort below every known one.
		{key: "queue", want: []string{"d-sleep", "b-worker", "a-echo", "g-small", "c-bad", "e-done", "f-refused"}},
		{key: "queue", reverse: true, want: []string{"c-bad", "e-done", "f-refused", "a-echo", "g-small", "b-worker", "d-sleep"}},
		{key: "rss", want: []string{"b-worker", "g-small", "a-echo", "c-bad", "d-sleep", "e-done", "f-refused"}},
		{key: "gen", want: []string{"g-small", "e-done", "c-bad", "a-echo", "b-worker", "d-sleep", "f-refused"}},
		{key: "pid", want: []string{"a-echo", "c-bad", "d-sleep", "e-done", "f-refused", "g-small", "b-worker"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			idx, ok := sortKeyIndex(actorSortKeys, tt.key)
			if !ok {
				t.Fatalf("no sort key %q", tt.key)
			}
			m := withFrame(t, newTopModel(false, idx, tt.reverse, time.Second, "x", plainTopStyles()), actorFrame())
			if diff := cmp.Diff(tt.want, actorIDs(m)); diff != "" {
				t.Errorf("order by %s (reverse %v) (-want +got):\n%s", tt.key, tt.reverse, diff)
			}
		})
	}
}

func TestTopSortFleet(t *testing.T) {
	tests := []struct {
		key  string
		want []string
	}{
		// Down, then poisoned, then the healthy by rank; no rank last.
		{key: "status", want: []string{"10.0.0.3:9464", "10.0.0.2:9464", "10.0.0.1:9464", "10.0.0.4:9464"}},
		{key: "rank", want: []string{"10.0.0.1:9464", "10.0.0.2:9464", "10.0.0.3:9464", "10.0.0.4:9464"}},
		{key: "version", want: []string{"10.0.0.3:9464", "10.0.0.1:9464", "10.0.0.2:9464", "10.0.0.4:9464"}},
		{key: "actors", want: []string{"10.0.0.4:9464", "10.0.0.1:9464", "10.0.0.2:9464", "10.0.0.3:9464"}},
		{key: "failed", want: []string{"10.0.0.2:9464", "10.0.0.1:9464", "10.0.0.3:9464", "10.0.0.4:9464"}},
		{key: "queue", want: []string{"10.0.0.4:9464", "10.0.0.1:9464", "10.0.0.2:9464", "10.0.0.3:9464"}},
		{key: "rss", want: []string{"10.0.0.4:9464", "10.0.0.1:9464", "10.0.0.2:9464", "10.0.0.3:9464"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			idx, ok := sortKeyIndex(fleetSortKeys, tt.key)
			if !ok {
				t.Fatalf("no sort key %q", tt.key)
			}
			m := withFrame(t, newTopModel(true, idx, false, time.Second, "x", plainTopStyles()), fleetFrame())
			if diff := cmp.Diff(tt.want, agentAddrs(m)); diff != "" {
				t.Errorf("order by %s (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

// The model sorts its own copy: the poller's frame keeps List's order.
func TestTopModelKeepsFrame(t *testing.T) {
	f := actorFrame()
	m := withFrame(t, newTopModel(false, 0, false, time.Second, "x", plainTopStyles()), f)
	if got := f.Agents[0].Actors[0].ID; got != "a-echo" {
		t.Errorf("the frame's first actor is %q after the model sorted: the model sorted the poller's frame", got)
	}
	if got := actorIDs(m)[0]; got != "c-bad" {
		t.Errorf("the model's first actor is %q, want c-bad", got)
	}
}

func TestTopModelKeys(t *testing.T) {
	m := withFrame(t, newTopModel(false, 0, false, time.Second, "x", plainTopStyles()), actorFrame())

	m, _ = press(t, m, key('s'))
	if m.sortKey().name != "id" || actorIDs(m)[0] != "a-echo" {
		t.Errorf("after s: sort %s, first %s; want id, a-echo", m.sortKey().name, actorIDs(m)[0])
	}
	m, _ = press(t, m, key('r'))
	if !m.reverse || actorIDs(m)[0] != "g-small" {
		t.Errorf("after r: reverse %v, first %s; want reversed, g-small", m.reverse, actorIDs(m)[0])
	}
	m, _ = press(t, m, key('s'))
	if m.sortKey().name != "type" || m.reverse {
		t.Errorf("after s: sort %s reverse %v; want type, not reversed", m.sortKey().name, m.reverse)
	}
	m, _ = press(t, m, key('S'))
	m, _ = press(t, m, key('S'))
	if m.sortKey().name != "status" {
		t.Errorf("after S S: sort %s, want status", m.sortKey().name)
	}
	m, _ = press(t, m, key('S'))
	if m.sortKey().name != "pid" {
		t.Errorf("S from the first key: sort %s, want the last, pid", m.sortKey().name)
	}
	m, cmd := press(t, m, key('x'))
	if cmd != nil || m.sortKey().name != "pid" {
		t.Errorf("an unbound key changed the model or returned a command")
	}

	for _, k := range []tea.KeyPressMsg{key('q'), {Code: 'c', Mod: tea.ModCtrl}, {Code: tea.KeyEscape}} {
		_, cmd := press(t, m, k)
		if cmd == nil {
			t.Errorf("%s: no command, want quit", k)
			continue
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s: command returned %T, want tea.QuitMsg", k, cmd())
		}
	}
}

func TestTopModelScroll(t *testing.T) {
	m := withFrame(t, newTopModel(false, 1, false, time.Second, "x", plainTopStyles()), actorFrame())
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 7})
	m = next.(topModel)
	// 7 lines: the header's 2, the table's header and the footer leave 3 rows.
	if got := m.pageRows(); got != 3 {
		t.Fatalf("pageRows = %d, want 3", got)
	}
	steps := []struct {
		key  tea.KeyPressMsg
		want int
	}{
		{key('j'), 1}, {tea.KeyPressMsg{Code: tea.KeyDown}, 2}, {key('j'), 3}, {key('j'), 4},
		{key('j'), 4}, // 7 rows, 3 shown: 4 is the last offset
		{key('k'), 3}, {tea.KeyPressMsg{Code: tea.KeyHome}, 0}, {tea.KeyPressMsg{Code: tea.KeyUp}, 0},
		{tea.KeyPressMsg{Code: tea.KeyPgDown}, 3}, {tea.KeyPressMsg{Code: tea.KeyPgUp}, 0}, {key('G'), 4}, {key('g'), 0},
	}
	for i, s := range steps {
		m, _ = press(t, m, s.key)
		if m.offset != s.want {
			t.Fatalf("step %d (%s): offset %d, want %d", i, s.key, m.offset, s.want)
		}
	}
	m, _ = press(t, m, key('G'))
	next, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 9})
	if got := next.(topModel).offset; got != 2 {
		t.Errorf("offset after growing the terminal by 2 rows = %d, want 2", got)
	}
	// A frame with fewer rows pulls the offset back.
	short := actorFrame()
	short.Agents[0].Actors = short.Agents[0].Actors[:2]
	if got := withFrame(t, m, short).offset; got != 0 {
		t.Errorf("offset after a frame of 2 rows = %d, want 0", got)
	}
}

func TestTopModelInit(t *testing.T) {
	m := newTopModel(true, 0, false, time.Second, "x", plainTopStyles())
	if m.Init() != nil {
		t.Error("Init returned a command: the poller, not the model, starts the refreshes")
	}
	if m.rowCount() != 0 || m.clampOffset(5) != 0 {
		t.Errorf("before the first frame: %d rows, offset 5 clamped to %d", m.rowCount(), m.clampOffset(5))
	}
	if v := m.View(); !v.AltScreen {
		t.Error("the live view is not on the alternate screen")
	}
}
