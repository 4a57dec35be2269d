package profiling

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCommandIsSafe checks that a process's name is made safe to return (a
// proto string must be valid UTF-8) and that an unreadable one is "".
func TestCommandIsSafe(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "7")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte("py\xff\x00-c\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := command(root, 7), "py\uFFFD -c"; got != want {
		t.Errorf("command(7) = %q, want %q", got, want)
	}
	if got := command(root, 8); got != "" {
		t.Errorf("command of a missing pid = %q, want \"\"", got)
	}
	if got := descendants(filepath.Join(root, "no-such-proc"), 7); got != nil {
		t.Errorf("descendants under a missing root = %v, want none", got)
	}
}
