package procagent

import (
	"bytes"
	"time"

	"github.com/procagent/procagent/runtime"
)

// instance is the agent's record of one resource. Its status is derived,
// never stored (runtime.Derive); counted only says under which status the
// agent's counts hold it. Guarded by Agent.mu.
type instance struct {
	id      string
	rank    uint64
	spec    Spec
	created time.Time
	// ref is the live actor: nil when the spawn failed, and dropped once
	// the actor ended, so that a dead actor's cell and mailbox are freed
	// whatever the retention.
	ref           *runtime.Ref
	spawned       bool // an actor was spawned: it ran, or runs
	pid           int  // the actor's process, kept when ref is dropped
	spawnErr      error
	stopRequested bool
	event         *runtime.SupervisionEvent // the first terminal event
	expiry        time.Time                 // zero: never expires
	generation    uint64
	updated       time.Time
	subs          map[*subscriber]struct{}
	waiters       map[*waiter]struct{}

	counted runtime.Status // the status Agent.counts holds it under
	retired uint64         // its entry in Agent.retired while terminal; 0 otherwise
}

func (i *instance) status() runtime.Status {
	return runtime.Derive(i.spawnErr, i.stopRequested, i.event)
}

func (i *instance) terminal() bool { return i.status().IsTerminated() }

// replaceable reports whether a create with spec replaces this resource: its
// spawn failed, so its actor never ran, and spec is a different one. The
// same spec again returns the failed state untouched (retries stay
// idempotent); a resource whose actor ran is never replaced.
func (i *instance) replaceable(spec Spec) bool {
	if i.spawned || i.spawnErr == nil {
		return false
	}
	return spec.ActorType != i.spec.ActorType || !bytes.Equal(spec.Params, i.spec.Params)
}

func (i *instance) state() State {
	st := State{
		ID:         i.id,
		Status:     i.status(),
		Generation: i.generation,
		Timestamp:  i.updated,
		Actor:      &ActorState{Type: i.spec.ActorType, CreateRank: i.rank, Pid: i.pid},
	}
	switch {
	case i.spawnErr != nil:
		st.FailureReason = i.spawnErr.Error()
	case i.event != nil && i.event.IsError():
		st.FailureReason = i.event.Reason
	}
	if i.ref != nil {
		st.Actor.Pid = i.ref.Pid()
	}
	if i.event != nil {
		st.Actor.Events = []runtime.SupervisionEvent{*i.event}
	}
	return st
}

// notExist is the state of an id the agent does not know (or forgot).
func notExist(id string) State {
	return State{ID: id, Status: runtime.StatusNotExist, Timestamp: time.Now()}
}

// transitionLocked is the one function every transition goes through
// (create, stop, stop-all, orphan stop, supervision event): it bumps the
// generation by one, keeps the counts by status and the retention of
// terminated resources, and notifies subscribers and waiters. A waiter
// whose threshold a terminated resource can no longer reach gets the
// terminal state at once. The observer is told of the event that caused
// the transition by the caller, which knows what happened.
func (a *Agent) transitionLocked(i *instance) State {
	i.generation++
	i.updated = time.Now()
	st := i.state()
	a.recountLocked(i, st.Status)
	for s := range i.subs {
		s.push(st)
	}
	for w := range i.waiters {
		if st.Status.AtLeast(w.min) || st.Status.IsTerminated() {
			w.ch <- st
			delete(i.waiters, w)
		}
	}
	return st
}

// recountLocked moves i from the status it is counted under to s, and
// files it for retention when it just terminated (or takes it back out
// when a failed spawn is replaced).
func (a *Agent) recountLocked(i *instance, s runtime.Status) {
	a.counts[i.counted]--
	a.counts[s]++
	was := i.counted.IsTerminated()
	i.counted = s
	switch {
	case s.IsTerminated() && !was:
		a.retireSeq++
		i.retired = a.retireSeq
		a.retired = append(a.retired, retiredEntry{inst: i, seq: i.retired})
		a.forgetLocked()
	case !s.IsTerminated():
		i.retired = 0
	}
}

// retiredEntry is one terminated resource, in the order they terminated.
// An entry whose instance was replaced or forgotten since is stale.
type retiredEntry struct {
	inst *instance
	seq  uint64
}

// forgetLocked forgets the oldest terminated resources while more than the
// retention are kept: their ids read NOT_EXIST again and can be created
// anew, with generations starting over.
func (a *Agent) forgetLocked() {
	for a.terminatedLocked() > a.retention && len(a.retired) > 0 {
		e := a.retired[0]
		a.retired[0] = retiredEntry{}
		a.retired = a.retired[1:]
		i := e.inst
		if i.retired != e.seq || a.instances[i.id] != i {
			continue // stale: replaced or forgotten since
		}
		delete(a.instances, i.id)
		a.counts[i.counted]--
	}
	// Entries are appended at the end and taken from the front: append
	// moves the live part to a new array when the old one is used up, so
	// the backing array stays within about twice the retention.
}

// terminatedLocked counts the tracked terminated resources.
func (a *Agent) terminatedLocked() int {
	return a.counts[runtime.StatusStopped] + a.counts[runtime.StatusFailed] + a.counts[runtime.StatusTimeout]
}

// liveLocked counts the tracked resources that are not terminated.
func (a *Agent) liveLocked() int { return len(a.instances) - a.terminatedLocked() }
