package main

import (
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// TestE2EExitCodes: the exit code after StopAll is 1 iff some actor failed
// by a supervision event; a failed spawn, an unreachable collector and the
// drain never change it, and StopAll → exit stays within its bound.
func TestE2EExitCodes(t *testing.T) {
	t.Run("failed spawn and clean actors", func(t *testing.T) {
		a := startAgent(t)
		a.mustCtl(t, "create", "typo", "ecoh")
		a.mustCtl(t, "create", "ok", "echo")
		a.mustCtl(t, "stopall")
		if code := a.wait(t); code != 0 {
			t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, a.stderr)
		}
	})
	t.Run("exec worker exits 3", func(t *testing.T) {
		a := startAgent(t)
		a.mustCtl(t, "create", "w", "exec", "--params", `{"argv":["sh","-c","exit 3"]}`)
		a.mustCtl(t, "create", "ok", "echo")
		a.mustCtl(t, "wait", "w", "--min", "STOPPED")
		a.mustCtl(t, "stopall")
		if code := a.wait(t); code != 1 {
			t.Fatalf("exit code = %d, want 1; stderr:\n%s", code, a.stderr)
		}
	})
	t.Run("unreachable collector", func(t *testing.T) {
		const flush = time.Second
		a := startAgent(t, "--otlp-endpoint", "http://"+testenv.FreeAddr(t), "--flush-timeout", flush.String())
		a.mustCtl(t, "create", "ok", "echo")
		if code := a.stopAllWithin(t, flush); code != 0 {
			t.Fatalf("exit code = %d with an unreachable collector, want 0; stderr:\n%s", code, a.stderr)
		}
	})
}

// stopAllWithin runs `agent ctl stopall` and returns the agent's exit
// code, failing the test when StopAll → exit overruns its bound:
// flush_timeout (flush) + the 5 s drain + the 1 s telemetry release
// (README, "Stopping"). The slack is for a loaded machine; the bound is
// what keeps a shutdown from hanging.
func (a *servedAgent) stopAllWithin(t *testing.T, flush time.Duration) int {
	t.Helper()
	start := time.Now()
	a.mustCtl(t, "stopall")
	code := a.wait(t)
	if took, bound := time.Since(start), flush+drainTimeout+releaseTimeout; took > bound+10*time.Second {
		t.Errorf("StopAll → exit took %v, bound %v", took, bound)
	}
	return code
}

// mustCtl runs `agent ctl ARGS…` and fails the test unless it exits 0.
func (a *servedAgent) mustCtl(t *testing.T, args ...string) string {
	t.Helper()
	out, code := a.ctl(t, args...)
	if code != 0 {
		t.Fatalf("agent ctl %v: exit %d\n%s\nagent stderr:\n%s", args, code, out, a.stderr)
	}
	return out
}
