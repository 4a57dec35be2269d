package osproc

import (
	"os"
	"syscall"
	"testing"

	"github.com/prometheus/procfs"
)

// BenchmarkG9_Statm is the G9 pair: one sample of the agent's memory through
// the kept-open StatmReader (actor) against the floor, a bare pread(2) of a
// statm opened once into a stack buffer with no parsing (baseline). Target:
// actor ≤ 1.5× baseline and ≤ 1 allocation per read. procfs is
// prometheus/procfs's own Proc.Statm(), which opens, reads and closes the
// file and splits it into strings on every call; it is shown for scale and
// is not part of the pair.
func BenchmarkG9_Statm(b *testing.B) {
	b.Run("actor", func(b *testing.B) {
		r, err := NewStatmReader(DefaultRoot, os.Getpid())
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := r.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline", func(b *testing.B) {
		f, err := os.Open("/proc/self/statm")
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		fd := int(f.Fd())
		b.ReportAllocs()
		for b.Loop() {
			var buf [statmBufSize]byte
			n, err := syscall.Pread(fd, buf[:], 0)
			if err != nil || n == 0 {
				b.Fatalf("pread = %d, %v", n, err)
			}
		}
	})
	b.Run("procfs", func(b *testing.B) {
		fs, err := procfs.NewFS(DefaultRoot)
		if err != nil {
			b.Fatal(err)
		}
		p, err := fs.Proc(os.Getpid())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Statm(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
