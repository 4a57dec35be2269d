package procagent

import (
	"context"
	"errors"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Service adapts the Agent to the generated Connect handler interface: proto
// in, domain call, proto out, and errors mapped to codes by connectError.
type Service struct {
	agent     *Agent
	profiling ProfilingHandler
}

var _ procagentv1connect.ProcAgentServiceHandler = (*Service)(nil)

// ProfilingHandler serves the profiling RPCs (SPEC §6). The profiling
// package implements it; the agent only routes to it.
type ProfilingHandler interface {
	PySpyDump(context.Context, *connect.Request[procagentv1.PySpyDumpRequest]) (*connect.Response[procagentv1.PySpyDumpResponse], error)
	PySpyProfile(context.Context, *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error)
	GoProfile(context.Context, *connect.Request[procagentv1.GoProfileRequest]) (*connect.Response[procagentv1.GoProfileResponse], error)
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithProfiling routes the profiling RPCs to h; without it they answer
// Unimplemented.
func WithProfiling(h ProfilingHandler) ServiceOption { return func(s *Service) { s.profiling = h } }

// NewService returns the Connect service over agent.
func NewService(agent *Agent, opts ...ServiceOption) *Service {
	s := &Service{agent: agent}
	for _, o := range opts {
		o(s)
	}
	return s
}

// compressMinBytes: responses are compressed only above 1 KiB.
const compressMinBytes = 1024

// Mount registers the ProcAgentService (Connect, gRPC and gRPC-Web), gRPC
// health and gRPC reflection on mux.
func (s *Service) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	opts = append([]connect.HandlerOption{connect.WithCompressMinBytes(compressMinBytes)}, opts...)
	mux.Handle(procagentv1connect.NewProcAgentServiceHandler(s, opts...))
	checker := grpchealth.NewStaticChecker(procagentv1connect.ProcAgentServiceName)
	mux.Handle(grpchealth.NewHandler(checker, opts...))
	reflector := grpcreflect.NewStaticReflector(procagentv1connect.ProcAgentServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector, opts...))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, opts...))
}

// connectError attaches the Connect code to a domain error: the one place
// codes are decided.
func connectError(err error) error {
	var code connect.Code
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrInvalidID), errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrInvalidOverlay):
		code = connect.CodeInvalidArgument
	case errors.Is(err, ErrNotFound):
		code = connect.CodeNotFound
	case errors.Is(err, ErrStopping), errors.Is(err, ErrNotRunning):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, ErrMailboxFull):
		code = connect.CodeResourceExhausted
	case errors.Is(err, ErrHandlerFailed):
		code = connect.CodeAborted
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	default:
		code = connect.CodeInternal
	}
	return connect.NewError(code, err)
}

// CreateOrUpdate implements the RPC.
func (s *Service) CreateOrUpdate(_ context.Context, req *connect.Request[procagentv1.CreateOrUpdateRequest]) (*connect.Response[procagentv1.CreateOrUpdateResponse], error) {
	m := req.Msg
	params, err := paramsFromProto(m.GetSpec().GetParams())
	if err != nil {
		return nil, connectError(err)
	}
	st, err := s.agent.CreateOrUpdate(m.GetId(), m.GetRank(), Spec{ActorType: m.GetSpec().GetActorType(), Params: params})
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.CreateOrUpdateResponse{State: stateToProto(st)}), nil
}

// Stop implements the RPC.
func (s *Service) Stop(_ context.Context, req *connect.Request[procagentv1.StopRequest]) (*connect.Response[procagentv1.StopResponse], error) {
	st, err := s.agent.Stop(req.Msg.GetId(), req.Msg.GetReason())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.StopResponse{State: stateToProto(st)}), nil
}

// StopAll implements the RPC: it answers once every actor is terminal.
func (s *Service) StopAll(ctx context.Context, req *connect.Request[procagentv1.StopAllRequest]) (*connect.Response[procagentv1.StopAllResponse], error) {
	res, err := s.agent.StopAll(ctx, req.Msg.GetReason())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.StopAllResponse{
		ExitCode: int32(res.ExitCode), //nolint:gosec // 0 or 1
		Stopped:  res.Stopped,
		Stopping: uint32(len(res.Stopped)), //nolint:gosec // a count of actors
	}), nil
}

// GetState implements the RPC.
func (s *Service) GetState(_ context.Context, req *connect.Request[procagentv1.GetStateRequest]) (*connect.Response[procagentv1.GetStateResponse], error) {
	st, err := s.agent.GetState(req.Msg.GetId())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.GetStateResponse{State: stateToProto(st)}), nil
}

// KeepaliveGetState implements the RPC.
func (s *Service) KeepaliveGetState(_ context.Context, req *connect.Request[procagentv1.KeepaliveGetStateRequest]) (*connect.Response[procagentv1.KeepaliveGetStateResponse], error) {
	ttl := req.Msg.GetTtl()
	if ttl != nil {
		if err := ttl.CheckValid(); err != nil {
			return nil, connectError(fmtErr(ErrInvalidArgument, "ttl: %v", err))
		}
	}
	st, err := s.agent.KeepaliveGetState(req.Msg.GetId(), ttl.AsDuration())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.KeepaliveGetStateResponse{State: stateToProto(st)}), nil
}

