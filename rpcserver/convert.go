package rpcserver

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/runtime"
)

// The proto Status enum is the runtime's order shifted by one, after an
// unspecified zero.
func statusToProto(s runtime.Status) procagentv1.Status {
	return procagentv1.Status(int32(s) + 1) //nolint:gosec // statuses are 0..7
}

func statusFromProto(s procagentv1.Status) (runtime.Status, error) {
	if s <= procagentv1.Status_STATUS_UNSPECIFIED || s > procagentv1.Status_STATUS_UNKNOWN {
		return 0, invalid("status %v is not a status", s)
	}
	return runtime.Status(int32(s) - 1), nil
}

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func stateToProto(st procagent.State) *procagentv1.State {
	out := &procagentv1.State{
		Id:            st.ID,
		Status:        statusToProto(st.Status),
		FailureReason: st.FailureReason,
		Generation:    st.Generation,
		Timestamp:     timeToProto(st.Timestamp),
	}
	if a := st.Actor; a != nil {
		out.Actor = &procagentv1.ActorState{ActorType: a.Type, Pid: int64(a.Pid), CreateRank: a.CreateRank}
		for _, ev := range a.Events {
			out.Actor.SupervisionEvents = append(out.Actor.SupervisionEvents, eventToProto(ev))
		}
	}
	return out
}

func eventToProto(ev runtime.SupervisionEvent) *procagentv1.SupervisionEvent {
	out := &procagentv1.SupervisionEvent{
		Actor:  ev.Actor,
		Status: statusToProto(ev.Status),
		Reason: ev.Reason,
		Signal: ev.Signal,
		Time:   timeToProto(ev.Time),
	}
	if ev.ExitCode != nil {
		code := int32(*ev.ExitCode) //nolint:gosec // exit codes fit in 32 bits
		out.ExitCode = &code
	}
	return out
}

func overlayToProto(o procagent.StatusOverlay) *procagentv1.StatusOverlay {
	out := &procagentv1.StatusOverlay{Runs: make([]*procagentv1.StatusRun, 0, len(o))}
	for _, r := range o {
		out.Runs = append(out.Runs, &procagentv1.StatusRun{Start: r.Start, End: r.End, Status: statusToProto(r.Status)})
	}
	return out
}

// paramsFromProto renders a params Struct as the JSON an actor factory reads.
func paramsFromProto(s *structpb.Struct) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	b, err := json.Marshal(s.AsMap())
	if err != nil {
		return nil, invalid("spec.params: %v", err)
	}
	return b, nil
}

// replyToProto renders an actor's reply as a JSON value; a reply that is
// not JSON-shaped is rendered as its text.
func replyToProto(v any) *structpb.Value {
	if v == nil {
		return structpb.NewNullValue()
	}
	if err, ok := v.(error); ok {
		v = map[string]any{"error": err.Error()}
	}
	pv, err := structpb.NewValue(v)
	if err != nil {
		if b, jerr := json.Marshal(v); jerr == nil {
			var generic any
			if json.Unmarshal(b, &generic) == nil {
				if pv, err = structpb.NewValue(generic); err == nil {
					return pv
				}
			}
		}
		return structpb.NewStringValue(fmt.Sprint(v))
	}
	return pv
}

func procNodeToProto(n *procagent.ProcNode) *procagentv1.ProcNode {
	out := &procagentv1.ProcNode{
		NodeType:                "proc",
		ProcName:                n.ProcName,
		NumLive:                 uint32(n.NumLive),    //nolint:gosec // counts are small and non-negative
		NumStopped:              uint32(n.NumStopped), //nolint:gosec // counts are small and non-negative
		Children:                n.Children,
		SystemChildren:          n.SystemChildren,
		StoppedChildren:         n.StoppedChildren,
		StoppedRetentionCap:     uint32(n.StoppedRetentionCap), //nolint:gosec // validated config
		IsPoisoned:              n.IsPoisoned,
		FailedActorCount:        uint32(n.FailedActorCount), //nolint:gosec // counts are small and non-negative
		ProcessRssBytes:         n.RSSBytes,
		ProcessVmBytes:          n.VMBytes,
		QueueDepthTotal:         uint64(max(n.QueueDepthTotal, 0)),
		QueueDepthMax:           uint64(max(n.QueueDepthMax, 0)),
		QueueDepthHighWaterMark: uint64(max(n.QueueDepthHWM, 0)),
	}
	if n.LastNonzeroQueueAge != nil {
		ms := uint64(n.LastNonzeroQueueAge.Milliseconds()) //nolint:gosec // an age is non-negative
		out.LastNonzeroQueueAgeMs = &ms
	}
	return out
}

func actorNodeToProto(n *procagent.ActorNode) *procagentv1.ActorNode {
	out := &procagentv1.ActorNode{
		NodeType:          "actor",
		Id:                n.ID,
		Status:            statusToProto(n.Status),
		ActorType:         n.Type,
		MessagesProcessed: n.MessagesProcessed,
		QueueDepth:        uint64(max(n.QueueDepth, 0)),
		CreatedAt:         timeToProto(n.CreatedAt),
		LastHandler:       n.LastHandler,
		LastHandlerAt:     timeToProto(n.LastHandlerAt),
		System:            n.System,
		Terminated:        n.Terminated,
		Pid:               int64(n.Pid),
		FailureReason:     n.FailureReason,
		FailedAt:          timeToProto(n.FailedAt),
	}
	if n.ExitCode != nil {
		code := int32(*n.ExitCode) //nolint:gosec // exit codes fit in 32 bits
		out.ExitCode = &code
	}
	return out
}
