package profiling

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/procagent/procagent/internal/osproc"
)

// Expected conditions of a profiling request, checked with errors.Is; the
// RPC edge (package rpcserver) maps them to Connect codes.
var (
	// ErrUnknownActor is an actor id the Resolver does not know.
	ErrUnknownActor = errors.New("unknown actor")
	// ErrNotAProcess is an actor without a live OS process: not
	// process-backed, or terminated.
	ErrNotAProcess = errors.New("actor has no live process")
	// ErrPermission is a target the agent may not profile: a pid that is
	// not on the allow-list.
	ErrPermission = errors.New("target not allowed")
)

// Resolver finds the OS process of an actor. Its errors wrap
// ErrUnknownActor for an id it does not know, ErrNotAProcess for an actor
// without a live process, and ErrInvalid for a malformed id; anything else
// is reported as an internal error. It must be safe for concurrent use and
// quick: the Profiler calls it before the slow sampling, which runs without
// it.
type Resolver interface {
	ActorPid(actorID string) (int, error)
}

// ResolverFunc adapts a function to a Resolver.
type ResolverFunc func(actorID string) (int, error)

// ActorPid calls f.
func (f ResolverFunc) ActorPid(actorID string) (int, error) { return f(actorID) }

// noActors is the Resolver of a Profiler given none: it knows no actor.
type noActors struct{}

func (noActors) ActorPid(actorID string) (int, error) {
	return 0, fmt.Errorf("actor %.64q: %w", actorID, ErrUnknownActor)
}

// Target names what a dump or a profile samples: an actor (whose process
// the Resolver finds) or a pid on the allow-list. Exactly one is set.
type Target struct {
	ActorID string
	Pid     int64
}

// Profiler takes the agent's profiles: dumps and profiles of Python
// workers with the sampler found once by NewProfiler, and Go profiles of
// the agent itself. It is safe for concurrent use; dumps and profiles run
// concurrently, off any lock of the agent.
type Profiler struct {
	resolver Resolver
	where    SamplerConfig
	allowed  map[int]bool
	labels   map[string]string
	// samplers are resolved once, by NewProfiler, in order of preference;
	// missing says why none was.
	samplers []Sampler
	missing  *BinaryNotFound
}

// Option configures a Profiler.
type Option func(*Profiler)

// WithPySpyBin sets the sampler binary to use before looking up py-spy,
// then austin, on PATH (the PYSPY_BIN setting); "" means look up only.
// NewProfiler resolves it once (FindSampler).
func WithPySpyBin(path string) Option {
	return func(p *Profiler) { p.where.PySpyBin = path }
}

// WithAustinBin sets an austin binary to try before the tools directory's
// and the one on PATH (the austin_bin setting); "" means none.
func WithAustinBin(path string) Option {
	return func(p *Profiler) { p.where.AustinBin = path }
}

// WithToolsDir sets a directory whose austin (built by `make deps`) is
// tried after WithAustinBin's and before the one on PATH.
func WithToolsDir(dir string) Option {
	return func(p *Profiler) { p.where.ToolsDir = dir }
}

// WithAllowedPids sets the pids, besides the actors' own processes, that
// may be dumped and profiled. Any other pid is ErrPermission.
func WithAllowedPids(pids []int) Option {
	return func(p *Profiler) {
		p.allowed = make(map[int]bool, len(pids))
		for _, pid := range pids {
			p.allowed[pid] = true
		}
	}
}

// WithLabels sets the labels every Go profile carries, for example the proc
// id and the agent version.
func WithLabels(labels map[string]string) Option {
	return func(p *Profiler) { p.labels = maps.Clone(labels) }
}

// NewProfiler returns a Profiler that finds actors' processes with
// resolver (nil: no actor is known, only allowed pids can be sampled). It
// resolves the sampler binaries once, now (FindSamplers): with none found,
// every dump and profile is a BinaryNotFound outcome. Each dump and profile
// then reads the target's Python version and samples it with the first
// sampler that can read it; when none can, the outcome is Unsupported.
func NewProfiler(resolver Resolver, opts ...Option) *Profiler {
	p := &Profiler{resolver: resolver}
	if p.resolver == nil {
		p.resolver = noActors{}
	}
	for _, o := range opts {
		o(p)
	}
	p.samplers, p.missing = FindSamplers(context.Background(), p.where)
	return p
}