// StreamState implements the RPC.
func (s *Service) StreamState(ctx context.Context, req *connect.Request[procagentv1.StreamStateRequest], stream *connect.ServerStream[procagentv1.StreamStateResponse]) error {
	err := s.agent.StreamState(ctx, req.Msg.GetId(), func(st State) error {
		return stream.Send(&procagentv1.StreamStateResponse{State: stateToProto(st)})
	})
	return connectError(err)
}

// GetRankStatus implements the RPC.
func (s *Service) GetRankStatus(_ context.Context, req *connect.Request[procagentv1.GetRankStatusRequest]) (*connect.Response[procagentv1.GetRankStatusResponse], error) {
	o, err := s.agent.GetRankStatus(req.Msg.GetId(), req.Msg.GetRank())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.GetRankStatusResponse{Overlay: overlayToProto(o)}), nil
}

// WaitRankStatus implements the RPC.
func (s *Service) WaitRankStatus(ctx context.Context, req *connect.Request[procagentv1.WaitRankStatusRequest]) (*connect.Response[procagentv1.WaitRankStatusResponse], error) {
	minStatus, err := statusFromProto(req.Msg.GetMinStatus())
	if err != nil {
		return nil, connectError(err)
	}
	o, err := s.agent.WaitRankStatus(ctx, req.Msg.GetId(), req.Msg.GetRank(), minStatus)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.WaitRankStatusResponse{Overlay: overlayToProto(o)}), nil
}

// List implements the RPC.
func (s *Service) List(context.Context, *connect.Request[procagentv1.ListRequest]) (*connect.Response[procagentv1.ListResponse], error) {
	entries := s.agent.List()
	out := &procagentv1.ListResponse{Actors: make([]*procagentv1.ListEntry, 0, len(entries))}
	for _, e := range entries {
		out.Actors = append(out.Actors, &procagentv1.ListEntry{Id: e.ID, Status: statusToProto(e.Status), ActorType: e.Type, Generation: e.Generation})
	}
	return connect.NewResponse(out), nil
}

// Send implements the RPC.
func (s *Service) Send(ctx context.Context, req *connect.Request[procagentv1.SendRequest]) (*connect.Response[procagentv1.SendResponse], error) {
	var payload any
	if p := req.Msg.GetPayload(); p != nil {
		payload = p.AsInterface()
	}
	st, reply, err := s.agent.Send(ctx, req.Msg.GetId(), payload, req.Msg.GetWait())
	if err != nil {
		return nil, connectError(err)
	}
	out := &procagentv1.SendResponse{State: stateToProto(st)}
	if req.Msg.GetWait() {
		out.Reply = replyToProto(reply)
	}
	return connect.NewResponse(out), nil
}

// QueryChild implements the RPC.
func (s *Service) QueryChild(_ context.Context, req *connect.Request[procagentv1.QueryChildRequest]) (*connect.Response[procagentv1.QueryChildResponse], error) {
	n, err := s.agent.QueryChild(req.Msg.GetRef())
	if err != nil {
		return nil, connectError(err)
	}
	res := &procagentv1.IntrospectResult{}
	if n.Proc != nil {
		res.Node = &procagentv1.IntrospectResult_Proc{Proc: procNodeToProto(n.Proc)}
	} else {
		res.Node = &procagentv1.IntrospectResult_Actor{Actor: actorNodeToProto(n.Actor)}
	}
	return connect.NewResponse(&procagentv1.QueryChildResponse{Result: res}), nil
}

// ConfigDump implements the RPC.
func (s *Service) ConfigDump(context.Context, *connect.Request[procagentv1.ConfigDumpRequest]) (*connect.Response[procagentv1.ConfigDumpResponse], error) {
	entries := s.agent.ConfigDump()
	out := &procagentv1.ConfigDumpResponse{Entries: make([]*procagentv1.ConfigEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, &procagentv1.ConfigEntry{
			Name: e.Name, Value: e.Value, DefaultValue: e.Default, Source: e.Source,
			EnvVar: e.EnvVar, Changed: e.Changed, Doc: e.Doc,
		})
	}
	return connect.NewResponse(out), nil
}

// errNoProfiling answers the profiling RPCs of an agent built without them.
var errNoProfiling = connect.NewError(connect.CodeUnimplemented, errors.New("profiling is not enabled on this agent"))

// PySpyDump implements the RPC by routing it to the profiling handler.
func (s *Service) PySpyDump(ctx context.Context, req *connect.Request[procagentv1.PySpyDumpRequest]) (*connect.Response[procagentv1.PySpyDumpResponse], error) {
	if s.profiling == nil {
		return nil, errNoProfiling
	}
	return s.profiling.PySpyDump(ctx, req)
}

// PySpyProfile implements the RPC by routing it to the profiling handler.
func (s *Service) PySpyProfile(ctx context.Context, req *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error) {
	if s.profiling == nil {
		return nil, errNoProfiling
	}
	return s.profiling.PySpyProfile(ctx, req)
}

// GoProfile implements the RPC by routing it to the profiling handler.
func (s *Service) GoProfile(ctx context.Context, req *connect.Request[procagentv1.GoProfileRequest]) (*connect.Response[procagentv1.GoProfileResponse], error) {
	if s.profiling == nil {
		return nil, errNoProfiling
	}
	return s.profiling.GoProfile(ctx, req)
}
