package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/procagent/procagent/internal/testenv"
)

// profiledWorker is a Python 3.9 worker (austin 1.0.1, the sampler Debian
// ships, reads 3.8/3.9 only) whose own function names must show up.
const profiledWorker = `actors:
  - id: worker
    type: exec
    params:
      argv: [python3, -c, "def busy_e2e_worker():\n    s = 0\n    for i in range(10**5): s += i\n    return s\nwhile True: busy_e2e_worker()"]
      env: {PYENV_VERSION: "3.9.18"}
`

// needAustin skips (or, in CI, fails) when the sampler or Python 3.9 is
// missing.
func needAustin(t *testing.T) {
	t.Helper()
	_, errA := exec.LookPath("austin")
	cmd := exec.CommandContext(t.Context(), "python3", "--version")
	cmd.Env = append(os.Environ(), "PYENV_VERSION=3.9.18")
	out, errP := cmd.CombinedOutput()
	if errA == nil && errP == nil && strings.Contains(string(out), "3.9") {
		return
	}
	msg := "needs austin and Python 3.9 (make deps; pyenv 3.9.18)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// A real austin profile of a real Python worker, taken through `agent ctl
// profile`, opens in `go tool pprof` with the worker's function names; a
// dump returns its frames; a Go heap profile of the agent parses.
func TestE2EProfileWorker(t *testing.T) {
	needAustin(t)
	actors := filepath.Join(t.TempDir(), "actors.yaml")
	if err := os.WriteFile(actors, []byte(profiledWorker), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgentEnv(t, []string{"PYSPY_BIN="}, "--actors", actors)
	pid := a.actorPid(t, "worker")
	// python3 may be a pyenv shim that execs the interpreter: sample the
	// interpreter, not the shim.
	testenv.Eventually(t, "the worker to run python", func() bool {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		return err == nil && strings.HasPrefix(filepath.Base(exe), "python")
	})

	out := filepath.Join(t.TempDir(), "worker.pb.gz")
	if res, code := a.ctl(t, "profile", "worker", "--duration", "2s", "--out", out); code != 0 {
		t.Fatalf("ctl profile: exit %d: %s", code, res)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the profile does not parse: %v", err)
	}
	if len(p.Sample) == 0 || !hasFunction(p, "busy_e2e_worker") {
		t.Fatalf("profile has %d samples and no busy_e2e_worker: %v", len(p.Sample), p.Function)
	}
	top, err := exec.CommandContext(t.Context(), "go", "tool", "pprof", "-top", out).CombinedOutput()
	if err != nil || !strings.Contains(string(top), "busy_e2e_worker") {
		t.Fatalf("go tool pprof -top: %v\n%s", err, top)
	}

	dump, code := a.ctl(t, "pyspy", "dump", "worker")
	if code != 0 || !strings.Contains(dump, "busy_e2e_worker") {
		t.Fatalf("ctl pyspy dump: exit %d:\n%s", code, dump)
	}

	heap := filepath.Join(t.TempDir(), "heap.pb.gz")
	if res, code := a.ctl(t, "goprofile", "heap", "--out", heap); code != 0 {
		t.Fatalf("ctl goprofile heap: exit %d: %s", code, res)
	}
	hb, err := os.ReadFile(heap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profile.Parse(bytes.NewReader(hb)); err != nil {
		t.Fatalf("heap profile does not parse: %v", err)
	}

	// A pid the agent does not own is refused (permission_denied, exit 1).
	if _, code := a.ctl(t, "pyspy", "dump", "--pid", "1"); code != 1 {
		t.Fatalf("dump of pid 1 should be refused, got exit %d", code)
	}
	a.ctl(t, "stopall")
	if code := a.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func hasFunction(p *profile.Profile, name string) bool {
	for _, f := range p.Function {
		if strings.Contains(f.Name, name) {
			return true
		}
	}
	return false
}
