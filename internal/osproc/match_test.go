package osproc

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
)

// TestMatching: a live process is found by an argument it carries; once it
// is a zombie, and once it is reaped, it is not.
func TestMatching(t *testing.T) {
	marker := fmt.Sprintf("1004.%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
	cmd := exec.CommandContext(t.Context(), "sleep", marker)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	got, err := Matching(DefaultRoot, marker)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{pid}) {
		t.Fatalf("Matching(%q) = %v, want [%d]", marker, got, pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Killed and not yet reaped: a zombie, left out.
	testenv.Eventually(t, "the killed process to be left out", func() bool {
		got, err := Matching(DefaultRoot, marker)
		return err == nil && len(got) == 0
	})
	if _, err := Matching("/nonexistent", marker); err == nil {
		t.Error("Matching under a missing root: no error")
	}
}
