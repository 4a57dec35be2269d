package procagent

import (
	"time"

	"github.com/procagent/procagent/runtime"
)

// instance is the agent's record of one resource. Its status is derived,
// never stored (runtime.Derive). Guarded by Agent.mu.
type instance struct {
	id            string
	rank          uint64
	spec          Spec
	created       time.Time
	ref           *runtime.Ref // nil when the spawn failed
	spawnErr      error
	stopRequested bool
	event         *runtime.SupervisionEvent // the first terminal event
	expiry        time.Time                 // zero: never expires
	generation    uint64
	updated       time.Time
	subs          map[*subscriber]struct{}
	waiters       map[*waiter]struct{}
}

func (i *instance) status() runtime.Status {
	return runtime.Derive(i.spawnErr, i.stopRequested, i.event)
}

func (i *instance) terminal() bool { return i.status().IsTerminated() }

func (i *instance) failed() bool { return i.status().IsFailure() }

func (i *instance) state() State {
	st := State{
		ID:         i.id,
		Status:     i.status(),
		Generation: i.generation,
		Timestamp:  i.updated,
		Actor:      &ActorState{Type: i.spec.ActorType, CreateRank: i.rank},
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

func notExist(id string) State { return State{ID: id, Status: runtime.StatusNotExist} }

// transitionLocked is the one function every transition goes through
// (create, stop, stop-all, orphan stop, supervision event): it bumps the
// generation by one and notifies subscribers, waiters and the observer.
func (a *Agent) transitionLocked(i *instance) State {
	i.generation++
	i.updated = time.Now()
	st := i.state()
	for s := range i.subs {
		s.push(st)
	}
	for w := range i.waiters {
		if st.Status.AtLeast(w.min) {
			w.ch <- st
			delete(i.waiters, w)
		}
	}
	a.observer.Transition(st)
	return st
}
