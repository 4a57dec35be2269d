package rpcserver

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procagent/procagent/profiling"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// dumpTarget converts a dump request's target oneof.
func dumpTarget(m *procagentv1.PySpyDumpRequest) (profiling.Target, error) {
	switch t := m.GetTarget().(type) {
	case *procagentv1.PySpyDumpRequest_ActorId:
		return actorTarget(t.ActorId)
	case *procagentv1.PySpyDumpRequest_Pid:
		return pidTarget(t.Pid)
	}
	return profiling.Target{}, errNoTarget
}

// profileTarget converts a profile request's target oneof.
func profileTarget(m *procagentv1.PySpyProfileRequest) (profiling.Target, error) {
	switch t := m.GetTarget().(type) {
	case *procagentv1.PySpyProfileRequest_ActorId:
		return actorTarget(t.ActorId)
	case *procagentv1.PySpyProfileRequest_Pid:
		return pidTarget(t.Pid)
	}
	return profiling.Target{}, errNoTarget
}

var errNoTarget = fmt.Errorf("%w: no target: give an actor_id or a pid", profiling.ErrInvalid)

func actorTarget(id string) (profiling.Target, error) {
	if id == "" {
		return profiling.Target{}, fmt.Errorf("%w: empty actor_id", profiling.ErrInvalid)
	}
	return profiling.Target{ActorID: id}, nil
}

func pidTarget(pid int64) (profiling.Target, error) {
	if pid <= 0 {
		return profiling.Target{}, fmt.Errorf("%w: pid %d", profiling.ErrInvalid, pid)
	}
	return profiling.Target{Pid: pid}, nil
}

// dumpOptions converts a dump request's options.
func dumpOptions(m *procagentv1.PySpyDumpRequest) profiling.DumpOptions {
	return profiling.DumpOptions{
		Native: m.GetNative(), NativeAll: m.GetNativeAll(), Nonblocking: m.GetNonblocking(),
		Locals: m.GetLocals(), Subprocesses: m.GetSubprocesses(),
		GIL: m.GetGil(), Threads: m.GetThreads(),
	}
}

// profileOptions converts a profile request's options; the Profiler
// validates them, after the target. Only a duration that is not a valid
// encoding (a malformed message, as protojson would refuse) is an error
// here; a format number the schema lacks is passed on as its number, for
// the Profiler to refuse.
func profileOptions(m *procagentv1.PySpyProfileRequest) (profiling.ProfileOptions, error) {
	d, err := durationFromProto("duration", m.GetDuration())
	if err != nil {
		return profiling.ProfileOptions{}, err
	}
	format, ok := formatNames[m.GetFormat()]
	if !ok {
		format = strconv.Itoa(int(m.GetFormat()))
	}
	return profiling.ProfileOptions{
		Duration: d, RateHz: int(m.GetRateHz()), Format: format,
		Native: m.GetNative(), Idle: m.GetIdle(), GIL: m.GetGil(),
		Subprocesses: m.GetSubprocesses(), Nonblocking: m.GetNonblocking(),
		Threads: m.GetThreads(),
	}, nil
}

// durationFromProto converts an optional proto duration; absent is 0.
func durationFromProto(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", profiling.ErrInvalid, field, err)
	}
	return d.AsDuration(), nil
}

// formatNames maps the wire formats to ProfileOptions.Format.
var formatNames = map[procagentv1.ProfileFormat]string{
	procagentv1.ProfileFormat_PROFILE_FORMAT_UNSPECIFIED: profiling.FormatPprof,
	procagentv1.ProfileFormat_PROFILE_FORMAT_PPROF:       profiling.FormatPprof,
	procagentv1.ProfileFormat_PROFILE_FORMAT_FLAMEGRAPH:  profiling.FormatFlamegraph,
	procagentv1.ProfileFormat_PROFILE_FORMAT_SPEEDSCOPE:  profiling.FormatSpeedscope,
	procagentv1.ProfileFormat_PROFILE_FORMAT_RAW:         profiling.FormatRaw,
}

