package dashgen

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// liveProc is a process the live test runs (the agent, Prometheus, the collector): its
// output is kept, capped, for failure messages; it is stopped with SIGTERM in t.Cleanup.
type liveProc struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    *cappedOutput
	done   chan struct{}
}

// startLive starts bin with args and extra environment variables.
func startLive(t *testing.T, name, bin string, env []string, args ...string) *liveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	cmd.Env = append(os.Environ(), env...)
	out := &cappedOutput{limit: 1 << 20}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &liveProc{name: name, cmd: cmd, cancel: cancel, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the exit status is read from cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop sends SIGTERM and waits for the exit (SIGKILL after the wait delay); it returns the
// exit code. Stopping twice is fine.
func (p *liveProc) stop() int {
	p.cancel()
	<-p.done
	return p.cmd.ProcessState.ExitCode()
}

// exited reports whether the process has exited.
func (p *liveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// cappedOutput keeps the first limit bytes written; it is safe for concurrent use.
type cappedOutput struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (c *cappedOutput) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

func (c *cappedOutput) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// requireBinary returns the path of a component: $env, else what find returns. Without it
// the test fails in CI and is skipped elsewhere (internal/testenv's convention).
func requireBinary(t *testing.T, what, env, fix string, find func() string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p := find(); p != "" {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found; run `%s`", what, fix)
	}
	t.Skipf("%s not found; run `%s` to run this test", what, fix)
	return ""
}

// onPath returns name's path on PATH, or "".
func onPath(name string) func() string {
	return func() string {
		p, err := exec.LookPath(name)
		if err != nil {
			return ""
		}
		return p
	}
}

// newestOtelcol returns the newest collector scripts/otelcol.sh built under the module
// root, or "".
func newestOtelcol(root string) func() string {
	return func() string {
		matches, _ := filepath.Glob(filepath.Join(root, ".tools", "otelcol", "*", "otelcol-procagent")) // only a bad pattern errs
		var best string
		var bestTime time.Time
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
				continue
			}
			if fi.ModTime().After(bestTime) {
				best, bestTime = m, fi.ModTime()
			}
		}
		return best
	}
}

// buildAgent builds the real agent binary into dir.
func buildAgent(t *testing.T, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "agent")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/agent")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	return bin
}

// lastLines returns the last n lines of s, for failure messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
