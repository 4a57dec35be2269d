package ctl

import (
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// outcome is a py-spy response: one of its outcomes is set.
type outcome interface {
	proto.Message
	GetOk() *procagentv1.PySpyOk
	GetBinaryNotFound() *procagentv1.BinaryNotFound
	GetPermissionDenied() *procagentv1.PermissionDenied
	GetTimedOut() *procagentv1.TimedOut
	GetExitFailure() *procagentv1.ExitFailure
	GetOutputMissing() *procagentv1.OutputMissing
	GetOutputEmpty() *procagentv1.OutputEmpty
}

// checkOutcome returns the ok outcome of m. Any other outcome is an
// error (exit code 1) whose message starts with the outcome's kind; with -o
// json the response is printed first, for scripts.
func checkOutcome(c *call, m outcome) (*procagentv1.PySpyOk, error) {
	if ok := m.GetOk(); ok != nil {
		return ok, nil
	}
	if c.out.json {
		if err := c.out.message(m); err != nil {
			return nil, err
		}
	}
	return nil, outcomeError(m)
}

// outcomeError describes a failed outcome as "KIND: details". It is
// reported like an RPC error, under the code the condition would have as
// one, so that ctl's error line stays "error: CODE: MESSAGE".
func outcomeError(m outcome) error {
	var code connect.Code
	var msg string
	switch {
	case m.GetBinaryNotFound() != nil:
		code = connect.CodeFailedPrecondition
		msg = "binary_not_found: no py-spy or austin on the agent; searched: " + strings.Join(m.GetBinaryNotFound().GetSearched(), ", ")
	case m.GetPermissionDenied() != nil:
		code = connect.CodePermissionDenied
		msg = "permission_denied: the sampler could not attach: " + m.GetPermissionDenied().GetHint()
	case m.GetTimedOut() != nil:
		code = connect.CodeDeadlineExceeded
		msg = fmt.Sprintf("timed_out: the sampler was killed after %v", m.GetTimedOut().GetAfter().AsDuration())
	case m.GetExitFailure() != nil:
		code = connect.CodeInternal
		msg = fmt.Sprintf("exit_failure: the sampler exited with code %d: %s", m.GetExitFailure().GetCode(), strings.TrimSpace(m.GetExitFailure().GetStderr()))
	case m.GetOutputMissing() != nil:
		code = connect.CodeInternal
		msg = "output_missing: the sampler exited cleanly without output"
	case m.GetOutputEmpty() != nil:
		code = connect.CodeInternal
		msg = "output_empty: the sampler's output held no stacks"
	default:
		code = connect.CodeUnknown
		msg = "the agent's response holds no outcome"
	}
	return connect.NewError(code, errors.New(msg))
}
