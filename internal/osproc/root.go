package osproc

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/prometheus/procfs"
)

// DefaultRoot is where the kernel's procfs is mounted: the root every
// production reader is given.
const DefaultRoot = procfs.DefaultMountPoint

// ErrProcessGone reports that a process can no longer be read: it has been
// reaped (the kernel answers ESRCH on a kept-open proc file, or ENOENT on
// open), or it is a zombie whose address space is already gone (statm
// reads all zeros). The owner of a StatmReader drops it on this error.
var ErrProcessGone = errors.New("process gone")

// CheckRoot returns an error unless root can be read as a procfs: a
// directory (DefaultRoot, or a testdata copy of the files a test needs).
func CheckRoot(root string) error {
	if _, err := procfs.NewFS(root); err != nil {
		return fmt.Errorf("proc root %q: %w", root, err)
	}
	return nil
}

// goneErr adds ErrProcessGone to the errors that mean the process ended:
// ESRCH from a kept-open proc file, ENOENT from opening one.
func goneErr(err error) error {
	if errors.Is(err, syscall.ESRCH) || errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrProcessGone, err)
	}
	return err
}
