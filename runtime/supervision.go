package runtime

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// SupervisionEvent reports an actor's one terminal transition. Every actor
// produces exactly one; the first terminal outcome is final.
type SupervisionEvent struct {
	// Actor is the actor's name in its proc.
	Actor string
	// Type is the registered type name ("" for actors spawned by value).
	Type string
	// Status is STOPPED for a clean end, FAILED (or TIMEOUT) otherwise.
	Status Status
	// Reason says why: the stop reason, or the failure.
	Reason string
	// ExitCode is the exit code of a supervised process that exited, if any.
	ExitCode *int
	// Signal names the signal that ended a supervised process, if any.
	Signal string
	// Time is when the actor ended.
	Time time.Time
}

// IsError reports whether the event is a failure.
func (e SupervisionEvent) IsError() bool { return e.Status.IsFailure() }

// Coordinator receives the supervision events of a proc's actors. Supervise
// is called once per event on the goroutine of the actor that ended, after
// its terminal status is visible; it must not block.
type Coordinator interface {
	Supervise(ev SupervisionEvent)
}

// CoordinatorFunc adapts a function to the Coordinator interface.
type CoordinatorFunc func(SupervisionEvent)

// Supervise calls f.
func (f CoordinatorFunc) Supervise(ev SupervisionEvent) { f(ev) }

// ExitError is the failure of a supervised OS process: a non-zero exit code
// or a signal.
type ExitError struct {
	// Code is the exit code, or -1 when a signal ended the process.
	Code int
	// Signal is the signal that ended the process, or 0.
	Signal syscall.Signal
}

func (e *ExitError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("process killed by signal %d (%s)", int(e.Signal), SignalName(e.Signal))
	}
	return fmt.Sprintf("process exited with code %d", e.Code)
}

// PanicError is the failure of an actor whose handler panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// newEvent builds the supervision event for an actor that ended with err.
func newEvent(name, typ string, err error, stopReason string, exit *int, at time.Time) SupervisionEvent {
	ev := SupervisionEvent{Actor: name, Type: typ, Status: StatusStopped, Reason: stopReason, ExitCode: exit, Time: at}
	if err != nil {
		ev.Status = StatusFailed
		ev.Reason = err.Error()
		var ee *ExitError
		if errors.As(err, &ee) {
			if ee.Signal != 0 {
				ev.Signal = SignalName(ee.Signal)
			} else if ev.ExitCode == nil {
				code := ee.Code
				ev.ExitCode = &code
			}
		}
	}
	if ev.Status == StatusStopped && ev.Reason == "" {
		ev.Reason = "stopped"
	}
	return ev
}

// SignalName returns the conventional name of a signal, e.g. "SIGTERM".
func SignalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("SIG%d", int(s))
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
	syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1",
	syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2", syscall.SIGPIPE: "SIGPIPE",
	syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
}
