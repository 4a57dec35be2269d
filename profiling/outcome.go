package profiling

import (
	"fmt"
	"time"
)

// Result is the typed outcome of a dump or a profile: exactly one field is
// set. A failure to sample is a Result, not an error; errors are reserved
// for bad requests (ErrPermission for a target the agent may not profile,
// ErrInvalid for bad options).
type Result struct {
	Ok               *Ok
	BinaryNotFound   *BinaryNotFound
	PermissionDenied *PermissionDenied
	TimedOut         *TimedOut
	ExitFailure      *ExitFailure
	OutputMissing    *OutputMissing
	OutputEmpty      *OutputEmpty
	Unsupported      *Unsupported
}

// Ok is a successful dump or profile.
type Ok struct {
	// Pid is the process sampled (the actor's process for a dump of a tree).
	Pid int
	// Binary is the sampler that ran ("py-spy" or "austin") and Path its path.
	Binary, Path string
	// Processes holds a dump's stacks, one entry per process of the tree.
	Processes []ProcessStacks
	// Profile holds a profile's bytes in Format.
	Profile []byte
	// Format is the profile's format: pprof, flamegraph, speedscope or raw.
	Format string
	// Samples counts the stack samples a profile holds.
	Samples int
	// Warnings lists what was downgraded or skipped (e.g. native_all
	// unsupported, a non-Python child).
	Warnings []string
}

// ProcessStacks is one process's threads in a dump.
type ProcessStacks struct {
	Pid     int
	Command string
	Threads []ThreadStack
}

// ThreadStack is one thread's stack, innermost frame first.
type ThreadStack struct {
	ID       uint64
	NativeID uint64
	Name     string
	Active   bool
	OwnsGIL  bool
	Frames   []Frame
}

// Frame is one stack frame.
type Frame struct {
	Name   string
	File   string
	Line   int
	Module string
	// Locals maps local variable names to their repr, when asked for.
	Locals map[string]string
}

// BinaryNotFound says no sampler was found; Searched lists where it looked.
type BinaryNotFound struct{ Searched []string }

// PermissionDenied says the sampler could not attach (ptrace); Hint says
// what to grant (CAP_SYS_PTRACE, ptrace_scope).
type PermissionDenied struct{ Hint string }

// TimedOut says the sampler was killed after the deadline.
type TimedOut struct{ After time.Duration }

// ExitFailure says the sampler exited with a failure code.
type ExitFailure struct {
	Code int
	// Stderr is the last lines of the sampler's stderr (stderrTail).
	Stderr string
	// Sampler and Version name the sampler that ran; PythonVersion is the
	// target's ("3.11"), when known.
	Sampler, Version, PythonVersion string
	// Executable is the target's executable, when readable: what it runs
	// when PythonVersion is unknown.
	Executable string
}

// OutputMissing says the sampler exited 0 without writing its output.
type OutputMissing struct{}

// OutputEmpty says the sampler's output held no stacks.
type OutputEmpty struct {
	// Sampler and Version name the sampler that ran; PythonVersion is the
	// target's ("3.11"), when known.
	Sampler, Version, PythonVersion string
	// StderrTail is the last lines of the sampler's stderr.
	StderrTail string
	// Executable is the target's executable, when readable: what it runs
	// when PythonVersion is unknown.
	Executable string
}

// Unsupported says no sampler found can read the target's Python version.
type Unsupported struct {
	// PythonVersion is the target's, e.g. "3.11".
	PythonVersion string
	// Samplers lists the samplers found (Sampler.Describe).
	Samplers []string
	// Hint says which sampler and version would read the target.
	Hint string
}

// Kind names the set field: "ok", "binary_not_found", "permission_denied",
// "timed_out", "exit_failure", "output_missing", "output_empty" or
// "unsupported".
func (r Result) Kind() string {
	switch {
	case r.Ok != nil:
		return "ok"
	case r.BinaryNotFound != nil:
		return "binary_not_found"
	case r.PermissionDenied != nil:
		return "permission_denied"
	case r.TimedOut != nil:
		return "timed_out"
	case r.ExitFailure != nil:
		return "exit_failure"
	case r.OutputMissing != nil:
		return "output_missing"
	case r.OutputEmpty != nil:
		return "output_empty"
	case r.Unsupported != nil:
		return "unsupported"
	}
	return "none"
}

// String describes the outcome in one line.
func (r Result) String() string {
	switch {
	case r.Ok != nil:
		return fmt.Sprintf("ok: pid %d with %s", r.Ok.Pid, r.Ok.Binary)
	case r.BinaryNotFound != nil:
		return fmt.Sprintf("no sampler found (searched %v)", r.BinaryNotFound.Searched)
	case r.PermissionDenied != nil:
		return "permission denied: " + r.PermissionDenied.Hint
	case r.TimedOut != nil:
		return fmt.Sprintf("timed out after %v", r.TimedOut.After)
	case r.ExitFailure != nil:
		return fmt.Sprintf("sampler exited with code %d: %s", r.ExitFailure.Code, r.ExitFailure.Stderr)
	case r.OutputMissing != nil:
		return "sampler wrote no output"
	case r.OutputEmpty != nil:
		return "sampler output held no stacks"
	case r.Unsupported != nil:
		return fmt.Sprintf("no sampler reads Python %s (found %v): %s", r.Unsupported.PythonVersion, r.Unsupported.Samplers, r.Unsupported.Hint)
	}
	return "no outcome"
}

// DumpOptions are the options of a py-spy dump.
type DumpOptions struct {
	Native, NativeAll, Nonblocking, Locals, Subprocesses bool
	// GIL keeps only the thread holding the GIL (py-spy says which;
	// austin cannot, a warning says so).
	GIL bool
	// Threads keeps only these threads (by thread id or native id); none
	// means every thread.
	Threads []uint64
}

// ProfileOptions are the options of a recorded profile.
type ProfileOptions struct {
	// Duration is how long to record: 1 s to 300 s.
	Duration time.Duration
	// RateHz is the sampling rate: 1 to 1000 (default 100).
	RateHz int
	// Format is pprof (default), flamegraph, speedscope or raw.
	Format                                       string
	Native, Idle, GIL, Subprocesses, Nonblocking bool
	// Threads keeps only the samples of these threads (by the id the
	// sampler reports: py-spy's thread id, austin's native id); none means
	// every thread.
	Threads []uint64
}
