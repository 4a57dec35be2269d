package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// failActor creates a fail actor under id and makes it fail with reason:
// the proc is poisoned from then on.
func (s *server) failActor(t *testing.T, id, reason string) {
	t.Helper()
	s.mustRun(t, protocolConnect, "create", id, "fail")
	if r := s.run(t.Context(), protocolConnect, "send", id, fmt.Sprintf(`{"fail":%q}`, reason), "--wait"); r.code != exitError {
		t.Fatalf("send to a fail actor: exit %d, want %d", r.code, exitError)
	}
	s.mustRun(t, protocolConnect, "wait", id, "--min", "STOPPED")
}

// One frame of a real agent as plain text, over each protocol: the actors
// from List, the proc from QueryChild, the failure reason from GetState;
// the in-process server has no /metrics, and the frame says so.
func TestTopOnce(t *testing.T) {
	s := newServer(t)
	s.mustRun(t, protocolConnect, "create", "w1", "echo")
	s.failActor(t, "bad", "boom")
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			out := s.mustRun(t, protocol, "top", "--once")
			if strings.Contains(out, "\x1b") {
				t.Errorf("--once wrote an escape code:\n%q", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, want := range []string{"proc test", "actors 2: 1 RUNNING, 1 FAILED", "POISONED (1 failed)", "partly read: /metrics is not served"} {
				if !strings.Contains(out, want) {
					t.Errorf("frame lacks %q:\n%s", want, out)
				}
			}
			rows := map[string][]string{}
			for _, l := range lines {
				if f := strings.Fields(l); len(f) > 0 {
					rows[f[0]] = f
				}
			}
			if got := strings.Join(rows["bad"], " "); got != "bad FAILED fail - - - - 2 boom" {
				t.Errorf("row of the failed actor = %q", got)
			}
			if got := strings.Join(rows["w1"], " "); got != "w1 RUNNING echo - - - - 1 -" {
				t.Errorf("row of the echo actor = %q", got)
			}
		})
	}
}

// -o json prints the frame as JSON, sorted as asked.
func TestTopOnceJSON(t *testing.T) {
	s := newServer(t)
	s.mustRun(t, protocolConnect, "create", "a", "echo")
	s.mustRun(t, protocolConnect, "create", "b", "echo")
	s.failActor(t, "c", "no luck")
	out := s.mustRun(t, protocolConnect, "-o", "json", "top", "--once", "--sort", "id", "--reverse")
	var f topFrame
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("not a JSON frame: %v\n%s", err, out)
	}
	if f.Fleet || len(f.Agents) != 1 {
		t.Fatalf("frame = %+v, want one agent", f)
	}
	a := f.Agents[0]
	var got []string
	for _, act := range a.Actors {
		got = append(got, act.ID+"="+act.Status+":"+act.LastFailure)
	}
	if want := "c=FAILED:no luck b=RUNNING: a=RUNNING:"; strings.Join(got, " ") != want {
		t.Errorf("actors = %q, want %q", strings.Join(got, " "), want)
	}
	if !a.Up || !a.Poisoned || a.ProcName != "test" || a.ByStatus["RUNNING"] != 2 || !strings.Contains(a.Err, "/metrics") {
		t.Errorf("agent = %+v", a)
	}
}

