package profiling

import (
	"google.golang.org/protobuf/types/known/durationpb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// outcomeToProto converts the set field of a Result to its proto message;
// nil when none is set.
func outcomeToProto(r Result) any {
	switch {
	case r.Ok != nil:
		return okToProto(r.Ok)
	case r.BinaryNotFound != nil:
		return &procagentv1.BinaryNotFound{Searched: r.BinaryNotFound.Searched}
	case r.PermissionDenied != nil:
		return &procagentv1.PermissionDenied{Hint: r.PermissionDenied.Hint}
	case r.TimedOut != nil:
		return &procagentv1.TimedOut{After: durationpb.New(r.TimedOut.After)}
	case r.ExitFailure != nil:
		return &procagentv1.ExitFailure{Code: int32(r.ExitFailure.Code), Stderr: r.ExitFailure.Stderr} //nolint:gosec // an exit code
	case r.OutputMissing != nil:
		return &procagentv1.OutputMissing{}
	case r.OutputEmpty != nil:
		return &procagentv1.OutputEmpty{}
	}
	return nil
}

// okToProto converts a successful dump or profile.
func okToProto(ok *Ok) *procagentv1.PySpyOk {
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

// formatValues maps Ok.Format to the wire formats; "" (a dump) is
// unspecified.
var formatValues = map[string]procagentv1.ProfileFormat{
	FormatPprof:      procagentv1.ProfileFormat_PROFILE_FORMAT_PPROF,
	FormatFlamegraph: procagentv1.ProfileFormat_PROFILE_FORMAT_FLAMEGRAPH,
	FormatSpeedscope: procagentv1.ProfileFormat_PROFILE_FORMAT_SPEEDSCOPE,
	FormatRaw:        procagentv1.ProfileFormat_PROFILE_FORMAT_RAW,
}
