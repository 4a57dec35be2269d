package rpcserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/runtime"
)

// MaxActorTypeBytes is the longest actor type name a create may carry;
// the registry's names are short, and a failed spawn keeps the name.
const MaxActorTypeBytes = 128

// Limits bound what one request may ask of the agent. A zero field is no
// limit, so a Server built without WithLimits limits nothing; cmd/agent
// fills every field from the config (procagent.Config's max_* keys).
type Limits struct {
	RequestBytes     int           // largest request message, compressed and decompressed: ResourceExhausted
	SendBytes        int           // largest Send payload as JSON: InvalidArgument
	ParamsBytes      int           // largest actor params as JSON: InvalidArgument
	ReasonBytes      int           // longest stop reason: InvalidArgument
	LiveActors       int           // most live actors a create may add to: ResourceExhausted
	Streams          int           // most concurrent StreamState calls: ResourceExhausted
	Waiters          int           // most concurrent WaitRankStatus calls: ResourceExhausted
	ProfileDuration  time.Duration // longest profile asked for: InvalidArgument
	Profiles         *Gate         // concurrent profiles and dumps, shared with /debug/pprof: ResourceExhausted
	streams, waiters *Gate
}

// WithLimits bounds requests by l (see Limits).
func WithLimits(l Limits) Option {
	return func(s *Server) {
		l.streams, l.waiters = NewGate(l.Streams), NewGate(l.Waiters)
		s.limits = l
	}
}

// Gate admits at most n holders at once; a nil Gate, or one of size 0,
// admits everyone. Safe for concurrent use.
type Gate struct{ slots chan struct{} }

// NewGate returns a gate of n slots; n <= 0 is no limit.
func NewGate(n int) *Gate {
	if n <= 0 {
		return nil
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// TryAcquire takes a slot without waiting and reports whether it got one;
// each success must be paired with one Release.
func (g *Gate) TryAcquire() bool {
	if g == nil {
		return true
	}
	select {
	case g.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot TryAcquire took.
func (g *Gate) Release() {
	if g != nil {
		<-g.slots
	}
}

// Cap is the gate's size, 0 for no limit.
func (g *Gate) Cap() int {
	if g == nil {
		return 0
	}
	return cap(g.slots)
}

// limitInterceptor checks each request against the server's limits before
// its handler runs.
type limitInterceptor struct{ s *Server }

// WrapUnary implements connect.Interceptor.
func (i limitInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		release, err := i.s.admit(req.Any())
		if err != nil {
			return nil, connectError(err)
		}
		defer release()
		return next(ctx, req)
	}
}

// WrapStreamingClient implements connect.Interceptor; servers never call it.
func (limitInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor: StreamState holds
// a stream slot while it runs.
func (i limitInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if conn.Spec().Procedure != procedureStreamState {
			return next(ctx, conn)
		}
		g := i.s.limits.streams
		if !g.TryAcquire() {
			return connectError(fmt.Errorf("%w: %d StreamState subscribers already (max_streams)", procagent.ErrLimit, g.Cap()))
		}
		defer g.Release()
		return next(ctx, conn)
	}
}

const procedureStreamState = "/procagent.v1.ProcAgentService/StreamState"

// admit checks msg against the limits and returns what to release once the
// call ends.
func (s *Server) admit(msg any) (func(), error) {
	l := &s.limits
	none := func() {}
	switch m := msg.(type) {
	case *procagentv1.CreateOrUpdateRequest:
		return s.admitCreate(m)
	case *procagentv1.StopRequest:
		return none, checkLen("reason", len(m.GetReason()), l.ReasonBytes, "max_reason_bytes")
	case *procagentv1.StopAllRequest:
		return none, checkLen("reason", len(m.GetReason()), l.ReasonBytes, "max_reason_bytes")
	case *procagentv1.SendRequest:
		return none, checkJSON("payload", m.GetPayload(), l.SendBytes, "max_send_bytes")
	case *procagentv1.WaitRankStatusRequest:
		return take(l.waiters, "WaitRankStatus waiters", "max_waiters")
	case *procagentv1.PySpyDumpRequest:
		return take(l.Profiles, "profiles and dumps", "max_profiles")
	case *procagentv1.PySpyProfileRequest:
		if err := l.checkDuration(m.GetDuration()); err != nil {
			return none, err
		}
		return take(l.Profiles, "profiles and dumps", "max_profiles")
	case *procagentv1.GoProfileRequest:
		if err := l.checkDuration(m.GetDuration()); err != nil {
			return none, err
		}
		return take(l.Profiles, "profiles and dumps", "max_profiles")
	}
	return none, nil
}

// admitCreate bounds a create's actor type and params, and refuses a new id
// while max_live_actors actors live or are being created: creates in
// flight count, so concurrent creates cannot overshoot. A known id passes:
// its create changes nothing, or corrects a failed spawn in place.
func (s *Server) admitCreate(m *procagentv1.CreateOrUpdateRequest) (func(), error) {
	l := &s.limits
	none := func() {}
	if err := checkLen("spec.actor_type", len(m.GetSpec().GetActorType()), MaxActorTypeBytes, ""); err != nil {
		return none, err
	}
	if err := checkJSON("spec.params", m.GetSpec().GetParams(), l.ParamsBytes, "max_params_bytes"); err != nil {
		return none, err
	}
	if l.LiveActors <= 0 {
		return none, nil
	}
	creating := s.creating.Add(1)
	release := func() { s.creating.Add(-1) }
	byStatus, _ := s.agent.Counts()
	live := byStatus[runtime.StatusInitializing] + byStatus[runtime.StatusRunning] + byStatus[runtime.StatusStopping]
	if live+int(creating) <= l.LiveActors {
		return release, nil
	}
	if st, err := s.agent.GetState(m.GetId()); err == nil && st.Status != runtime.StatusNotExist {
		return release, nil
	}
	release()
	return none, fmt.Errorf("%w: %d live actors already (max_live_actors)", procagent.ErrLimit, live)
}

// take acquires a slot of g, or says which limit is reached.
func take(g *Gate, what, key string) (func(), error) {
	if !g.TryAcquire() {
		return func() {}, fmt.Errorf("%w: %d %s already (%s)", procagent.ErrLimit, g.Cap(), what, key)
	}
	return g.Release, nil
}

// checkLen refuses a field longer than limit bytes (no limit when 0).
func checkLen(field string, n, limit int, key string) error {
	if limit <= 0 || n <= limit {
		return nil
	}
	if key != "" {
		key = " (" + key + ")"
	}
	return invalid("%s is %d bytes, over the limit of %d%s", field, n, limit, key)
}

// checkJSON refuses a value whose JSON form is over limit bytes.
func checkJSON(field string, v interface {
	MarshalJSON() ([]byte, error)
}, limit int, key string) error {
	if limit <= 0 || isNilValue(v) {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return invalid("%s: %v", field, err)
	}
	return checkLen(field, len(b), limit, key)
}

// isNilValue reports whether v is a nil Struct or Value (an absent field).
func isNilValue(v any) bool {
	switch x := v.(type) {
	case *structpb.Struct:
		return x == nil
	case *structpb.Value:
		return x == nil
	}
	return v == nil
}

// checkDuration refuses a profile longer than ProfileDuration.
func (l *Limits) checkDuration(d *durationpb.Duration) error {
	if l.ProfileDuration <= 0 || d == nil || d.AsDuration() <= l.ProfileDuration {
		return nil
	}
	return invalid("duration %v is over the limit of %v (max_profile_duration)", d.AsDuration(), l.ProfileDuration)
}
