package procagent

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/procagent/procagent/runtime"
)

var (
	idPattern      = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelIDPattern = regexp.MustCompile(`^label-[A-Za-z0-9_.-]+$`)
)

// ValidateID checks a resource id: [a-z][a-z0-9_-]{0,62}, or label-<name>
// with name of [A-Za-z0-9_.-], at most runtime.MaxNameLen bytes in all.
// It is the one id rule: every id it accepts is a name the runtime spawns
// under (runtime.ValidName), so a valid id never fails to spawn for its
// name.
func ValidateID(id string) error {
	if (idPattern.MatchString(id) || labelIDPattern.MatchString(id)) && runtime.ValidName(id) {
		return nil
	}
	return fmt.Errorf("%w %s: want [a-z][a-z0-9_-]{0,62} or label-<name> of [A-Za-z0-9_.-], at most %d bytes in all",
		ErrInvalidID, Quote(id), runtime.MaxNameLen)
}

// Agent manages the actors of one proc as resources. Its state is guarded
// by one mutex held only for bookkeeping: spawning is a map insert and a
// goroutine start, and no slow work (waiting, flushing, I/O) ever runs
// under it. Agent is safe for concurrent use.
type Agent struct {
	proc          *runtime.Proc
	log           *slog.Logger
	orphanTimeout time.Duration
	flushTimeout  time.Duration
	observer      Observer
	flusher       Flusher
	mem           MemoryReader
	config        Config

	mu        sync.Mutex
	instances map[string]*instance
	counts    runtime.StatusCounts // instances by the status they are counted under
	retired   []retiredEntry       // terminated instances, oldest first (instance.go)
	retireSeq uint64
	retention int               // terminated instances kept before the oldest is forgotten
	failed    map[string]string // actors failed by a supervision event → reason
	stopping  bool              // StopAll was called
	exitCode  int
	terminal  chan struct{} // closed once StopAll's actors are all terminal
	exit      chan int      // the exit code, once flushed

	stopSweep context.CancelFunc
	bg        sync.WaitGroup
	startOnce sync.Once
}

// New returns an agent over proc and makes itself proc's coordinator.
func New(proc *runtime.Proc, opts ...Option) *Agent {
	a := &Agent{
		proc:          proc,
		log:           slog.New(slog.DiscardHandler),
		orphanTimeout: 60 * time.Second,
		flushTimeout:  5 * time.Second,
		observer:      NopObserver{},
		flusher:       FlusherFunc(func(context.Context) error { return nil }),
		mem:           SelfMemory(),
		config:        DefaultConfig(),
		instances:     make(map[string]*instance),
		retention:     DefaultResourceRetention,
		failed:        make(map[string]string),
		terminal:      make(chan struct{}),
		exit:          make(chan int, 1),
		stopSweep:     func() {},
	}
	for _, o := range opts {
		o(a)
	}
	a.observer.Attach(proc, a.Counts)
	proc.SetCoordinator(a)
	return a
}

// Proc returns the proc the agent manages.
func (a *Agent) Proc() *runtime.Proc { return a.proc }

