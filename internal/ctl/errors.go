package ctl

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"
)

// usageError is a bad command line: exit code 2 and the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// partialError is an answer that arrived but is not what the command
// awaited (some ranks of a fleet below it): exit code 1 and the one line,
// with no RPC code, since no call failed.
type partialError struct{ msg string }

func (e *partialError) Error() string { return e.msg }

// reportError prints a failed call's error as "error: <code>: <message>"
// (a partialError as "agent ctl: <message>") and returns the exit code.
func reportError(stderr io.Writer, err error) int {
	var pe *partialError
	if errors.As(err, &pe) {
		fmt.Fprintf(stderr, "agent ctl: %s\n", pe.msg)
		return exitError
	}
	code := connect.CodeOf(err)
	msg := err.Error()
	var ce *connect.Error
	if errors.As(err, &ce) {
		msg = ce.Message()
	}
	msg = strings.TrimPrefix(msg, code.String()+": ")
	fmt.Fprintf(stderr, "error: %s: %s\n", code, msg)
	if code == connect.CodeDeadlineExceeded {
		fmt.Fprintln(stderr, "hint: the request's deadline passed; --timeout D sets another (0 for none)")
	}
	return exitError
}
