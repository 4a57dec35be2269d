package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"github.com/procagent/procagent/internal/testenv"
)

// topFrame is the part of `agent ctl -o json top --once` these tests read.
type topFrame struct {
	Fleet  bool `json:"fleet"`
	Agents []struct {
		Addr     string         `json:"addr"`
		Up       bool           `json:"up"`
		Version  string         `json:"version"`
		Poisoned bool           `json:"poisoned"`
		ByStatus map[string]int `json:"by_status"`
		RSS      uint64         `json:"rss_bytes"`
		Err      string         `json:"error"`
		Actors   []struct {
			ID          string  `json:"id"`
			Status      string  `json:"status"`
			Queue       *uint64 `json:"queue_depth"`
			Pid         int64   `json:"pid"`
			RSS         uint64  `json:"rss_bytes"`
			VM          uint64  `json:"vm_bytes"`
			LastFailure string  `json:"last_failure"`
		} `json:"actors"`
	} `json:"agents"`
}

// topJSON runs `agent ctl -o json top --once` against a.
func (a *servedAgent) topJSON(t *testing.T, args ...string) topFrame {
	t.Helper()
	out := a.mustCtl(t, append([]string{"-o", "json", "top", "--once"}, args...)...)
	var f topFrame
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("top -o json: %v\n%s", err, out)
	}
	return f
}

// One frame of the real agent through the real binary: a process actor's
// pid and memory and a sleep actor's queue (from the agent's /metrics), the
// version, a failed actor's reason (GetState), the poisoned proc
// (QueryChild).
func TestE2ETopOnce(t *testing.T) {
	a := startAgent(t)
	a.mustCtl(t, "create", "nap", "exec", "--params", `{"argv":["sleep","30"]}`)
	a.mustCtl(t, "create", "slow", "sleep", "--params", `{"ms":3000}`)
	for range 3 {
		a.mustCtl(t, "send", "slow", `{}`)
	}
	a.mustCtl(t, "create", "bad", "fail")
	if _, code := a.ctl(t, "send", "bad", `{"fail":"on purpose"}`, "--wait"); code == 0 {
		t.Fatal("a failing send exited 0")
	}
	a.mustCtl(t, "wait", "bad", "--min", "STOPPED")

	var f topFrame
	testenv.Eventually(t, "the exec actor's memory in top's frame", func() bool {
		f = a.topJSON(t)
		for _, act := range f.Agents[0].Actors {
			if act.ID == "nap" {
				return act.Pid > 0 && act.RSS > 0 && act.VM >= act.RSS
			}
		}
		return false
	})
	ag := f.Agents[0]
	if f.Fleet || !ag.Up || ag.Version != "dev" || !ag.Poisoned || ag.RSS == 0 || ag.Err != "" {
		t.Errorf("agent = %+v, want up, version dev, poisoned, its RSS, no error", ag)
	}
	for _, act := range ag.Actors {
		switch act.ID {
		case "slow":
			if act.Queue == nil || *act.Queue < 1 {
				t.Errorf("slow's queue = %v, want the messages waiting behind the one it sleeps on", act.Queue)
			}
		case "bad":
			if act.Status != "FAILED" || act.LastFailure != "on purpose" {
				t.Errorf("bad = %+v, want FAILED with its reason", act)
			}
		}
	}

	out := a.mustCtl(t, "top", "--once", "--sort", "rss")
	if strings.Contains(out, "\x1b") {
		t.Errorf("top --once wrote an escape code:\n%q", out)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[3], "nap ") || !strings.Contains(lines[3], "iB") {
		t.Errorf("top --once --sort rss: want the exec actor first, with its memory:\n%s", out)
	}
}