// formatValues maps Ok.Format to the wire formats; "" (a dump) is
// unspecified.
var formatValues = map[string]procagentv1.ProfileFormat{
	profiling.FormatPprof:      procagentv1.ProfileFormat_PROFILE_FORMAT_PPROF,
	profiling.FormatFlamegraph: procagentv1.ProfileFormat_PROFILE_FORMAT_FLAMEGRAPH,
	profiling.FormatSpeedscope: procagentv1.ProfileFormat_PROFILE_FORMAT_SPEEDSCOPE,
	profiling.FormatRaw:        procagentv1.ProfileFormat_PROFILE_FORMAT_RAW,
}

// setOutcome sets the outcome oneof of a dump or profile response from r.
// Both responses name their outcomes alike, so the one switch over a
// Result (outcomeToProto) serves both: the field is found by name.
func setOutcome(resp proto.Message, r profiling.Result) error {
	name, msg := outcomeToProto(r)
	if msg == nil {
		return errors.New("sampler gave no outcome")
	}
	m := resp.ProtoReflect()
	fd := m.Descriptor().Fields().ByName(name)
	if fd == nil {
		return fmt.Errorf("%s has no outcome %s", m.Descriptor().FullName(), name)
	}
	m.Set(fd, protoreflect.ValueOfMessage(msg.ProtoReflect()))
	return nil
}

// outcomeToProto converts the set field of a Result to the name of its
// oneof field and its message; nil when none is set.
func outcomeToProto(r profiling.Result) (protoreflect.Name, proto.Message) {
	switch {
	case r.Ok != nil:
		return "ok", okToProto(r.Ok)
	case r.BinaryNotFound != nil:
		return "binary_not_found", &procagentv1.BinaryNotFound{Searched: r.BinaryNotFound.Searched}
	case r.PermissionDenied != nil:
		return "permission_denied", &procagentv1.PermissionDenied{Hint: r.PermissionDenied.Hint}
	case r.TimedOut != nil:
		return "timed_out", &procagentv1.TimedOut{After: durationpb.New(r.TimedOut.After)}
	case r.ExitFailure != nil:
		f := r.ExitFailure
		return "exit_failure", &procagentv1.ExitFailure{
			Code:   int32(f.Code), //nolint:gosec // an exit code
			Stderr: f.Stderr, Sampler: f.Sampler, Version: f.Version, PythonVersion: f.PythonVersion,
			Executable: f.Executable,
		}
	case r.OutputMissing != nil:
		return "output_missing", &procagentv1.OutputMissing{}
	case r.OutputEmpty != nil:
		e := r.OutputEmpty
		return "output_empty", &procagentv1.OutputEmpty{
			Sampler: e.Sampler, Version: e.Version, PythonVersion: e.PythonVersion, StderrTail: e.StderrTail,
			Executable: e.Executable,
		}
	case r.Unsupported != nil:
		u := r.Unsupported
		return "unsupported", &procagentv1.Unsupported{PythonVersion: u.PythonVersion, Samplers: u.Samplers, Hint: u.Hint}
	}
	return "", nil
}

// okToProto converts a successful dump or profile.
func okToProto(ok *profiling.Ok) *procagentv1.PySpyOk {
	out := &procagentv1.PySpyOk{
		Pid: int64(ok.Pid), Binary: ok.Binary, Path: ok.Path,
		Profile: ok.Profile, Format: formatValues[ok.Format],
		Samples:  uint32(ok.Samples), //nolint:gosec // a count of samples
		Warnings: ok.Warnings,
	}
	for _, p := range ok.Processes {
		ps := &procagentv1.ProcessStacks{Pid: int64(p.Pid), Command: p.Command}
		for _, t := range p.Threads {
			ts := &procagentv1.ThreadStack{Id: t.ID, NativeId: t.NativeID, Name: t.Name, Active: t.Active, OwnsGil: t.OwnsGIL}
			for _, f := range t.Frames {
				ts.Frames = append(ts.Frames, &procagentv1.Frame{
					Name: f.Name, File: f.File, Module: f.Module, Locals: f.Locals,
					Line: int32(f.Line), //nolint:gosec // a line number
				})
			}
			ps.Threads = append(ps.Threads, ts)
		}
		out.Processes = append(out.Processes, ps)
	}
	return out
}
