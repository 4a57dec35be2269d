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

// profiledWorker runs the machine's default python3 (3.11 here: only py-spy
// or austin >= 3.5 reads it) with function names of its own.
const profiledWorker = `actors:
  - id: worker
    type: exec
    params:
      argv: [python3, -c, "def busy_e2e_worker():\n    s = 0\n    for i in range(10**5): s += i\n    return s\nwhile True: busy_e2e_worker()"]
`

// needAustin returns the austin `make deps` builds into the repository's
// .tools/bin; it skips (or, in CI, fails) when it or python3 is missing.
func needAustin(t *testing.T) string {
	t.Helper()
	austin, errA := filepath.Abs(filepath.Join("..", "..", ".tools", "bin", "austin"))
	if errA == nil {
		_, errA = os.Stat(austin)
	}
	_, errP := exec.LookPath("python3")
	if errA == nil && errP == nil {
		return austin
	}
	msg := "needs austin >= 3.5 in .tools/bin and python3 (make deps)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// A real austin profile of a real Python worker, taken through `agent ctl
// profile`, opens in `go tool pprof` with the worker's function names; a
// dump returns its frames; a Go heap profile of the agent parses.
func TestE2EProfileWorker(t *testing.T) {
	austin := needAustin(t)
	actors := filepath.Join(t.TempDir(), "actors.yaml")
	if err := os.WriteFile(actors, []byte(profiledWorker), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgentEnv(t, []string{"PYSPY_BIN=", "PROCAGENT_AUSTIN_BIN=" + austin}, "--actors", actors)
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

// With only Debian 12's austin 1.0.1, a dump of the default python3 (3.10 or
// later) says in a sentence which sampler would read it, not output_empty.
func TestE2EProfileUnsupported(t *testing.T) {
	needAustin(t)
	old, err := exec.LookPath("austin")
	if err != nil {
		t.Skip("no austin on PATH")
	}
	if v, _ := exec.CommandContext(t.Context(), old, "--version").CombinedOutput(); !strings.Contains(string(v), "austin 1.") {
		t.Skipf("the austin on PATH is not 1.x: %s", v)
	}
	if _, err := exec.LookPath("py-spy"); err == nil {
		t.Skip("py-spy on PATH reads every Python")
	}
	actors := filepath.Join(t.TempDir(), "actors.yaml")
	worker := strings.Replace(profiledWorker, "id: worker", "id: py3", 1)
	if err := os.WriteFile(actors, []byte(worker), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgentEnv(t, []string{"PYSPY_BIN=", "PROCAGENT_AUSTIN_BIN="}, "--actors", actors)
	pid := a.actorPid(t, "py3")
	testenv.Eventually(t, "the worker to run python", func() bool {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		return err == nil && strings.HasPrefix(filepath.Base(exe), "python")
	})
	out, code := a.ctl(t, "-o", "json", "pyspy", "dump", "py3")
	if code != 1 || !strings.Contains(out, `"unsupported"`) || !strings.Contains(out, `"pythonVersion"`) || !strings.Contains(out, `"3.`) || !strings.Contains(out, "austin 1.0.1") {
		t.Fatalf("ctl pyspy dump: exit %d: %s", code, out)
	}
	a.ctl(t, "stopall")
	a.wait(t)
}

func hasFunction(p *profile.Profile, name string) bool {
	for _, f := range p.Function {
		if strings.Contains(f.Name, name) {
			return true
		}
	}
	return false
}
