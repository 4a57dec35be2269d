package osproc

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/internal/testenv"
)

// The process-tree fixtures under testdata/proc:
//
//	200: python3 worker.py --fast; threads 200 (children 201 202) and 203 (child 204)
//	201: sleep 300; child 205
//	202: a kernel thread: empty cmdline, comm kworker
//	204: no children
//	205: lists 200 as its child, a cycle the walk must cut

func TestDescendants(t *testing.T) {
	tests := []struct {
		name string
		pid  int
		want []int
	}{
		{"breadth first over every thread, cycle cut", 200, []int{201, 202, 204, 205}},
		{"a subtree", 201, []int{205, 200, 202, 204}},
		{"a leaf", 204, nil},
		{"a missing pid", 999, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Descendants(testProcRoot, tt.pid)
			if err != nil {
				t.Fatalf("Descendants(%d): %v", tt.pid, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Descendants(%d) (-want +got):\n%s", tt.pid, diff)
			}
		})
	}
	if _, err := Descendants("testdata/no-such-proc", 200); err == nil {
		t.Error("Descendants under a missing root = nil error, want one")
	}
}

func TestParseChildren(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []int
	}{
		{"kernel line", "1 22 333 \n", []int{1, 22, 333}},
		{"one child", "42 ", []int{42}},
		{"no trailing space", "7 8", []int{7, 8}},
		{"empty", "", nil},
		{"blank", " \n", nil},
		{"garbage skipped", "5 x 0 -3 6", []int{5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseChildren([]byte(tt.in))); diff != "" {
				t.Errorf("parseChildren(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestDescendantsReal checks the walk on the real procfs: a started child
// is a descendant of this process.
func TestDescendantsReal(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	got, err := Descendants(DefaultRoot, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, cmd.Process.Pid) {
		t.Errorf("Descendants(self) = %v, want it to hold the child %d", got, cmd.Process.Pid)
	}
	// Start returns once the child is forked; its command line is the
	// new program's only after the exec has happened.
	var c string
	testenv.Eventually(t, "the child's command line", func() bool {
		c, err = Command(DefaultRoot, cmd.Process.Pid)
		return err == nil && c == "sleep 30"
	})
}
