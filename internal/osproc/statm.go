package osproc

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/prometheus/procfs"
)

// errMalformedStatm reports a statm whose two leading fields are not
// decimal page counts.
var errMalformedStatm = errors.New("malformed statm")

// statmBufSize holds a whole statm line: seven fields of at most 20 digits
// each plus separators is 147 bytes. Only the two leading fields are parsed.
const statmBufSize = 160

// StatmReader reads the resident and virtual size of one process from
// <root>/<pid>/statm, opened once and re-read in place.
//
// What procfs gives, and why this is not it: prometheus/procfs's
// Proc.Statm() (and Proc.Stat(), whose RSS and VSize say the same) opens,
// reads and closes the file on every call and splits it into strings, which
// costs an open/close pair and a dozen allocations per sample. The periodic
// republish reads every process-backed actor, so the file is kept open and
// re-read with one pread(2) into a fixed buffer, parsed without allocating.
// The kept-open descriptor is also bound to the process it was opened for:
// once that process is reaped it answers ESRCH, even if the pid is reused,
// so a reader never reports a stranger's memory. procfs is used for what it
// does well here: validating the root and the pid (NewFS, FS.Proc).
//
// A StatmReader is not safe for concurrent use; its owner reads and closes
// it from one goroutine.
type StatmReader struct {
	f        *os.File
	fd       int
	pid      int
	pageSize uint64
	buf      [statmBufSize]byte
}

// NewStatmReader opens <root>/<pid>/statm (root is DefaultRoot in
// production, a testdata directory in tests) and reads it once, so a reader
// that is returned has worked at least once. An error wrapping
// ErrProcessGone means the process does not exist.
func NewStatmReader(root string, pid int) (*StatmReader, error) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return nil, fmt.Errorf("statm root %q: %w", root, err)
	}
	if _, err := fs.Proc(pid); err != nil {
		return nil, fmt.Errorf("statm pid %d: %w", pid, goneErr(err))
	}
	f, err := os.OpenInRoot(root, filepath.Join(strconv.Itoa(pid), "statm"))
	if err != nil {
		return nil, fmt.Errorf("statm pid %d: %w", pid, goneErr(err))
	}
	fd := f.Fd()
	if fd > math.MaxInt32 {
		_ = f.Close()
		return nil, fmt.Errorf("statm pid %d: descriptor %d out of range", pid, fd)
	}
	r := &StatmReader{
		f:        f,
		fd:       int(fd),
		pid:      pid,
		pageSize: uint64(os.Getpagesize()), //nolint:gosec // a page size is positive
	}
	if _, _, err := r.Read(); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// Read returns the process's resident set size and virtual memory size in
// bytes. It does one pread(2) and does not allocate on success. An error
// wrapping ErrProcessGone means the process has ended and the reader should
// be closed and dropped.
func (r *StatmReader) Read() (rssBytes, vmBytes uint64, err error) {
	if r.f == nil {
		return 0, 0, fmt.Errorf("statm pid %d: %w", r.pid, os.ErrClosed)
	}
	// os.File.ReadAt would loop until the buffer is full, costing a second
	// pread that returns 0 on every read of this short file; one raw pread
	// of the whole line is enough. The file stays referenced by r.f, so the
	// descriptor is valid until Close.
	var n int
	for {
		n, err = syscall.Pread(r.fd, r.buf[:], 0)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("statm pid %d: %w", r.pid, goneErr(err))
	}
	size, resident, err := parseStatm(r.buf[:n])
	if err != nil {
		return 0, 0, fmt.Errorf("statm pid %d: %w", r.pid, err)
	}
	if size == 0 {
		return 0, 0, fmt.Errorf("statm pid %d: no address space: %w", r.pid, ErrProcessGone)
	}
	return resident * r.pageSize, size * r.pageSize, nil
}

// Pid returns the process id the reader was opened for.
func (r *StatmReader) Pid() int { return r.pid }

// Close closes the kept-open statm. It is idempotent.
func (r *StatmReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.fd = nil, -1
	return err
}

// ReadStatm reads the resident set size and virtual memory size in bytes of
// process pid once, with procfs's Proc.Statm (which opens, reads and closes
// <root>/<pid>/statm). It is for callers that sample rarely, such as an
// introspection query; a periodic reader keeps a StatmReader open instead.
// Like a StatmReader, it reports a zombie's all-zero statm, and a process
// that does not exist, as errors wrapping ErrProcessGone. The file must
// have the kernel's seven fields: procfs indexes all of them.
func ReadStatm(root string, pid int) (rssBytes, vmBytes uint64, err error) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return 0, 0, fmt.Errorf("statm root %q: %w", root, err)
	}
	p, err := fs.Proc(pid)
	if err != nil {
		return 0, 0, fmt.Errorf("statm pid %d: %w", pid, goneErr(err))
	}
	s, err := p.Statm()
	if err != nil {
		return 0, 0, fmt.Errorf("statm pid %d: %w", pid, goneErr(err))
	}
	if s.Size == 0 {
		return 0, 0, fmt.Errorf("statm pid %d: no address space: %w", pid, ErrProcessGone)
	}
	return s.ResidentBytes(), s.SizeBytes(), nil
}

// parseStatm parses the two leading fields of a statm line ("size resident
// shared text lib data dt", in pages). It does not allocate on success.
func parseStatm(b []byte) (sizePages, residentPages uint64, err error) {
	sizePages, rest, ok := parseDecimalField(b)
	if !ok || len(rest) == 0 || rest[0] != ' ' {
		return 0, 0, errMalformedStatm
	}
	residentPages, rest, ok = parseDecimalField(rest[1:])
	if !ok || (len(rest) > 0 && rest[0] != ' ' && rest[0] != '\n') {
		return 0, 0, errMalformedStatm
	}
	return sizePages, residentPages, nil
}

// parseDecimalField parses the unsigned decimal at the start of b and
// returns the bytes after it. ok is false when b does not start with a digit
// or the number overflows uint64.
func parseDecimalField(b []byte) (v uint64, rest []byte, ok bool) {
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			break
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, nil, false
		}
		v = v*10 + d
	}
	return v, b[i:], i > 0
}
