package runtime

import (
	"context"
	"time"
)

// Ref is a handle to one actor incarnation. It stays valid after the actor
// ends: sends then fail with ErrActorStopped and Status reports the end.
// A Ref is safe for concurrent use.
type Ref struct {
	c *cell
}

// Name returns the actor's name in its proc.
func (r *Ref) Name() string { return r.c.name }

// Type returns the registered type name, or "" for an actor spawned by value.
func (r *Ref) Type() string { return r.c.typeName }

// Status returns the actor's current status.
func (r *Ref) Status() Status {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.c.status
}

// Changed returns the current status and a channel that is closed at the
// next change (or, once terminal, the Done channel).
func (r *Ref) Changed() (Status, <-chan struct{}) { return r.c.statusAndChanged() }

// Done returns a channel closed once the actor is terminal and its
// supervision event has been delivered to the coordinator.
func (r *Ref) Done() <-chan struct{} { return r.c.done }

// Wait blocks until the actor's status is at least minStatus, or ctx is done.
func (r *Ref) Wait(ctx context.Context, minStatus Status) (Status, error) {
	for {
		s, ch := r.c.statusAndChanged()
		if s.AtLeast(minStatus) {
			return s, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}

// Event returns the actor's supervision event once it has ended.
func (r *Ref) Event() (SupervisionEvent, bool) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if r.c.event == nil {
		return SupervisionEvent{}, false
	}
	return *r.c.event, true
}

// Stop asks the actor to stop with reason, without waiting. It reports
// whether this call was the first stop request of a live actor.
func (r *Ref) Stop(reason string) bool { return r.c.requestStop(reason) }

// Pid returns the OS process id of an actor that supervises a process (the
// exec type), or 0.
func (r *Ref) Pid() int {
	if p, ok := r.c.actor.(interface{ Pid() int }); ok {
		return p.Pid()
	}
	return 0
}

// Info returns the actor's introspection record, computed now.
func (r *Ref) Info() ActorInfo {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.c.infoLocked()
}

// CreatedAt returns when the actor was spawned.
func (r *Ref) CreatedAt() time.Time { return r.c.createdAt }
