package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"google.golang.org/protobuf/proto"
)

// ctlOutcome is a py-spy response: one of its outcomes is set.
type ctlOutcome interface {
	proto.Message
	GetOk() *procagentv1.PySpyOk
	GetBinaryNotFound() *procagentv1.BinaryNotFound
	GetPermissionDenied() *procagentv1.PermissionDenied
	GetTimedOut() *procagentv1.TimedOut
	GetExitFailure() *procagentv1.ExitFailure
	GetOutputMissing() *procagentv1.OutputMissing
	GetOutputEmpty() *procagentv1.OutputEmpty
}

// ctlCheckOutcome returns the ok outcome of m. Any other outcome is an
// error (exit code 1) whose message starts with the outcome's kind; with -o
// json the response is printed first, for scripts.
func ctlCheckOutcome(c *ctlCall, m ctlOutcome) (*procagentv1.PySpyOk, error) {
	if ok := m.GetOk(); ok != nil {
		return ok, nil
	}
	if c.out.json {
		if err := c.out.message(m); err != nil {
			return nil, err
		}
	}
	return nil, ctlOutcomeError(m)
}

// ctlOutcomeError describes a failed outcome as "KIND: details". It is
// reported like an RPC error, under the code the condition would have as
// one, so that ctl's error line stays "error: CODE: MESSAGE".
func ctlOutcomeError(m ctlOutcome) error {
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

// ctlWriteDump writes a dump's stacks for people: per process its threads,
// per thread its frames innermost first as "func (file:line)", with locals
// below their frame.
func ctlWriteDump(w io.Writer, ok *procagentv1.PySpyOk) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sampled pid %d with %s (%s)\n", ok.GetPid(), ok.GetBinary(), ok.GetPath())
	for _, p := range ok.GetProcesses() {
		fmt.Fprintf(&b, "\nprocess %d: %s\n", p.GetPid(), p.GetCommand())
		for _, t := range p.GetThreads() {
			fmt.Fprintf(&b, "  thread %s%s%s\n", ctlThreadID(t), ctlThreadName(t.GetName()), ctlThreadState(t))
			for _, f := range t.GetFrames() {
				fmt.Fprintf(&b, "    %s\n", ctlFrame(f))
				for _, k := range slices.Sorted(maps.Keys(f.GetLocals())) {
					fmt.Fprintf(&b, "        %s = %s\n", k, f.GetLocals()[k])
				}
			}
		}
	}
	for _, warn := range ok.GetWarnings() {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// ctlThreadID is the OS thread id, else the Python one in hex.
func ctlThreadID(t *procagentv1.ThreadStack) string {
	if t.GetNativeId() != 0 {
		return ctlUint(t.GetNativeId())
	}
	return fmt.Sprintf("%#x", t.GetId())
}

func ctlThreadName(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}

// ctlThreadState is " (active, gil)", " (idle)", ...
func ctlThreadState(t *procagentv1.ThreadStack) string {
	state := "idle"
	if t.GetActive() {
		state = "active"
	}
	if t.GetOwnsGil() {
		state += ", gil"
	}
	return " (" + state + ")"
}

// ctlFrame formats a frame as "func (file:line)"; a native frame without a
// file names its module.
func ctlFrame(f *procagentv1.Frame) string {
	where := f.GetFile()
	switch {
	case where == "":
		where = f.GetModule()
	case f.GetLine() > 0:
		where = fmt.Sprintf("%s:%d", where, f.GetLine())
	}
	if where == "" {
		return f.GetName()
	}
	return fmt.Sprintf("%s (%s)", f.GetName(), where)
}

// ctlProgress shows "recording… 3s/10s" on w while a recording of total
// runs, until the returned stop is called: in place every second on a
// terminal, a line every 5 s otherwise.
func ctlProgress(w io.Writer, total time.Duration) (stop func()) {
	tty := ctlIsTerminal(w)
	every, format := 5*time.Second, "recording… %v/%v\n"
	if tty {
		every, format = time.Second, "\rrecording… %v/%v\033[K"
	}
	start := time.Now()
	show := func() {
		elapsed := min(time.Since(start), total).Truncate(time.Second)
		fmt.Fprintf(w, format, elapsed, total)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		show()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				show()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		if tty {
			fmt.Fprintln(w)
		}
	}
}

// ctlIsTerminal reports whether w is a terminal.
func ctlIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
