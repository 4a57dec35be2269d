package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
)

// Errors of spawn, stop and lookup, checked with errors.Is.
var (
	// ErrExists is returned when spawning a name that is live already.
	ErrExists = errors.New("actor already exists")
	// ErrNotFound is returned for a name that is not a live actor.
	ErrNotFound = errors.New("actor not found")
	// ErrClosed is returned when spawning on a proc that is closing.
	ErrClosed = errors.New("proc closed")
	// ErrBadName is returned for an empty or malformed actor name.
	ErrBadName = errors.New("bad actor name")
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:@/-]*$`)

// MaxNameLen is the longest actor name, in bytes.
const MaxNameLen = 128

// ValidName reports whether name can name an actor: 1 to MaxNameLen bytes
// of [A-Za-z0-9_.:@/-], not starting with one of ".:@/-". Spawn refuses any
// other name with ErrBadName.
func ValidName(name string) bool { return len(name) <= MaxNameLen && namePattern.MatchString(name) }

// Proc hosts actors. It is safe for concurrent use.
type Proc struct {
	name       string
	registry   *Registry
	log        *slog.Logger
	mboxSize   int
	queue      queue
	retention  *retention
	coord      atomic.Pointer[Coordinator]
	handlerObs HandlerObserver
	wg         sync.WaitGroup

	mu     sync.RWMutex
	live   map[string]*cell
	closed bool
}

// Option configures a Proc.
type Option func(*Proc)

// WithRegistry sets the registry that SpawnType looks types up in.
func WithRegistry(r *Registry) Option { return func(p *Proc) { p.registry = r } }

// WithLogger sets the proc's logger.
func WithLogger(l *slog.Logger) Option { return func(p *Proc) { p.log = l } }

// WithMailboxSize sets the default mailbox capacity of the proc's actors.
func WithMailboxSize(n int) Option {
	return func(p *Proc) {
		if n > 0 {
			p.mboxSize = n
		}
	}
}

// WithRetention sets how many terminated actors keep a snapshot.
func WithRetention(n int) Option {
	return func(p *Proc) { p.retention = newRetention(n) }
}

// WithCoordinator sets the proc's coordinator (see SetCoordinator).
func WithCoordinator(co Coordinator) Option { return func(p *Proc) { p.SetCoordinator(co) } }

// DefaultRetention is the default number of terminated snapshots kept.
const DefaultRetention = 100

// NewProc returns a proc named name. Without WithRegistry, SpawnType knows
// the built-in types (echo, sleep, fail, exec).
func NewProc(name string, opts ...Option) *Proc {
	p := &Proc{
		name:      name,
		log:       slog.New(slog.DiscardHandler),
		mboxSize:  DefaultMailboxSize,
		retention: newRetention(DefaultRetention),
		live:      make(map[string]*cell),
	}
	for _, o := range opts {
		o(p)
	}
	if p.registry == nil {
		p.registry = NewRegistry()
		RegisterBuiltins(p.registry)
	}
	return p
}

// Name returns the proc's name.
func (p *Proc) Name() string { return p.name }

// Registry returns the registry SpawnType uses.
func (p *Proc) Registry() *Registry { return p.registry }

// SetCoordinator sets the one coordinator that receives the proc's
// supervision events; nil removes it. Events with no coordinator are only
// recorded in the actors' snapshots.
func (p *Proc) SetCoordinator(co Coordinator) {
	if co == nil {
		p.coord.Store(nil)
		return
	}
	p.coord.Store(&co)
}

// SpawnOption configures one spawn.
type SpawnOption func(*spawnOptions)

type spawnOptions struct {
	system      bool
	mailboxSize int
	typeName    string
}

// AsSystem flags the actor as a system actor (the agent's own), listed apart.
func AsSystem() SpawnOption { return func(o *spawnOptions) { o.system = true } }

// Mailbox sets this actor's mailbox capacity.
func Mailbox(n int) SpawnOption {
	return func(o *spawnOptions) {
		if n > 0 {
			o.mailboxSize = n
		}
	}
}

// TypeName records a type name for an actor spawned by value.
func TypeName(t string) SpawnOption { return func(o *spawnOptions) { o.typeName = t } }

// Spawn starts actor a under name. The actor is INITIALIZING until its
// Init (if any) returns, then RUNNING.
func (p *Proc) Spawn(name string, a Actor, opts ...SpawnOption) (*Ref, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("spawn %q: %w", name, ErrBadName)
	}
	o := spawnOptions{mailboxSize: p.mboxSize}
	for _, opt := range opts {
		opt(&o)
	}
	c := newCell(p, name, o.typeName, a, o)
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return nil, fmt.Errorf("spawn %q: %w", name, ErrClosed)
	case p.live[name] != nil:
		p.mu.Unlock()
		return nil, fmt.Errorf("spawn %q: %w", name, ErrExists)
	}
	p.live[name] = c
	p.wg.Add(1)
	p.mu.Unlock()
	go c.run()
	return &c.ref, nil
}

// SpawnType builds an actor of a registered type from JSON params and
// spawns it. An unknown type is an *UnknownTypeError, params that do not
// decode a *ParamsError.
func (p *Proc) SpawnType(name, typeName string, params []byte, opts ...SpawnOption) (*Ref, error) {
	a, err := p.registry.New(typeName, params)
	if err != nil {
		return nil, fmt.Errorf("spawn %q: %w", name, err)
	}
	return p.Spawn(name, a, append(opts, TypeName(typeName))...)
}

// Lookup returns the live actor named name.
func (p *Proc) Lookup(name string) (*Ref, bool) {
	p.mu.RLock()
	c := p.live[name]
	p.mu.RUnlock()
	if c == nil {
		return nil, false
	}
	return &c.ref, true
}

// Stop asks the live actor named name to stop, without waiting.
func (p *Proc) Stop(name, reason string) error {
	r, ok := p.Lookup(name)
	if !ok {
		return fmt.Errorf("stop %q: %w", name, ErrNotFound)
	}
	r.Stop(reason)
	return nil
}

// Send posts msg to the live actor named name (see Ref.Send).
func (p *Proc) Send(ctx context.Context, name string, msg any) error {
	r, ok := p.Lookup(name)
	if !ok {
		return fmt.Errorf("send to %q: %w", name, ErrNotFound)
	}
	return r.Send(ctx, msg)
}

// Ask posts msg to the live actor named name and waits for its reply.
func (p *Proc) Ask(ctx context.Context, name string, msg any) (any, error) {
	r, ok := p.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("ask %q: %w", name, ErrNotFound)
	}
	return r.Ask(ctx, msg)
}

// cells snapshots the live actors; the lock is held only to copy pointers.
func (p *Proc) cells() []*cell {
	p.mu.RLock()
	cs := make([]*cell, 0, len(p.live))
	for _, c := range p.live {
		cs = append(cs, c)
	}
	p.mu.RUnlock()
	return cs
}

// Children returns the names of the live user actors, sorted.
func (p *Proc) Children() []string { return p.names(false) }

// SystemChildren returns the names of the live system actors, sorted.
func (p *Proc) SystemChildren() []string { return p.names(true) }

func (p *Proc) names(system bool) []string {
	var out []string
	for _, c := range p.cells() {
		if c.system == system {
			out = append(out, c.name)
		}
	}
	slices.Sort(out)
	return out
}

// Actor returns the introspection record of the actor named name: the live
// one, else the newest retained snapshot of a terminated one.
func (p *Proc) Actor(name string) (ActorInfo, bool) {
	if r, ok := p.Lookup(name); ok {
		return r.Info(), true
	}
	return p.retention.get(name)
}

// Terminated returns the retained snapshots of ended actors, oldest first.
func (p *Proc) Terminated() []ActorInfo { return p.retention.all() }

// retire moves an ended actor from the live set to the retained snapshots.
func (p *Proc) retire(c *cell, info ActorInfo) {
	p.retention.add(info)
	p.mu.Lock()
	if p.live[c.name] == c {
		delete(p.live, c.name)
	}
	p.mu.Unlock()
}

func (p *Proc) supervise(ev SupervisionEvent) {
	if ev.IsError() {
		p.log.Warn("actor failed", "actor", ev.Actor, "reason", ev.Reason)
	}
	if co := p.coord.Load(); co != nil {
		(*co).Supervise(ev)
	}
}

// StopAll asks every live actor (system ones too when system is set) to stop.
// It returns the refs it asked, so the caller can wait on them.
func (p *Proc) StopAll(reason string, system bool) []*Ref {
	var refs []*Ref
	for _, c := range p.cells() {
		if c.system && !system {
			continue
		}
		c.requestStop(reason)
		refs = append(refs, &c.ref)
	}
	return refs
}

// Close refuses new spawns, stops every actor and waits until all have
// ended or ctx is done. It is idempotent.
func (p *Proc) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.StopAll("proc closed", true)
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close proc %q: %w", p.name, ctx.Err())
	}
}
