package profiling

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// Expected conditions of the profiling RPCs, checked with errors.Is; the
// Handler maps them to Connect codes.
var (
	// ErrUnknownActor is an actor id the Resolver does not know (NotFound).
	ErrUnknownActor = errors.New("unknown actor")
	// ErrNotAProcess is an actor without a live OS process: not
	// process-backed, or terminated (FailedPrecondition).
	ErrNotAProcess = errors.New("actor has no live process")
	// ErrPermission is a target the agent may not profile: a pid that is
	// not on the allow-list (PermissionDenied).
	ErrPermission = errors.New("target not allowed")
)

// Resolver finds the OS process of an actor. Its errors wrap
// ErrUnknownActor for an id it does not know, ErrNotAProcess for an actor
// without a live process, and ErrInvalid for a malformed id; anything else
// is reported as an internal error. It must be safe for concurrent use and
// quick: the Handler calls it before the slow sampling, which runs without
// it.
type Resolver interface {
	ActorPid(actorID string) (int, error)
}

// ResolverFunc adapts a function to a Resolver.
type ResolverFunc func(actorID string) (int, error)

// ActorPid calls f.
func (f ResolverFunc) ActorPid(actorID string) (int, error) { return f(actorID) }

// noActors is the Resolver of a Handler given none: it knows no actor.
type noActors struct{}

func (noActors) ActorPid(actorID string) (int, error) {
	return 0, fmt.Errorf("actor %q: %w", actorID, ErrUnknownActor)
}

