package rpcserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/procagent"
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
// record it. The Profiler checks the target before the options, so a target
// it may not sample is answered as PySpyDump answers it, whatever the
// options.
func (s *Server) PySpyProfile(ctx context.Context, req *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error) {
	if s.profiler == nil {
		return nil, errNoProfiling
	}
	target, err := profileTarget(req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	opts, err := profileOptions(req.Msg)
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

// GoProfile implements the RPC: a profile of the agent itself, with a
// warning when it is a block or mutex snapshot taken while that profile's
// sampling is off.
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
		Warnings: goProfileWarnings(m.GetName(), d),
	}), nil
}

// samplingSettings names the setting that turns on the sampling of each Go
// profile that has one.
var samplingSettings = map[string]string{"block": "block_profile_rate", "mutex": "mutex_profile_fraction"}

// goProfileWarnings says what a Go profile of name taken over d may lack:
// a block or mutex snapshot taken while its sampling is off holds only
// what earlier profiles over a duration sampled.
func goProfileWarnings(name string, d time.Duration) []string {
	setting, ok := samplingSettings[name]
	if !ok || d > 0 || !profiling.GoSamplingOff(name) {
		return nil
	}
	how := setting
	for _, k := range procagent.ConfigKeys() {
		if k.Name == setting {
			how = fmt.Sprintf("%s (flag -%s, env %s)", setting, k.Flag, k.EnvVar)
		}
	}
	return []string{fmt.Sprintf("%s profile sampling is off: this snapshot holds only what earlier %s profiles with a duration sampled; "+
		"set %s above 0 to sample all the time, or ask for a duration to sample for it", name, name, how)}
}
