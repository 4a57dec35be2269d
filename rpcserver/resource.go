package rpcserver

import (
	"context"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// The handlers of the resource behaviour: decode, call procagent.Agent,
// encode. docs/semantics.md describes the behaviour; the proto comments say
// it per RPC.

// CreateOrUpdate implements the RPC.
func (s *Server) CreateOrUpdate(_ context.Context, req *connect.Request[procagentv1.CreateOrUpdateRequest]) (*connect.Response[procagentv1.CreateOrUpdateResponse], error) {
	m := req.Msg
	params, err := paramsFromProto(m.GetSpec().GetParams())
	if err != nil {
		return nil, connectError(err)
	}
	st, err := s.agent.CreateOrUpdate(m.GetId(), m.GetRank(), procagent.Spec{ActorType: m.GetSpec().GetActorType(), Params: params})
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.CreateOrUpdateResponse{State: stateToProto(st)}), nil
}

// Stop implements the RPC.
func (s *Server) Stop(_ context.Context, req *connect.Request[procagentv1.StopRequest]) (*connect.Response[procagentv1.StopResponse], error) {
	st, err := s.agent.Stop(req.Msg.GetId(), req.Msg.GetReason())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.StopResponse{State: stateToProto(st)}), nil
}

// StopAll implements the RPC: it answers once every actor is terminal.
func (s *Server) StopAll(ctx context.Context, req *connect.Request[procagentv1.StopAllRequest]) (*connect.Response[procagentv1.StopAllResponse], error) {
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
func (s *Server) GetState(_ context.Context, req *connect.Request[procagentv1.GetStateRequest]) (*connect.Response[procagentv1.GetStateResponse], error) {
	st, err := s.agent.GetState(req.Msg.GetId())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.GetStateResponse{State: stateToProto(st)}), nil
}

// KeepaliveGetState implements the RPC.
func (s *Server) KeepaliveGetState(_ context.Context, req *connect.Request[procagentv1.KeepaliveGetStateRequest]) (*connect.Response[procagentv1.KeepaliveGetStateResponse], error) {
	ttl := req.Msg.GetTtl()
	if ttl != nil {
		if err := ttl.CheckValid(); err != nil {
			return nil, connectError(invalid("ttl: %v", err))
		}
	}
	st, err := s.agent.KeepaliveGetState(req.Msg.GetId(), ttl.AsDuration())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.KeepaliveGetStateResponse{State: stateToProto(st)}), nil
}

// StreamState implements the RPC.
func (s *Server) StreamState(ctx context.Context, req *connect.Request[procagentv1.StreamStateRequest], stream *connect.ServerStream[procagentv1.StreamStateResponse]) error {
	err := s.agent.StreamState(ctx, req.Msg.GetId(), func(st procagent.State) error {
		return stream.Send(&procagentv1.StreamStateResponse{State: stateToProto(st)})
	})
	return connectError(err)
}

// GetRankStatus implements the RPC.
func (s *Server) GetRankStatus(_ context.Context, req *connect.Request[procagentv1.GetRankStatusRequest]) (*connect.Response[procagentv1.GetRankStatusResponse], error) {
	o, err := s.agent.GetRankStatus(req.Msg.GetId(), req.Msg.GetRank())
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.GetRankStatusResponse{Overlay: overlayToProto(o)}), nil
}

// WaitRankStatus implements the RPC.
func (s *Server) WaitRankStatus(ctx context.Context, req *connect.Request[procagentv1.WaitRankStatusRequest]) (*connect.Response[procagentv1.WaitRankStatusResponse], error) {
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
func (s *Server) List(context.Context, *connect.Request[procagentv1.ListRequest]) (*connect.Response[procagentv1.ListResponse], error) {
	entries := s.agent.List()
	out := &procagentv1.ListResponse{Actors: make([]*procagentv1.ListEntry, 0, len(entries))}
	for _, e := range entries {
		out.Actors = append(out.Actors, &procagentv1.ListEntry{Id: e.ID, Status: statusToProto(e.Status), ActorType: e.Type, Generation: e.Generation})
	}
	return connect.NewResponse(out), nil
}

// Send implements the RPC.
func (s *Server) Send(ctx context.Context, req *connect.Request[procagentv1.SendRequest]) (*connect.Response[procagentv1.SendResponse], error) {
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
func (s *Server) QueryChild(_ context.Context, req *connect.Request[procagentv1.QueryChildRequest]) (*connect.Response[procagentv1.QueryChildResponse], error) {
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
func (s *Server) ConfigDump(context.Context, *connect.Request[procagentv1.ConfigDumpRequest]) (*connect.Response[procagentv1.ConfigDumpResponse], error) {
	entries := s.agent.ConfigDump()
	out := &procagentv1.ConfigDumpResponse{Entries: make([]*procagentv1.ConfigEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, &procagentv1.ConfigEntry{
			Name: e.Name, Value: e.Value, DefaultValue: e.Default, Source: e.Source,
			EnvVar: e.EnvVar, Changed: e.Changed, Doc: e.Doc, AltEnvVars: e.AltEnvVars,
		})
	}
	return connect.NewResponse(out), nil
}