// Handler serves the profiling RPCs of the ProcAgentService: PySpyDump,
// PySpyProfile and GoProfile, with the generated handler's signatures, so
// the service delegates to it. It is safe for concurrent use; dumps and
// profiles run concurrently, off any lock of the agent.
type Handler struct {
	resolver Resolver
	pyspyBin string
	allowed  map[int]bool
	labels   map[string]string
	// sampler is resolved once, by NewHandler; missing says why none was.
	sampler Sampler
	missing *BinaryNotFound
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithPySpyBin sets the sampler binary to use before looking up py-spy,
// then austin, on PATH (the PYSPY_BIN setting); "" means look up only.
// NewHandler resolves it once (FindSampler).
func WithPySpyBin(path string) HandlerOption {
	return func(h *Handler) { h.pyspyBin = path }
}

// WithAllowedPids sets the pids, besides the actors' own processes, that
// may be dumped and profiled. Any other pid is refused with
// PermissionDenied.
func WithAllowedPids(pids []int) HandlerOption {
	return func(h *Handler) {
		h.allowed = make(map[int]bool, len(pids))
		for _, p := range pids {
			h.allowed[p] = true
		}
	}
}

// WithLabels sets the labels every Go profile carries, for example the proc
// id and the agent version.
func WithLabels(labels map[string]string) HandlerOption {
	return func(h *Handler) { h.labels = maps.Clone(labels) }
}

// NewHandler returns a Handler that finds actors' processes with resolver
// (nil: no actor is known, only allowed pids can be sampled). It resolves
// the sampler binary once, now: with none found, every dump and profile
// answers BinaryNotFound.
func NewHandler(resolver Resolver, opts ...HandlerOption) *Handler {
	h := &Handler{resolver: resolver}
	if h.resolver == nil {
		h.resolver = noActors{}
	}
	for _, o := range opts {
		o(h)
	}
	h.sampler, h.missing = FindSampler(h.pyspyBin)
	return h
}

// PySpyDump implements the RPC: the target's Python stacks, or the typed
// outcome of a sampler that could not produce them.
func (h *Handler) PySpyDump(ctx context.Context, req *connect.Request[procagentv1.PySpyDumpRequest]) (*connect.Response[procagentv1.PySpyDumpResponse], error) {
	m := req.Msg
	pid, err := h.target(m.GetTarget())
	if err != nil {
		return nil, connectError(err)
	}
	opts := DumpOptions{
		Native: m.GetNative(), NativeAll: m.GetNativeAll(), Nonblocking: m.GetNonblocking(),
		Locals: m.GetLocals(), Subprocesses: m.GetSubprocesses(),
	}
	res := h.sample(func(s Sampler) Result { return Dump(ctx, s, pid, opts) })
	out := &procagentv1.PySpyDumpResponse{}
	switch o := outcomeToProto(res).(type) {
	case *procagentv1.PySpyOk:
		out.Outcome = &procagentv1.PySpyDumpResponse_Ok{Ok: o}
	case *procagentv1.BinaryNotFound:
		out.Outcome = &procagentv1.PySpyDumpResponse_BinaryNotFound{BinaryNotFound: o}
	case *procagentv1.PermissionDenied:
		out.Outcome = &procagentv1.PySpyDumpResponse_PermissionDenied{PermissionDenied: o}
	case *procagentv1.TimedOut:
		out.Outcome = &procagentv1.PySpyDumpResponse_TimedOut{TimedOut: o}
	case *procagentv1.ExitFailure:
		out.Outcome = &procagentv1.PySpyDumpResponse_ExitFailure{ExitFailure: o}
	case *procagentv1.OutputMissing:
		out.Outcome = &procagentv1.PySpyDumpResponse_OutputMissing{OutputMissing: o}
	case *procagentv1.OutputEmpty:
		out.Outcome = &procagentv1.PySpyDumpResponse_OutputEmpty{OutputEmpty: o}
	default:
		return nil, connectError(fmt.Errorf("dump of pid %d: no outcome", pid))
	}
	return connect.NewResponse(out), nil
}

// PySpyProfile implements the RPC: a profile of the target recorded for
// the requested duration, or the typed outcome of a sampler that could not
// record it.
func (h *Handler) PySpyProfile(ctx context.Context, req *connect.Request[procagentv1.PySpyProfileRequest]) (*connect.Response[procagentv1.PySpyProfileResponse], error) {
	m := req.Msg
	opts, err := profileOptions(m)
	if err != nil {
		return nil, connectError(err)
	}
	pid, err := h.target(m.GetTarget())
	if err != nil {
		return nil, connectError(err)
	}
	res := h.sample(func(s Sampler) Result { return Profile(ctx, s, pid, opts) })
	out := &procagentv1.PySpyProfileResponse{}
	switch o := outcomeToProto(res).(type) {
	case *procagentv1.PySpyOk:
		out.Outcome = &procagentv1.PySpyProfileResponse_Ok{Ok: o}
	case *procagentv1.BinaryNotFound:
		out.Outcome = &procagentv1.PySpyProfileResponse_BinaryNotFound{BinaryNotFound: o}
	case *procagentv1.PermissionDenied:
		out.Outcome = &procagentv1.PySpyProfileResponse_PermissionDenied{PermissionDenied: o}
	case *procagentv1.TimedOut:
		out.Outcome = &procagentv1.PySpyProfileResponse_TimedOut{TimedOut: o}
	case *procagentv1.ExitFailure:
		out.Outcome = &procagentv1.PySpyProfileResponse_ExitFailure{ExitFailure: o}
	case *procagentv1.OutputMissing:
		out.Outcome = &procagentv1.PySpyProfileResponse_OutputMissing{OutputMissing: o}
	case *procagentv1.OutputEmpty:
		out.Outcome = &procagentv1.PySpyProfileResponse_OutputEmpty{OutputEmpty: o}
	default:
		return nil, connectError(fmt.Errorf("profile of pid %d: no outcome", pid))
	}
	return connect.NewResponse(out), nil
}

// GoProfile implements the RPC: a profile of the agent itself (GoProfile
// the function), labelled with the Handler's labels.
func (h *Handler) GoProfile(ctx context.Context, req *connect.Request[procagentv1.GoProfileRequest]) (*connect.Response[procagentv1.GoProfileResponse], error) {
	m := req.Msg
	d, err := fromDuration("duration", m.GetDuration())
	if err != nil {
		return nil, connectError(err)
	}
	debug := int(m.GetDebug())
	b, err := GoProfile(ctx, m.GetName(), d, debug, h.labels)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(&procagentv1.GoProfileResponse{
		Profile: b, Name: m.GetName(), ContentType: GoProfileContentType(debug),
	}), nil
}

// target returns the pid a request's target (its oneof) may sample: the
// process of the actor it names, or a pid it names that is on the
// allow-list; never another pid.
func (h *Handler) target(oneof any) (int, error) {
	switch t := oneof.(type) {
	case *procagentv1.PySpyDumpRequest_ActorId:
		return h.actorPid(t.ActorId)
	case *procagentv1.PySpyProfileRequest_ActorId:
		return h.actorPid(t.ActorId)
	case *procagentv1.PySpyDumpRequest_Pid:
		return h.allowedPid(t.Pid)
	case *procagentv1.PySpyProfileRequest_Pid:
		return h.allowedPid(t.Pid)
	}
	return 0, fmt.Errorf("%w: no target: give an actor_id or a pid", ErrInvalid)
}

// actorPid resolves an actor to its process.
func (h *Handler) actorPid(actorID string) (int, error) {
	if actorID == "" {
		return 0, fmt.Errorf("%w: empty actor_id", ErrInvalid)
	}
	pid, err := h.resolver.ActorPid(actorID)
	if err != nil {
		return 0, err
	}
	if pid <= 0 {
		return 0, fmt.Errorf("actor %q: %w", actorID, ErrNotAProcess)
	}
	return pid, nil
}

// allowedPid checks a pid against the allow-list.
func (h *Handler) allowedPid(pid int64) (int, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("%w: pid %d", ErrInvalid, pid)
	}
	if !h.allowed[int(pid)] {
		return 0, fmt.Errorf("%w: pid %d is neither an actor's process nor on the agent's allowed pids: name its actor instead, or allow the pid", ErrPermission, pid)
	}
	return int(pid), nil
}