// An agent that does not answer: its frame says so and the exit code is 1.
func TestTopOnceDown(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"--addr", testenv.FreeAddr(t), "top", "--once"}, &stdout, &stderr, noEnv)
	if code != exitError || !strings.Contains(stdout.String(), "down: unavailable") || !strings.Contains(stderr.String(), "error: unavailable") {
		t.Errorf("top --once of no agent: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

func TestTopUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad sort", []string{"top", "--once", "--sort", "rank"}, `--sort "rank": want one of status, id, type`},
		{"bad fleet sort", []string{"top", "--once", "--targets", "x", "--sort", "pid"}, `--sort "pid": want one of status, rank`},
		{"fast interval", []string{"top", "--interval", "10ms"}, "--interval 10ms: must be at least 100ms"},
		{"no timeout", []string{"top", "--target-timeout", "0s"}, "--target-timeout 0s: must be positive"},
		{"no concurrency", []string{"top", "--concurrency", "0"}, "--concurrency 0: must be at least 1"},
		{"metrics of a fleet", []string{"top", "--targets", "x", "--metrics-addr", "127.0.0.1:1"}, "--metrics-addr names one agent's listener"},
		{"json live", []string{"-o", "json", "top"}, "-o json prints one frame: use it with --once"},
		{"no terminal", []string{"top"}, "the live view needs a terminal: use --once"},
		{"argument", []string{"top", "w1"}, `unexpected argument "w1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(t.Context(), tt.args, &stdout, &stderr, noEnv)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}

// countGetState counts the GetState calls the agent serves.
func countGetState(n *atomic.Int64) serverOption {
	return withMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/GetState") {
				n.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
}

// The failure reasons cost a bounded number of GetState calls per
// refresh, and none once read: a poisoned proc refuses 40 creates, each a
// FAILED actor with a reason.
func TestTopReasonLookups(t *testing.T) {
	var calls atomic.Int64
	s := newServer(t, countGetState(&calls))
	s.failActor(t, "first", "boom")
	for i := range 40 {
		s.mustRun(t, protocolConnect, "create", fmt.Sprintf("r%02d", i), "echo")
	}
	transport := newTopTransport()
	t.Cleanup(transport.CloseIdleConnections)
	src := &agentSource{addr: s.addr, detail: true,
		client: procagentv1connect.NewProcAgentServiceClient(tokenClient(transport, ""), "http://"+s.addr)}

	withReason := func(a topAgent) int {
		n := 0
		for _, act := range a.Actors {
			if act.LastFailure != "" {
				n++
			}
		}
		return n
	}
	steps := []struct{ calls, reasons int64 }{
		{maxReasonLookups, maxReasonLookups}, // the first refresh reads as many as it may
		{41, 41},                             // the next one the rest
		{41, 41},                             // then none: the reasons are kept
	}
	calls.Store(0)
	for i, want := range steps {
		a := src.fetch(t.Context())
		if got := calls.Load(); got != want.calls {
			t.Errorf("refresh %d: %d GetState calls in all, want %d", i+1, got, want.calls)
		}
		if got := withReason(a); int64(got) != want.reasons {
			t.Errorf("refresh %d: %d actors with a reason, want %d", i+1, got, want.reasons)
		}
	}
	a := src.fetch(t.Context())
	for _, act := range a.Actors {
		if act.ID != "first" && !strings.Contains(act.LastFailure, "poisoned") {
			t.Errorf("actor %s: reason %q, want the poisoned proc's refusal", act.ID, act.LastFailure)
		}
	}
}

// The live program in-process: the poller's frames reach the screen, an
// actor created later shows up at a refresh, q ends it cleanly, and no
// goroutine outlives it (goleak, main_test.go).
func TestTopLive(t *testing.T) {
	s := newServer(t)
	s.mustRun(t, protocolConnect, "create", "first", "echo")
	transport := newTopTransport()
	t.Cleanup(transport.CloseIdleConnections)
	src := &topSource{timeout: 2 * time.Second, concurrency: 1, agents: []*agentSource{{addr: s.addr, detail: true,
		client: procagentv1connect.NewProcAgentServiceClient(tokenClient(transport, ""), "http://"+s.addr)}}}
	m := newTopModel(false, 0, false, 100*time.Millisecond, s.addr, colorTopStyles())

	in, keys := io.Pipe()
	defer keys.Close()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runTopLive(t.Context(), src, m, 100*time.Millisecond,
			tea.WithInput(in), tea.WithOutput(&out), tea.WithWindowSize(100, 20), tea.WithEnvironment([]string{"TERM=xterm-256color"}))
	}()
	testenv.Eventually(t, "the first frame on the screen", func() bool { return strings.Contains(out.String(), "first") })
	s.mustRun(t, protocolConnect, "create", "later", "echo")
	testenv.Eventually(t, "a refresh showing the actor created later", func() bool { return strings.Contains(out.String(), "later") })
	if _, err := keys.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runTopLive after q = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("q did not end the live view")
	}
}

// A deadline (--timeout) or a cancelled ctx (Ctrl-C as a signal) ends the
// live view cleanly.
func TestTopLiveDeadline(t *testing.T) {
	s := newServer(t)
	transport := newTopTransport()
	t.Cleanup(transport.CloseIdleConnections)
	src := &topSource{timeout: time.Second, concurrency: 1, agents: []*agentSource{{addr: s.addr, detail: true,
		client: procagentv1connect.NewProcAgentServiceClient(tokenClient(transport, ""), "http://"+s.addr)}}}
	in, keys := io.Pipe()
	defer keys.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := runTopLive(ctx, src, newTopModel(false, 0, false, 100*time.Millisecond, s.addr, plainTopStyles()), 100*time.Millisecond,
		tea.WithInput(in), tea.WithOutput(io.Discard), tea.WithWindowSize(80, 10))
	if err != nil {
		t.Errorf("runTopLive at its deadline = %v, want nil", err)
	}
}
