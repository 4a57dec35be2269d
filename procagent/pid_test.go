package procagent

import (
	"errors"
	"syscall"
	"testing"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/runtime"
)

func TestActorPid(t *testing.T) {
	a := newAgent(t, nil)
	if _, err := a.CreateOrUpdate("py", 0, Spec{ActorType: "exec", Params: []byte(`{"argv":["python3","-c","import time; time.sleep(60)"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateOrUpdate("e", 0, Spec{ActorType: "echo"}); err != nil {
		t.Fatal(err)
	}
	var pid int
	testenv.Eventually(t, "the worker's pid", func() bool {
		p, err := a.ActorPid("py")
		pid = p
		return err == nil && p > 0
	})
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("pid %d is not a live process: %v", pid, err)
	}
	if _, err := a.ActorPid("e"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("echo pid: %v, want ErrNotRunning", err)
	}
	if _, err := a.ActorPid("ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ghost pid: %v, want ErrNotFound", err)
	}
	if _, err := a.Stop("py", "done"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the worker to end", func() bool {
		st, _ := a.GetState("py")
		return st.Status == runtime.StatusStopped
	})
	if _, err := a.ActorPid("py"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("pid of a stopped worker: %v, want ErrNotRunning", err)
	}
}
