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
	GetUnsupported() *procagentv1.Unsupported
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

// outcomeError describes a failed outcome as a plain sentence a person
// can act on. It is reported like an RPC error, under the code the
// condition would have as one, so that ctl's error line stays
// "error: CODE: MESSAGE"; -o json prints the response's fields first.
func outcomeError(m outcome) error {
	var code connect.Code
	var msg string
	switch {
	case m.GetBinaryNotFound() != nil:
		code = connect.CodeFailedPrecondition
		msg = "the agent has no Python sampler: install py-spy (pip install py-spy) or run `make deps` " +
			"to build austin, then restart the agent; searched: " + strings.Join(m.GetBinaryNotFound().GetSearched(), ", ")
	case m.GetPermissionDenied() != nil:
		code = connect.CodePermissionDenied
		msg = "the sampler may not read the process: " + m.GetPermissionDenied().GetHint()
	case m.GetTimedOut() != nil:
		code = connect.CodeDeadlineExceeded
		msg = fmt.Sprintf("the sampler did not finish and was stopped after %v: the process may be stuck in native code; try again, or try --nonblocking",
			m.GetTimedOut().GetAfter().AsDuration())
	case m.GetExitFailure() != nil:
		f := m.GetExitFailure()
		code = connect.CodeInternal
		msg = fmt.Sprintf("%s failed with exit code %d%s: %s", samplerName(f.GetSampler(), f.GetVersion()), f.GetCode(),
			onPython(f.GetPythonVersion()), joinLines(f.GetStderr()))
		msg = withHint(msg, notPython(f.GetPythonVersion(), f.GetExecutable()))
	case m.GetOutputMissing() != nil:
		code = connect.CodeInternal
		msg = "the sampler finished without writing anything: try again; if it persists, the sampler cannot read this process"
	case m.GetOutputEmpty() != nil:
		e := m.GetOutputEmpty()
		code = connect.CodeInternal
		msg = fmt.Sprintf("%s read no Python stacks from the process%s: is it a Python process, and past its start?",
			samplerName(e.GetSampler(), e.GetVersion()), onPython(e.GetPythonVersion()))
		if tail := joinLines(e.GetStderrTail()); tail != "" {
			msg += " The sampler said: " + tail
		}
		msg = withHint(msg, notPython(e.GetPythonVersion(), e.GetExecutable()))
	case m.GetUnsupported() != nil:
		u := m.GetUnsupported()
		code = connect.CodeFailedPrecondition
		found := "none"
		if len(u.GetSamplers()) > 0 {
			found = strings.Join(u.GetSamplers(), ", ")
		}
		msg = fmt.Sprintf("no sampler on the agent can read Python %s (found: %s). %s", u.GetPythonVersion(), found, u.GetHint())
	default:
		code = connect.CodeUnknown
		msg = "the agent's response holds no outcome"
	}
	return connect.NewError(code, errors.New(msg))
}

// samplerName is "austin 3.7.0", "austin", or "the sampler".
func samplerName(sampler, version string) string {
	switch {
	case sampler == "":
		return "the sampler"
	case version == "":
		return sampler
	}
	return sampler + " " + version
}

// joinLines puts a sampler's stderr on one line: the lines of a
// paragraph (samplers wrap their sentences) joined by spaces, paragraphs
// by " / ".
func joinLines(s string) string {
	var paras []string
	var para []string
	flush := func() {
		if len(para) > 0 {
			paras = append(paras, strings.Join(para, " "))
			para = para[:0]
		}
	}
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l == "" {
			flush()
			continue
		}
		para = append(para, l)
	}
	flush()
	return strings.Join(paras, " / ")
}

// notPython says what the target runs when the agent named no Python in it
// (its executable names no version and no libpython is mapped), and what
// to try: a version manager's shim (pyenv's is a shell script) runs before
// the interpreter replaces it, and a launcher may run Python as its child.
// "" when the version is known or the executable unread.
func notPython(pythonVersion, executable string) string {
	if pythonVersion != "" || executable == "" {
		return ""
	}
	return fmt.Sprintf("The process runs %s, in which the agent finds no Python: if it is still starting "+
		"(a version manager's shim, such as pyenv's, runs before the interpreter), try again in a moment; "+
		"if Python runs as its child, add --subprocesses.", executable)
}

// withHint appends the sentence hint to msg, ending msg's sentence first.
func withHint(msg, hint string) string {
	switch {
	case hint == "":
		return msg
	case strings.HasSuffix(msg, ".") || strings.HasSuffix(msg, "?"):
		return msg + " " + hint
	}
	return msg + ". " + hint
}

// onPython is " on Python 3.11", or "" when the version is unknown.
func onPython(v string) string {
	if v == "" {
		return ""
	}
	return " on Python " + v
}
