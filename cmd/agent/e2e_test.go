package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

var (
	buildOnce sync.Once
	agentBin  string
	errBuild  error
)

// buildAgent builds the real binary once per test run.
func buildAgent(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "procagent-e2e")
		if err != nil {
			errBuild = err
			return
		}
		agentBin = filepath.Join(dir, "agent")
		cmd := exec.CommandContext(context.Background(), "go", "build", "-o", agentBin, ".")
		cmd.Stderr = os.Stderr
		errBuild = cmd.Run()
	})
	if errBuild != nil {
		t.Fatalf("build agent: %v", errBuild)
	}
	return agentBin
}

// servedAgent is a running `agent serve` process.
type servedAgent struct {
	cmd    *exec.Cmd
	url    string
	addr   string
	stderr *lockedWriter
	exited chan struct{}
}

// startAgent runs `agent serve` on a free loopback port and waits until it
// listens.
func startAgent(t *testing.T, args ...string) *servedAgent {
	t.Helper()
	return startAgentEnv(t, nil, args...)
}

// startAgentEnv is startAgent with extra environment variables.
func startAgentEnv(t *testing.T, env []string, args ...string) *servedAgent {
	t.Helper()
	bin := buildAgent(t)
	cmd := exec.CommandContext(context.Background(), bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--orphan-timeout", "0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &servedAgent{cmd: cmd, stderr: &lockedWriter{}, exited: make(chan struct{})}
	cmd.Stderr = a.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "procagent listening on ") {
				lines <- strings.TrimPrefix(sc.Text(), "procagent listening on ")
			}
		}
		_ = cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-a.exited
	})
	select {
	case a.url = <-lines:
		a.addr = strings.TrimPrefix(a.url, "http://")
	case <-time.After(30 * time.Second):
		t.Fatalf("agent did not start; stderr:\n%s", a.stderr)
	}
	return a
}

// wait returns the agent's exit code.
func (a *servedAgent) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-a.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("agent did not exit; stderr:\n%s", a.stderr)
	}
	return a.cmd.ProcessState.ExitCode()
}

// ctl runs the real `agent ctl` against the agent and returns stdout.
func (a *servedAgent) ctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), buildAgent(t), append([]string{"ctl", "--addr", a.addr}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if code != 0 {
		t.Logf("agent ctl %v: exit %d: %s", args, code, errOut.String())
	}
	return out.String(), code
}

// postJSON calls an RPC as curl would: plain HTTP with a JSON body.
func (a *servedAgent) postJSON(t *testing.T, rpc, body string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/procagent.v1.ProcAgentService/"+rpc, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+localToken(t)) // as curl would with the token file
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", rpc, res.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v: %s", rpc, err, b)
	}
	return out
}

func stateStatus(m map[string]any) any {
	st, _ := m["state"].(map[string]any)
	return st["status"]
}

func TestE2EServeCurlCtlStopAll(t *testing.T) {
	a := startAgent(t)
	got := a.postJSON(t, "CreateOrUpdate", `{"id":"w1","spec":{"actorType":"echo"}}`)
	if stateStatus(got) != "STATUS_RUNNING" {
		t.Fatalf("curl CreateOrUpdate = %v", got)
	}
	out, code := a.ctl(t, "-o", "json", "get", "w1")
	if code != 0 || !strings.Contains(out, "STATUS_RUNNING") {
		t.Fatalf("ctl get = %d %s", code, out)
	}
	out, code = a.ctl(t, "send", "w1", `{"ping":"pong"}`, "--wait")
	if code != 0 || !strings.Contains(out, "pong") {
		t.Fatalf("ctl send --wait = %d %s", code, out)
	}
	out, code = a.ctl(t, "list")
	if code != 0 || !strings.Contains(out, "w1") || !strings.Contains(out, "RUNNING") {
		t.Fatalf("ctl list = %d %s", code, out)
	}
	if out, code = a.ctl(t, "create", "w2", "sleep", "--params", `{"ms": 10}`); code != 0 || !strings.Contains(out, "w2") {
		t.Fatalf("ctl create = %d %s", code, out)
	}
	if _, code = a.ctl(t, "stopall", "--reason", "e2e"); code != 0 {
		t.Fatalf("ctl stopall exit %d", code)
	}
	if code := a.wait(t); code != 0 {
		t.Fatalf("agent exit code = %d, want 0; stderr:\n%s", code, a.stderr)
	}
}

func TestE2EExitCodeAfterFailure(t *testing.T) {
	a := startAgent(t)
	a.postJSON(t, "CreateOrUpdate", `{"id":"bad","spec":{"actorType":"fail"}}`)
	if _, code := a.ctl(t, "send", "bad", `{"fail":"on purpose"}`, "--wait"); code == 0 {
		t.Fatal("a failing send should exit non-zero")
	}
	if out, code := a.ctl(t, "wait", "bad", "--min", "STOPPED"); code != 0 || !strings.Contains(out, "FAILED") {
		t.Fatalf("ctl wait = %d %s", code, out)
	}
	a.ctl(t, "stopall")
	if code := a.wait(t); code != 1 {
		t.Fatalf("agent exit code = %d, want 1; stderr:\n%s", code, a.stderr)
	}
}

func TestE2ESignalStopsAll(t *testing.T) {
	actors := filepath.Join(t.TempDir(), "actors.yaml")
	if err := os.WriteFile(actors, []byte("actors:\n  - id: e\n    type: echo\n  - id: s\n    type: sleep\n    params: {ms: 5}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "--actors", actors)
	eventuallyCtl(t, a, "s")
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d; stderr:\n%s", code, a.stderr)
	}
	if !strings.Contains(a.stderr.String(), "signal") {
		t.Fatalf("no stop-all on signal in the log:\n%s", a.stderr)
	}
}

// eventuallyCtl waits until `agent ctl list` shows id.
func eventuallyCtl(t *testing.T, a *servedAgent, id string) {
	t.Helper()
	testenv.Eventually(t, id+" listed", func() bool {
		out, code := a.ctl(t, "list")
		return code == 0 && strings.Contains(out, id)
	})
}

// lockedWriter serializes writes from the child's stderr copier with reads.
type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