// Samplers returns the samplers found, in order of preference.
func (p *Profiler) Samplers() []Sampler { return slices.Clone(p.samplers) }

// Dump returns the target's Python stacks, or the typed outcome of a
// sampler that could not produce them. The error is reserved for a target
// that cannot be sampled at all (ErrInvalid, ErrUnknownActor,
// ErrNotAProcess, ErrPermission).
func (p *Profiler) Dump(ctx context.Context, target Target, opts DumpOptions) (Result, error) {
	pid, err := p.target(target)
	if err != nil {
		return Result{}, err
	}
	return p.sample(pid, func(s Sampler) Result { return Dump(ctx, s, pid, opts) }), nil
}

// Profile records a profile of the target for opts.Duration, or returns
// the typed outcome of a sampler that could not record it. The target is
// checked first, so its errors are Dump's whatever the options (a pid off
// the allow-list is ErrPermission even with bad options); then bad options
// are ErrInvalid (ProfileOptions.Validate).
func (p *Profiler) Profile(ctx context.Context, target Target, opts ProfileOptions) (Result, error) {
	pid, err := p.target(target)
	if err != nil {
		return Result{}, err
	}
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	return p.sample(pid, func(s Sampler) Result { return Profile(ctx, s, pid, opts) }), nil
}

// GoProfile returns a profile of the agent itself (the package function
// GoProfile) labelled with the Profiler's labels.
func (p *Profiler) GoProfile(ctx context.Context, name string, duration time.Duration, debug int) ([]byte, error) {
	return GoProfile(ctx, name, duration, debug, p.labels)
}

// target returns the pid a request's target may sample: the process of the
// actor it names, or a pid it names that is on the allow-list; never
// another pid.
func (p *Profiler) target(t Target) (int, error) {
	switch {
	case t.ActorID != "" && t.Pid != 0:
		return 0, fmt.Errorf("%w: give an actor_id or a pid, not both", ErrInvalid)
	case t.ActorID != "":
		return p.actorPid(t.ActorID)
	case t.Pid != 0:
		return p.allowedPid(t.Pid)
	}
	return 0, fmt.Errorf("%w: no target: give an actor_id or a pid", ErrInvalid)
}

// actorPid resolves an actor to its process.
func (p *Profiler) actorPid(actorID string) (int, error) {
	pid, err := p.resolver.ActorPid(actorID)
	if err != nil {
		return 0, err
	}
	if pid <= 0 {
		return 0, fmt.Errorf("actor %q: %w", actorID, ErrNotAProcess)
	}
	return pid, nil
}

// allowedPid checks a pid against the allow-list.
func (p *Profiler) allowedPid(pid int64) (int, error) {
	if pid <= 0 || pid > 1<<31-1 {
		return 0, fmt.Errorf("%w: pid %d", ErrInvalid, pid)
	}
	if !p.allowed[int(pid)] {
		return 0, fmt.Errorf("%w: pid %d is neither an actor's process nor on the agent's allowed pids: name its actor instead, or allow the pid", ErrPermission, pid)
	}
	return int(pid), nil
}

// sample runs run with the first sampler that reads pid's Python; none
// found is a BinaryNotFound outcome, none that can read it Unsupported.
// Failures are stamped with the sampler, its version, the Python's and the
// target's executable (what it runs, when that is no Python this can name:
// a version manager's shell shim still starting, a launcher whose child is
// the Python).
func (p *Profiler) sample(pid int, run func(Sampler) Result) Result {
	if p.missing != nil {
		return Result{BinaryNotFound: p.missing}
	}
	v, _ := osproc.ReadPythonVersion(procRoot, pid) // unreadable: unknown, any sampler tries
	s, unsupported := chooseSampler(p.samplers, v)
	if unsupported != nil {
		return Result{Unsupported: unsupported}
	}
	r := run(s)
	if r.ExitFailure == nil && r.OutputEmpty == nil {
		return r
	}
	exe, _ := osproc.Executable(procRoot, pid) // gone or unreadable: ""
	switch {
	case r.ExitFailure != nil:
		f := r.ExitFailure
		f.Sampler, f.Version, f.PythonVersion, f.Executable = s.Kind, s.Version, v.String(), exe
	case r.OutputEmpty != nil:
		e := r.OutputEmpty
		e.Sampler, e.Version, e.PythonVersion, e.Executable = s.Kind, s.Version, v.String(), exe
	}
	return r
}