// A fleet through the real binary: two agents and an address where none
// listens, from a file_sd inventory; each row says up or down, the
// version, the actors by status and the poisoned proc.
func TestE2ETopFleet(t *testing.T) {
	healthy, poisoned := startAgent(t), startAgent(t)
	healthy.mustCtl(t, "create", "w1", "echo")
	poisoned.mustCtl(t, "create", "bad", "fail")
	if _, code := poisoned.ctl(t, "send", "bad", `{"fail":"on purpose"}`, "--wait"); code == 0 {
		t.Fatal("a failing send exited 0")
	}
	poisoned.mustCtl(t, "wait", "bad", "--min", "STOPPED")
	down := testenv.FreeAddr(t)
	inventory := filepath.Join(t.TempDir(), "agents.yml")
	doc := fmt.Sprintf("- targets: [%q]\n  labels: {zone: a}\n- targets: [%q, %q]\n  labels: {zone: b}\n", healthy.addr, poisoned.addr, down)
	if err := os.WriteFile(inventory, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}

	f := healthy.topJSON(t, "--targets", inventory, "--sort", "rank", "--target-timeout", "5s")
	if !f.Fleet || len(f.Agents) != 3 {
		t.Fatalf("frame = %+v, want a fleet of 3", f)
	}
	h, p, d := f.Agents[0], f.Agents[1], f.Agents[2]
	if h.Addr != healthy.addr || !h.Up || h.Version != "dev" || h.Poisoned || h.ByStatus["RUNNING"] != 1 || h.RSS == 0 {
		t.Errorf("healthy agent = %+v", h)
	}
	if p.Addr != poisoned.addr || !p.Up || p.Version != "dev" || !p.Poisoned || p.ByStatus["FAILED"] != 1 {
		t.Errorf("poisoned agent = %+v", p)
	}
	if d.Addr != down || d.Up || !strings.Contains(d.Err, "unavailable") {
		t.Errorf("agent at %s = %+v, want down", down, d)
	}
	out := healthy.mustCtl(t, "top", "--once", "--targets", inventory)
	for _, want := range []string{"3 agents: 2 up, 1 down", "zone=b", "1 poisoned"} {
		if !strings.Contains(out, want) {
			t.Errorf("fleet frame lacks %q:\n%s", want, out)
		}
	}
}

// ptyScreen is what a program shows in a pseudo-terminal, as a terminal
// emulator draws it from the program's output; the emulator's answers to
// the program's queries go back as the program's input, as a terminal's do.
type ptyScreen struct {
	ptmx      *os.File
	mu        sync.Mutex // guards emu's screen
	emu       *vt.Emulator
	outDone   chan struct{}
	replyDone chan struct{}
}

// newPtyScreen starts drawing ptmx's output on a w×h screen.
func newPtyScreen(ptmx *os.File, w, h int) *ptyScreen {
	s := &ptyScreen{ptmx: ptmx, emu: vt.NewEmulator(w, h), outDone: make(chan struct{}), replyDone: make(chan struct{})}
	go func() {
		defer close(s.outDone)
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			s.mu.Lock()
			_, _ = s.emu.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return // the program exited, or ptmx was closed
			}
		}
	}()
	go func() {
		defer close(s.replyDone)
		_, _ = io.Copy(ptmx, s.emu)
	}()
	return s
}

// text is the screen's text.
func (s *ptyScreen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.emu.String()
}

// close closes ptmx and waits for both copies to end. The emulator's
// reply pipe is closed from its writing end (the emulator's own Close
// would race with the blocked Read).
func (s *ptyScreen) close() {
	_ = s.ptmx.Close()
	<-s.outDone
	if pw, ok := s.emu.InputPipe().(*io.PipeWriter); ok {
		_ = pw.Close()
	}
	<-s.replyDone
}

// The real `agent ctl top` in a pseudo-terminal: it draws the actors,
// redraws when one is created, and q or Ctrl-C ends it with exit code 0.
func TestE2ETopPty(t *testing.T) {
	a := startAgent(t)
	a.mustCtl(t, "create", "w1", "echo")
	for _, tc := range []struct{ name, key string }{{"q", "q"}, {"ctrl-c", "\x03"}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, buildAgent(t), "ctl", "--addr", a.addr, "top", "--interval", "200ms")
			cmd.Env = append(os.Environ(), "TERM=xterm-256color")
			const cols, rows = 120, 24
			ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
			if err != nil {
				t.Fatal(err)
			}
			screen := newPtyScreen(ptmx, cols, rows)
			var waitErr error
			exited := make(chan struct{})
			go func() {
				waitErr = cmd.Wait()
				close(exited)
			}()
			t.Cleanup(func() {
				_ = cmd.Process.Kill() // fails once it has exited
				<-exited
				screen.close()
			})

			testenv.Eventually(t, "top to draw the echo actor", func() bool {
				s := screen.text()
				return strings.Contains(s, "w1") && strings.Contains(s, "RUNNING") && strings.Contains(s, "q quit")
			})
			id := "later-" + tc.name
			a.mustCtl(t, "create", id, "echo")
			testenv.Eventually(t, "a refresh to draw "+id, func() bool { return strings.Contains(screen.text(), id) })

			if _, err := ptmx.Write([]byte(tc.key)); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
				if waitErr != nil {
					t.Fatalf("top after %s: %v; screen:\n%s", tc.name, waitErr, screen.text())
				}
			case <-ctx.Done():
				t.Fatalf("top did not end after %s; screen:\n%s", tc.name, screen.text())
			}
		})
	}
}
