package dashgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// liveAgent is the running agent.
type liveAgent struct {
	proc   *liveProc
	addr   string
	client *http.Client
}

// startLiveAgent runs `agent serve` with the actors file on a free port, pushing OTLP to
// otlpAddr every second, and waits until it listens.
func startLiveAgent(t *testing.T, bin, actors, otlpAddr string) *liveAgent {
	t.Helper()
	const listening = "procagent listening on http://"
	p := startLive(t, "agent", bin, []string{"OTEL_METRIC_EXPORT_INTERVAL=1000", "OTEL_BSP_SCHEDULE_DELAY=200"},
		"serve", "--addr", "127.0.0.1:0", "--actors", actors, "--orphan-timeout", "0",
		"--otlp-endpoint", "http://"+otlpAddr)
	a := &liveAgent{proc: p, client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	testenv.EventuallyWithin(t, liveWait, "the agent listening", func() bool {
		if p.exited() {
			t.Fatalf("agent exited:\n%s", p.out.String())
		}
		out := p.out.String()
		i := strings.Index(out, listening)
		if i < 0 {
			return false
		}
		line, _, found := strings.Cut(out[i+len(listening):], "\n")
		a.addr = strings.TrimSpace(line)
		return found
	})
	return a
}

// call makes a Connect RPC with a JSON body, as curl would, and returns the HTTP status and
// the body.
func (a *liveAgent) call(t *testing.T, method, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+a.addr+"/procagent.v1.ProcAgentService/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// The token file's path is on the agent's output ("procagent token file PATH").
	if _, rest, ok := strings.Cut(a.proc.out.String(), "procagent token file "); ok {
		path, _, _ := strings.Cut(rest, "\n")
		if tok, err := os.ReadFile(strings.TrimSpace(path)); err == nil {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		}
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // a short body shows in the failure
	return resp.StatusCode, string(b)
}

// ok makes a call that must succeed.
func (a *liveAgent) ok(t *testing.T, method, body string) string {
	t.Helper()
	code, out := a.call(t, method, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", method, body, code, out)
	}
	return out
}

// want makes a call that must fail with HTTP status code.
func (a *liveAgent) want(t *testing.T, code int, method, body string) {
	t.Helper()
	if got, out := a.call(t, method, body); got != code {
		t.Fatalf("%s %s: HTTP %d, want %d: %s", method, body, got, code, out)
	}
}

// crashWorker is an exec worker that exits 1 on SIGUSR1, once it says it is ready.
const crashWorker = `{"id":"crash","spec":{"actorType":"exec","params":{"argv":["python3","-c",` +
	`"import signal, sys\nsignal.signal(signal.SIGUSR1, lambda *a: sys.exit(1))\nprint('ready', flush=True)\nsignal.pause()"]}}}`

// fillSlowQueue queues messages behind the slow actor (the sleep type, 250 ms each).
func (a *liveAgent) fillSlowQueue(t *testing.T) {
	t.Helper()
	for i := range 30 { // seven seconds of backlog; the mailbox holds 32
		a.ok(t, "Send", fmt.Sprintf(`{"id":"slow","payload":{"n":%d}}`, i))
	}
}

// healthyTraffic handles messages, stops actors cleanly, calls every kind of RPC, has two
// calls refused, and starts the actors the failures need.
func (a *liveAgent) healthyTraffic(t *testing.T) {
	t.Helper()
	for i := range 20 {
		a.ok(t, "Send", fmt.Sprintf(`{"id":"echo","payload":{"n":%d},"wait":true}`, i))
	}
	for _, id := range []string{"extra-1", "extra-2", "extra-3"} {
		a.ok(t, "CreateOrUpdate", `{"id":"`+id+`","spec":{"actorType":"echo"}}`)
		a.ok(t, "Send", `{"id":"`+id+`","payload":"hello","wait":true}`)
	}
	a.ok(t, "Stop", `{"id":"extra-1","reason":"e2e"}`)
	a.ok(t, "Stop", `{"id":"extra-2","reason":"e2e"}`)
	a.ok(t, "CreateOrUpdate", `{"id":"failer","spec":{"actorType":"fail"}}`)
	a.ok(t, "Send", `{"id":"failer","payload":{"hello":1},"wait":true}`)
	a.ok(t, "CreateOrUpdate", crashWorker)
	testenv.EventuallyWithin(t, liveWait, "the crash worker ready", throttled(50*time.Millisecond, func() bool {
		return strings.Contains(a.ok(t, "Send", `{"id":"crash","payload":{"output":true},"wait":true}`), `ready\n`)
	}))
	for _, c := range [][2]string{
		{"GetState", `{"id":"echo"}`},
		{"List", `{}`},
		{"QueryChild", `{}`},
		{"QueryChild", `{"ref":"slow"}`},
		{"ConfigDump", `{}`},
		{"KeepaliveGetState", `{"id":"echo","ttl":"3600s"}`},
		{"GetRankStatus", `{"id":"echo","rank":"3"}`},
		{"WaitRankStatus", `{"id":"extra-1","rank":"1","minStatus":"STATUS_STOPPED"}`},
	} {
		a.ok(t, c[0], c[1])
	}
	a.want(t, http.StatusNotFound, "QueryChild", `{"ref":"nope"}`)
	a.want(t, http.StatusBadRequest, "CreateOrUpdate", `{"id":"Bad Id","spec":{"actorType":"echo"}}`)
}

// failures poisons the proc with the exec worker exiting 1, fails a handler and has a
// spawn refused.
func (a *liveAgent) failures(t *testing.T) {
	t.Helper()
	a.ok(t, "Send", `{"id":"crash","payload":{"signal":"USR1"},"wait":true}`)
	testenv.EventuallyWithin(t, liveWait, "the crash worker FAILED with exit code 1", throttled(50*time.Millisecond, func() bool {
		out := a.ok(t, "GetState", `{"id":"crash"}`)
		return strings.Contains(out, "STATUS_FAILED") && strings.Contains(out, `"exitCode":1`)
	}))
	a.want(t, http.StatusConflict, "Send", `{"id":"failer","payload":{"fail":"on purpose"},"wait":true}`)
	if out := a.ok(t, "CreateOrUpdate", `{"id":"late","spec":{"actorType":"echo"}}`); !strings.Contains(out, "proc is poisoned") {
		t.Fatalf("a spawn on the poisoned proc: %s", out)
	}
	for range 5 {
		a.ok(t, "List", `{}`)
		a.ok(t, "Send", `{"id":"echo","payload":"after","wait":true}`)
	}
}
