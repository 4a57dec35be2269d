package osproc

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The statm fixtures under testdata/proc (pages of os.Getpagesize() bytes):
//
//	100: a live process, size 2500, resident 1200
//	101: a zombie, all zeros
//	102: a malformed statm
//	103: a second live process, size 7000, resident 3000
const testProcRoot = "testdata/proc"

func TestParseStatm(t *testing.T) {
	type result struct {
		Size, Resident uint64
		OK             bool
	}
	tests := []struct {
		name string
		in   string
		want result
	}{
		{"kernel line", "2500 1200 300 5 0 900 0\n", result{2500, 1200, true}},
		{"two fields", "7 3", result{7, 3, true}},
		{"two fields and newline", "7 3\n", result{7, 3, true}},
		{"zeros", "0 0 0 0 0 0 0\n", result{0, 0, true}},
		{"max uint64", "18446744073709551615 18446744073709551615 0\n", result{1<<64 - 1, 1<<64 - 1, true}},
		{"empty", "", result{}},
		{"newline only", "\n", result{}},
		{"one field", "2500\n", result{}},
		{"one field no newline", "2500", result{}},
		{"one field and space", "2500 ", result{}},
		{"leading space", " 2500 1200\n", result{}},
		{"two spaces", "2500  1200\n", result{}},
		{"tab separated", "2500\t1200\n", result{}},
		{"negative", "-1 1200\n", result{}},
		{"letters", "abc def\n", result{}},
		{"trailing letters", "2500 12x0\n", result{}},
		{"hex", "0x10 1200\n", result{}},
		{"size overflows", "18446744073709551616 1\n", result{}},
		{"resident overflows", "1 99999999999999999999999\n", result{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, resident, err := parseStatm([]byte(tt.in))
			got := result{size, resident, err == nil}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseStatm(%q) (-want +got):\n%s", tt.in, diff)
			}
			if err != nil && !errors.Is(err, errMalformedStatm) {
				t.Errorf("parseStatm(%q) error = %v, want errMalformedStatm", tt.in, err)
			}
		})
	}
}

func TestStatmReaderFixtures(t *testing.T) {
	page := uint64(os.Getpagesize())
	type result struct {
		RSS, VM uint64
	}
	tests := []struct {
		name     string
		root     string
		pid      int
		want     result
		wantGone bool // the error wraps ErrProcessGone
		wantErr  bool
	}{
		{name: "live", root: testProcRoot, pid: 100, want: result{1200 * page, 2500 * page}},
		{name: "another live", root: testProcRoot, pid: 103, want: result{3000 * page, 7000 * page}},
		{name: "zombie", root: testProcRoot, pid: 101, wantGone: true, wantErr: true},
		{name: "no such pid", root: testProcRoot, pid: 999, wantGone: true, wantErr: true},
		{name: "malformed", root: testProcRoot, pid: 102, wantErr: true},
		{name: "no such root", root: "testdata/no-such-proc", pid: 100, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The one-shot read answers as the kept-open reader does.
			rss, vm, err := ReadStatm(tt.root, tt.pid)
			if (err != nil) != tt.wantErr || errors.Is(err, ErrProcessGone) != tt.wantGone {
				t.Errorf("ReadStatm(%q, %d) error %v, want error %v, ErrProcessGone %v", tt.root, tt.pid, err, tt.wantErr, tt.wantGone)
			}
			if diff := cmp.Diff(tt.want, result{rss, vm}); diff != "" {
				t.Errorf("ReadStatm (-want +got):\n%s", diff)
			}

			r, err := NewStatmReader(tt.root, tt.pid)
			if tt.wantErr {
				if err == nil {
					_ = r.Close()
					t.Fatalf("NewStatmReader(%q, %d) = nil error, want one", tt.root, tt.pid)
				}
				if got := errors.Is(err, ErrProcessGone); got != tt.wantGone {
					t.Errorf("NewStatmReader(%q, %d) error %v: errors.Is(ErrProcessGone) = %v, want %v", tt.root, tt.pid, err, got, tt.wantGone)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewStatmReader(%q, %d): %v", tt.root, tt.pid, err)
			}
			defer r.Close()
			for range 3 { // re-reads of the kept-open file give the same answer
				rss, vm, err := r.Read()
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if diff := cmp.Diff(tt.want, result{rss, vm}); diff != "" {
					t.Errorf("Read (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestStatmReaderClose(t *testing.T) {
	r, err := NewStatmReader(testProcRoot, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := r.Read(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read after Close: err = %v, want os.ErrClosed", err)
	}
}

func TestStatmReaderSelf(t *testing.T) {
	r, err := NewStatmReader(DefaultRoot, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rss, vm, err := r.Read()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if rss == 0 || rss > vm {
		t.Fatalf("Read = rss %d, vm %d; want 0 < rss <= vm", rss, vm)
	}
	if rss, vm, err := ReadStatm(DefaultRoot, os.Getpid()); err != nil || rss == 0 || rss > vm {
		t.Errorf("ReadStatm(self) = rss %d, vm %d, %v; want 0 < rss <= vm", rss, vm, err)
	}
	if r.Pid() != os.Getpid() {
		t.Errorf("Pid() = %d, want %d", r.Pid(), os.Getpid())
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("Read allocates %v times per call, want 0", allocs)
	}
}

// TestStatmReaderReaped checks that a kept-open statm of a process that has
// been reaped answers ErrProcessGone, and that opening one does too.
func TestStatmReaderReaped(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	pid := cmd.Process.Pid
	r, err := NewStatmReader(DefaultRoot, pid)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal(err)
	}
	defer r.Close()
	if _, _, err := r.Read(); err != nil {
		t.Fatalf("Read of the live child: %v", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, _, err := r.Read(); !errors.Is(err, ErrProcessGone) {
		t.Fatalf("Read of the reaped child: err = %v, want ErrProcessGone", err)
	}
	if r2, err := NewStatmReader(DefaultRoot, pid); !errors.Is(err, ErrProcessGone) {
		if err == nil {
			_ = r2.Close()
		}
		t.Fatalf("NewStatmReader of the reaped child: err = %v, want ErrProcessGone", err)
	}
}
