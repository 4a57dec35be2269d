package ctl

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"
)

// The plain frame (--once) of one agent: every actor, sorted by status,
// no escape code.
func TestTopRenderActorsPlain(t *testing.T) {
	m := withFrame(t, newTopModel(false, 0, false, time.Second, "127.0.0.1:9464", plainTopStyles()), actorFrame())
	want := strings.Join([]string{
		"procagent top  127.0.0.1:9464  12:03:04  proc host-42  version v1.2.3",
		"actors 7: 4 RUNNING, 1 STOPPED, 2 FAILED  queue 12 (max 9)  agent rss 24.0 MiB, vm 1.7 GiB  POISONED (1 failed)",
		"ID         STATUS   TYPE   QUEUE   PID        RSS         VM  GEN  LAST FAILURE",
		"c-bad      FAILED   fail       -     -          -          -    2  boom",
		"f-refused  FAILED   echo       -     -          -          -    1  proc is poisoned",
		"a-echo     RUNNING  echo       0     -          -          -    1  -",
		"b-worker   RUNNING  exec       3  4242  300.0 MiB  900.0 MiB    1  -",
		"d-sleep    RUNNING  sleep      9     -          -          -    1  -",
		"g-small    RUNNING  exec       0    77    2.0 MiB    3.0 MiB    5  -",
		"e-done     STOPPED  echo       -     -          -          -    3  -",
	}, "\n")
	if diff := cmp.Diff(want, m.render(false)); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}
}

// The plain frame of a fleet: down and poisoned agents first, the labels
// column only because a target has labels.
func TestTopRenderFleetPlain(t *testing.T) {
	m := withFrame(t, newTopModel(true, 0, false, time.Second, "fleet hosts.txt", plainTopStyles()), fleetFrame())
	want := strings.Join([]string{
		"procagent top  fleet hosts.txt  12:03:04  4 agents: 3 up, 1 down",
		"actors 15: 14 RUNNING, 1 FAILED  queue 55  agents' rss 90.0 MiB  1 poisoned",
		"RANK  ADDR           UP    VERSION  ACTORS  BY STATUS            POISONED  QUEUE       RSS  LABELS         ERROR",
		"   2  10.0.0.3:9464  down  -             -  -                    -             -         -  -              unavailable: connection refused",
		"   1  10.0.0.2:9464  up    v1            2  1 RUNNING, 1 FAILED  yes           0  20.0 MiB  host=b,zone=x  -",
		"   0  10.0.0.1:9464  up    v1            3  3 RUNNING            no            5  30.0 MiB  -              -",
		"   -  10.0.0.4:9464  up    v2           10  10 RUNNING           no           50  40.0 MiB  -              -",
	}, "\n")
	if diff := cmp.Diff(want, m.render(false)); diff != "" {
		t.Errorf("render (-want +got):\n%s", diff)
	}

	f := fleetFrame()
	f.Agents[1].Labels = nil
	if got := withFrame(t, m, f).render(false); strings.Contains(got, "LABELS") {
		t.Errorf("a fleet without labels has a LABELS column:\n%s", got)
	}
}

// Live, in a terminal of known size: the colours, the rows that fit from
// the scroll position, the sort arrow, the footer, and no line wider than
// the terminal.
func TestTopRenderLive(t *testing.T) {
	m := withFrame(t, newTopModel(false, 0, false, time.Second, "127.0.0.1:9464", colorTopStyles()), actorFrame())
	next, _ := m.Update(tea.WindowSizeMsg{Width: 60, Height: 8})
	m, _ = press(t, next.(topModel), key('j'))
	got := m.render(true)
	if !strings.Contains(got, "\x1b[") {
		t.Errorf("the live view has no escape code: no colours")
	}
	lines := strings.Split(got, "\n")
	if len(lines) != 8 {
		t.Errorf("the live view has %d lines in a terminal of 8:\n%s", len(lines), got)
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 60 {
			t.Errorf("line of width %d in a terminal of 60: %q", w, ansi.Strip(l))
		}
	}
	plain := ansi.Strip(got)
	for _, want := range []string{"STATUS↑", "rows 2-5 of 7", "sort status↑"} {
		if !strings.Contains(plain, want) {
			t.Errorf("the live view lacks %q:\n%s", want, plain)
		}
	}
	var ids []string
	for _, l := range strings.Split(plain, "\n")[3:7] {
		ids = append(ids, strings.Fields(l)[0])
	}
	if diff := cmp.Diff([]string{"f-refused", "a-echo", "b-worker", "d-sleep"}, ids); diff != "" {
		t.Errorf("rows shown after scrolling one down (-want +got):\n%s", diff)
	}
	m, _ = press(t, m, key('r'))
	if plain := ansi.Strip(m.render(true)); !strings.Contains(plain, "STATUS↓") {
		t.Errorf("reversed, the sort column does not say so:\n%s", plain)
	}
}

// What the view says before the first frame, for an agent that is down,
// and for one read in part.
func TestTopRenderStates(t *testing.T) {
	m := newTopModel(false, 0, false, time.Second, "127.0.0.1:9", plainTopStyles())
	if got := m.render(false); !strings.Contains(got, "waiting for the first refresh") {
		t.Errorf("before the first frame:\n%s", got)
	}
	down := topFrame{Time: time.Now(), Agents: []topAgent{{Addr: "127.0.0.1:9", Err: "unavailable: connection refused"}}}
	got := withFrame(t, m, down).render(false)
	if !strings.Contains(got, "down: unavailable: connection refused") || strings.Contains(got, "STATUS") {
		t.Errorf("an agent that is down: want the error and no table:\n%s", got)
	}
	partial := actorFrame()
	partial.Agents[0].Err = errNoMetrics.Error()
	partial.Agents[0].QueueOmitted = 4
	got = withFrame(t, m, partial).render(false)
	for _, want := range []string{"partly read: /metrics is not served", "4 live actors beyond the agent's actor series cap"} {
		if !strings.Contains(got, want) {
			t.Errorf("a partly read agent: no %q:\n%s", want, got)
		}
	}
}

func TestTopHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 24 << 20: "24.0 MiB", 3 << 40: "3.0 TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
