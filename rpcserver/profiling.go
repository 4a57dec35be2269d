package rpcserver

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/profiling"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// errNoProfiling answers the profiling RPCs of a server built without a
// Profiler.
var errNoProfiling = connect.NewError(connect.CodeUnimplemented, errors.New("profiling is not enabled on this agent"))

// PySpyDump implements the RPC: the target's Python stacks, or the typed
// outcome of a sampler that could not produce them.
func (s *Server) PySpyDump(ctx context.Context, req *connect.Request[procagentv1.PySpyDumpRequest]) (*connect.Response[procagentv1.PySpyDumpResponse], error) {
	if s.profiler == nil {
		return nil, errNoProfiling
	}
	target, err := dumpTarget(req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	res, err := s.profiler.Dump(ctx, target, dumpOptions(req.Msg))
	if err != nil {
		return nil, connectError(err)
	}
	out := &procagentv1.PySpyDumpResponse{}
	if err := setOutcome(out, res); err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(out), nil
}

// PySpyProfile implements the RPC: a profile of the target recorded for
// the requested duration, or the typed outcome of a sampler that could not
// record it.
func (s *Server) PySpyProfile(ctx context.Context, req *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error) {
	if s.profiler == nil {
		return nil, errNoProfiling
	}
	opts, err := profileOptions(req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	target, err := profileTarget(req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	res, err := s.profiler.Profile(ctx, target, opts)
	if err != nil {
		return nil, connectError(err)
	}
	out := &procagentv1.PySpyProfileResponse{}
	if err := setOutcome(out, res); err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(out), nil
}

// GoProfile implements the RPC: a profile of the agent itself.
func (s *Server) GoProfile(ctx context.Context, req *connect.Request[procagentv1.GoProfileRequest]) (*connect.Response[procagentv1.GoProfileResponse], error) {
	if s.profiler == nil {
		return nil, errNoProfiling
	}
	m := req.Msg
	d, err := durationFromProto("duration", m.GetDuration())
	if err != nil {
		return nil, connectError(err)
	}
	debug := int(m.GetDebug())
	b, err := s.profiler.GoProfile(ctx, m.GetName(), d, debug)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.GoProfileResponse{
		Profile: b, Name: m.GetName(), ContentType: profiling.GoProfileContentType(debug),
	}), nil
}