// Start starts the orphan sweep (every orphan_timeout/4; none when the
// timeout is 0). It returns at once.
func (a *Agent) Start(context.Context) error {
	a.startOnce.Do(func() {
		if a.orphanTimeout <= 0 {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		a.stopSweep = cancel
		a.bg.Go(func() { a.sweepLoop(ctx, a.orphanTimeout/4) })
	})
	return nil
}

// Shutdown stops the agent's goroutines and waits for them, up to ctx. It
// does not stop actors (StopAll does). It is idempotent.
func (a *Agent) Shutdown(ctx context.Context) error {
	a.startOnce.Do(func() {}) // a later Start starts nothing
	a.stopSweep()
	done := make(chan struct{})
	go func() { a.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("agent shutdown: %w", ctx.Err())
	}
}

// Exit delivers StopAll's exit code, once every actor is terminal and
// telemetry is flushed: 1 if any actor failed, else 0. The binary exits with
// it; an embedding program decides for itself.
func (a *Agent) Exit() <-chan int { return a.exit }

// CreateOrUpdate creates the resource id as an actor of spec's type. It is
// idempotent: a known id returns its state untouched, except a resource
// whose spawn failed (its actor never ran), which a create with a
// different spec replaces. An unknown type, bad params or a poisoned proc
// give a FAILED state saying why, not an error; a malformed request is
// ErrInvalidID or ErrInvalidArgument, and after StopAll it is ErrStopping.
//
// The actor is built (params decoded, a program resolved) before the
// agent's lock is taken: only the map insert and the goroutine start
// happen under it.
func (a *Agent) CreateOrUpdate(id string, rank uint64, spec Spec) (State, error) {
	if err := ValidateID(id); err != nil {
		return State{}, err
	}
	if spec.ActorType == "" {
		return State{}, fmtErr(ErrInvalidArgument, "spec.actor_type is required")
	}
	if st, done, err := a.existing(id, spec); done {
		return st, err
	}
	actor, buildErr := a.proc.Registry().New(spec.ActorType, spec.Params)

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping {
		return State{}, fmt.Errorf("create %q: %w", id, ErrStopping)
	}
	inst := a.instances[id]
	switch {
	case inst == nil:
		inst = &instance{id: id, counted: runtime.StatusNotExist}
		a.instances[id] = inst
		a.counts[runtime.StatusNotExist]++
	case !inst.replaceable(spec):
		return inst.state(), nil // created meanwhile by another call
	}
	inst.rank, inst.spec, inst.created, inst.spawnErr = rank, spec, time.Now(), nil
	switch reason, poisoned := a.poisonLocked(); {
	case poisoned:
		inst.spawnErr = fmt.Errorf("proc is poisoned: %s", reason)
	case buildErr != nil:
		inst.spawnErr = fmt.Errorf("spawn %q: %w", id, buildErr)
	default:
		// Under the lock, so that the actor's supervision event finds its
		// instance; Init runs on the actor's own goroutine.
		inst.ref, inst.spawnErr = a.proc.Spawn(id, actor, runtime.TypeName(spec.ActorType))
		inst.spawned = inst.spawnErr == nil
	}
	st := a.transitionLocked(inst)
	a.observer.Created(id, spec.ActorType, rank, st.Actor.Pid, inst.spawnErr)
	return st, nil
}

// existing answers a create that needs no spawn: after StopAll, or for a
// known id that spec does not replace.
func (a *Agent) existing(id string, spec Spec) (st State, done bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping {
		return State{}, true, fmt.Errorf("create %q: %w", id, ErrStopping)
	}
	if inst := a.instances[id]; inst != nil && !inst.replaceable(spec) {
		return inst.state(), true, nil
	}
	return State{}, false, nil
}

// poisonLocked reports whether any actor failed by a supervision event.
func (a *Agent) poisonLocked() (string, bool) {
	if len(a.failed) == 0 {
		return "", false
	}
	first := slices.Sorted(maps.Keys(a.failed))[0]
	return fmt.Sprintf("actor %q failed: %s (%d failed)", first, a.failed[first], len(a.failed)), true
}

// Stop asks the actor behind id to stop, fire and forget: the first call
// moves it to STOPPING, and STOPPED or FAILED follows from its supervision
// event. An unknown id reads NOT_EXIST, without an error.
func (a *Agent) Stop(id, reason string) (State, error) {
	if err := ValidateID(id); err != nil {
		return State{}, err
	}
	if reason == "" {
		reason = "stopped by request"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	inst := a.instances[id]
	if inst == nil {
		return notExist(id), nil
	}
	if a.stopLocked(inst, reason) {
		return a.transitionLocked(inst), nil
	}
	return inst.state(), nil
}

// stopLocked requests the stop of a live instance; false if there is none
// to request.
func (a *Agent) stopLocked(inst *instance, reason string) bool {
	if inst.stopRequested || inst.terminal() {
		return false
	}
	inst.stopRequested = true
	inst.ref.Stop(reason)
	a.observer.StopRequested(inst.id, reason)
	return true
}

// Supervise records an actor's supervision event: the coordinator side of
// the runtime. It implements runtime.Coordinator and does not block.
func (a *Agent) Supervise(ev runtime.SupervisionEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ev.IsError() {
		a.failed[ev.Actor] = ev.Reason
	}
	if inst := a.instances[ev.Actor]; inst != nil && inst.ref != nil && inst.event == nil {
		inst.event = &ev
		inst.pid = inst.ref.Pid()
		inst.ref = nil // the dead actor's cell and mailbox can go
		a.transitionLocked(inst)
	}
	a.observer.Ended(ev)
	a.checkAllTerminalLocked()
}

// GetState returns the state of id; an unknown id reads NOT_EXIST with
// generation 0.
func (a *Agent) GetState(id string) (State, error) {
	if err := ValidateID(id); err != nil {
		return State{}, err
	}
	_, st := a.lookup(id)
	return st, nil
}

// found is what lookup found of an id, read under the agent's lock.
type found struct {
	ref     *runtime.Ref // the live actor, nil when there is none
	actorTy string
	created time.Time
}

// lookup returns what is known of id and its state: nil and NOT_EXIST when
// the id is unknown.
func (a *Agent) lookup(id string) (*found, State) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if inst := a.instances[id]; inst != nil {
		return &found{ref: inst.ref, actorTy: inst.spec.ActorType, created: inst.created}, inst.state()
	}
	return nil, notExist(id)
}

// List returns every tracked resource, sorted by id.
func (a *Agent) List() []ListEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]ListEntry, 0, len(a.instances))
	for _, id := range slices.Sorted(maps.Keys(a.instances)) {
		inst := a.instances[id]
		out = append(out, ListEntry{ID: id, Status: inst.status(), Type: inst.spec.ActorType, Generation: inst.generation})
	}
	return out
}

// Counts returns the tracked resources by status, and how many actors
// failed by a supervision event (the proc is poisoned iff failed > 0): the
// read side an Observer is attached with. The counts are kept as
// transitions happen, so this costs O(1) whatever the number of ids.
func (a *Agent) Counts() (byStatus runtime.StatusCounts, failed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts, len(a.failed)
}

// ListEntry is one row of List.
type ListEntry struct {
	ID         string
	Status     runtime.Status
	Type       string
	Generation uint64
}

// ConfigDump lists the agent's configuration, sorted by name.
func (a *Agent) ConfigDump() []ConfigEntry { return a.config.Dump() }
