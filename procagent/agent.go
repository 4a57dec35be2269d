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
	labelIDPattern = regexp.MustCompile(`^label-[A-Za-z0-9_.-]{1,200}$`)
)

// ValidateID checks a resource id: [a-z][a-z0-9_-]{0,62} or label-<id>.
func ValidateID(id string) error {
	if idPattern.MatchString(id) || labelIDPattern.MatchString(id) {
		return nil
	}
	return fmt.Errorf("%w %q: want [a-z][a-z0-9_-]{0,62} or label-<id>", ErrInvalidID, id)
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
		failed:        make(map[string]string),
		terminal:      make(chan struct{}),
		exit:          make(chan int, 1),
		stopSweep:     func() {},
	}
	for _, o := range opts {
		o(a)
	}
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
// idempotent: a known id returns its state untouched. An unknown type, bad
// params or a poisoned proc give a FAILED state saying why, not an error;
// a malformed request is ErrInvalidID or ErrInvalidArgument, and after
// StopAll it is ErrStopping.
func (a *Agent) CreateOrUpdate(id string, rank uint64, spec Spec) (State, error) {
	if err := ValidateID(id); err != nil {
		return State{}, err
	}
	if spec.ActorType == "" {
		return State{}, fmtErr(ErrInvalidArgument, "spec.actor_type is required")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopping {
		return State{}, fmt.Errorf("create %q: %w", id, ErrStopping)
	}
	if inst := a.instances[id]; inst != nil {
		return inst.state(), nil
	}
	inst := &instance{id: id, rank: rank, spec: spec, created: time.Now()}
	a.instances[id] = inst
	if reason, poisoned := a.poisonLocked(); poisoned {
		inst.spawnErr = fmt.Errorf("proc is poisoned: %s", reason)
	} else {
		// Spawning is cheap (the factory decodes params; Init runs on the
		// actor's goroutine) and must happen under the lock so that the
		// actor's supervision event finds its instance.
		inst.ref, inst.spawnErr = a.proc.SpawnType(id, spec.ActorType, spec.Params)
	}
	return a.transitionLocked(inst), nil
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
		a.transitionLocked(inst)
	}
	a.observer.Supervised(ev)
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

// lookup returns id's instance and its state: nil and NOT_EXIST when the
// id is unknown.
func (a *Agent) lookup(id string) (*instance, State) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if inst := a.instances[id]; inst != nil {
		return inst, inst.state()
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

// ListEntry is one row of List.
type ListEntry struct {
	ID         string
	Status     runtime.Status
	Type       string
	Generation uint64
}

// ConfigDump lists the agent's configuration, sorted by name.
func (a *Agent) ConfigDump() []ConfigEntry { return a.config.Dump() }
