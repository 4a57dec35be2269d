package osproc

import (
	"errors"
	"os"
	"testing"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		name     string
		root     string
		pid      int
		want     string
		wantErr  bool
		wantGone bool // the error wraps ErrProcessGone
	}{
		{name: "arguments joined", root: testProcRoot, pid: 200, want: "python3 worker.py --fast"},
		{name: "trailing NUL dropped", root: testProcRoot, pid: 201, want: "sleep 300"},
		{name: "empty cmdline: comm in brackets", root: testProcRoot, pid: 202, want: "[kworker]"},
		{name: "neither file (gone while read)", root: testProcRoot, pid: 204, wantErr: true, wantGone: true},
		{name: "no such pid", root: testProcRoot, pid: 999, wantErr: true, wantGone: true},
		{name: "no such root", root: "testdata/no-such-proc", pid: 200, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Command(tt.root, tt.pid)
			if (err != nil) != tt.wantErr || errors.Is(err, ErrProcessGone) != tt.wantGone {
				t.Fatalf("Command(%q, %d) error %v, want error %v, ErrProcessGone %v", tt.root, tt.pid, err, tt.wantErr, tt.wantGone)
			}
			if got != tt.want {
				t.Errorf("Command(%q, %d) = %q, want %q", tt.root, tt.pid, got, tt.want)
			}
		})
	}
}

func TestExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Executable(DefaultRoot, os.Getpid()); err != nil || got != self {
		t.Errorf("Executable(self) = %q, %v; want %q", got, err, self)
	}
	if _, err := Executable("testdata/proc", 99); !errors.Is(err, ErrProcessGone) {
		t.Errorf("Executable(gone) error = %v, want ErrProcessGone", err)
	}
	if _, err := Executable(t.TempDir()+"/none", 1); err == nil || errors.Is(err, ErrProcessGone) {
		t.Errorf("Executable(missing root) error = %v, want a root error", err)
	}
}