// sample runs run with the sampler; none is a BinaryNotFound outcome.
func (h *Handler) sample(run func(Sampler) Result) Result {
	if h.missing != nil {
		return Result{BinaryNotFound: h.missing}
	}
	return run(h.sampler)
}

// profileOptions converts a profile request's options and checks them
// (ProfileOptions.Validate).
func profileOptions(m *procagentv1.PySpyProfileRequest) (ProfileOptions, error) {
	d, err := fromDuration("duration", m.GetDuration())
	if err != nil {
		return ProfileOptions{}, err
	}
	format, ok := formatNames[m.GetFormat()]
	if !ok {
		return ProfileOptions{}, fmt.Errorf("%w: format %v", ErrInvalid, m.GetFormat())
	}
	opts := ProfileOptions{
		Duration: d, RateHz: int(m.GetRateHz()), Format: format,
		Native: m.GetNative(), Idle: m.GetIdle(), GIL: m.GetGil(),
		Subprocesses: m.GetSubprocesses(), Nonblocking: m.GetNonblocking(),
	}
	return opts, opts.Validate()
}

// fromDuration converts an optional proto duration; absent is 0.
func fromDuration(field string, d *durationpb.Duration) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalid, field, err)
	}
	return d.AsDuration(), nil
}

// formatNames maps the wire formats to ProfileOptions.Format.
var formatNames = map[procagentv1.ProfileFormat]string{
	procagentv1.ProfileFormat_PROFILE_FORMAT_UNSPECIFIED: FormatPprof,
	procagentv1.ProfileFormat_PROFILE_FORMAT_PPROF:       FormatPprof,
	procagentv1.ProfileFormat_PROFILE_FORMAT_FLAMEGRAPH:  FormatFlamegraph,
	procagentv1.ProfileFormat_PROFILE_FORMAT_SPEEDSCOPE:  FormatSpeedscope,
	procagentv1.ProfileFormat_PROFILE_FORMAT_RAW:         FormatRaw,
}

// connectError attaches the Connect code to a profiling error: the one
// place the Handler decides codes.
func connectError(err error) error {
	var code connect.Code
	switch {
	case errors.Is(err, ErrInvalid):
		code = connect.CodeInvalidArgument
	case errors.Is(err, ErrUnknownActor):
		code = connect.CodeNotFound
	case errors.Is(err, ErrNotAProcess):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, ErrPermission):
		code = connect.CodePermissionDenied
	case errors.Is(err, ErrBusy):
		code = connect.CodeResourceExhausted
	case errors.Is(err, context.DeadlineExceeded):
		code = connect.CodeDeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = connect.CodeCanceled
	default:
		code = connect.CodeInternal
	}
	return connect.NewError(code, err)
}
