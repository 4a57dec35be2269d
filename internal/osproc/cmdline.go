package osproc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/procfs"
)

// Executable returns the path of process pid's executable under the procfs
// at root (/proc/PID/exe, read with procfs's Proc.Executable). The error
// wraps ErrProcessGone when the process does not exist; reading another
// user's process needs the right to ptrace it.
func Executable(root string, pid int) (string, error) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return "", fmt.Errorf("proc root %q: %w", root, err)
	}
	p, err := fs.Proc(pid)
	if err == nil {
		var exe string
		if exe, err = p.Executable(); err == nil {
			return exe, nil
		}
	}
	return "", fmt.Errorf("executable pid %d: %w", pid, goneErr(err))
}

// Command returns the name ps gives process pid under the procfs at root:
// its command line, arguments joined by spaces, or its comm in brackets
// when the command line is empty (a kernel thread, a zombie). Both are
// read with procfs (Proc.CmdLine, Proc.Comm). The error says why neither
// could be read; it wraps ErrProcessGone when the process does not exist.
// The text is the kernel's: it need not be valid UTF-8.
func Command(root string, pid int) (string, error) {
	fs, err := procfs.NewFS(root)
	if err != nil {
		return "", fmt.Errorf("proc root %q: %w", root, err)
	}
	p, err := fs.Proc(pid)
	if err != nil {
		return "", fmt.Errorf("command pid %d: %w", pid, goneErr(err))
	}
	args, err := p.CmdLine()
	if err == nil {
		if c := strings.TrimSpace(strings.Join(args, " ")); c != "" {
			return c, nil
		}
	}
	comm, commErr := p.Comm()
	if commErr != nil {
		return "", fmt.Errorf("command pid %d: %w", pid, goneErr(errors.Join(err, commErr)))
	}
	return "[" + comm + "]", nil
}
