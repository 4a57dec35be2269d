package rpcserver

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
)

// codes maps the domain's expected conditions to Connect codes, first
// match wins. It is the one place the agent decides codes: the domain
// packages declare sentinels and never see a code.
var codes = []struct {
	err  error
	code connect.Code
}{
	{procagent.ErrInvalidID, connect.CodeInvalidArgument},
	{procagent.ErrInvalidArgument, connect.CodeInvalidArgument},
	{procagent.ErrInvalidOverlay, connect.CodeInvalidArgument},
	{profiling.ErrInvalid, connect.CodeInvalidArgument},
	{procagent.ErrNotFound, connect.CodeNotFound},
	{profiling.ErrUnknownActor, connect.CodeNotFound},
	{procagent.ErrStopping, connect.CodeFailedPrecondition},
	{procagent.ErrNotRunning, connect.CodeFailedPrecondition},
	{profiling.ErrNotAProcess, connect.CodeFailedPrecondition},
	{profiling.ErrPermission, connect.CodePermissionDenied},
	{procagent.ErrMailboxFull, connect.CodeResourceExhausted},
	{profiling.ErrBusy, connect.CodeResourceExhausted},
	{procagent.ErrLimit, connect.CodeResourceExhausted},
	{procagent.ErrHandlerFailed, connect.CodeAborted},
	{context.DeadlineExceeded, connect.CodeDeadlineExceeded},
	{context.Canceled, connect.CodeCanceled},
}

// connectError attaches the Connect code to a domain error; anything not
// in codes is Internal. nil stays nil.
func connectError(err error) error {
	if err == nil {
		return nil
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return connect.NewError(c.code, err)
		}
	}
	return connect.NewError(connect.CodeInternal, err)
}

// invalid is a malformed request found while converting it.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", procagent.ErrInvalidArgument, fmt.Sprintf(format, args...))
}
