package procagent

import (
	"context"
	"fmt"
)

// subscriber receives the states of one StreamState call. Its buffer keeps
// the newest states: when the client is slow the oldest are dropped, never
// the latest (each State is complete, so the newest one is what matters).
type subscriber struct {
	ch chan State
}

const subscriberBuffer = 16

// push queues st without blocking; it is called with Agent.mu held, so
// pushes are serialized.
func (s *subscriber) push(st State) {
	for {
		select {
		case s.ch <- st:
			return
		default:
		}
		select {
		case <-s.ch: // drop the oldest
		default:
		}
	}
}

// StreamState sends id's current state, then one state per transition, and
// returns after a terminal state. An unknown id sends NOT_EXIST and
// returns. When ctx ends (the client went away) the subscription is
// forgotten at once and StreamState returns nil; an error from send ends it
// the same way and is returned.
func (a *Agent) StreamState(ctx context.Context, id string, send func(State) error) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	sub := &subscriber{ch: make(chan State, subscriberBuffer)}
	a.mu.Lock()
	inst := a.instances[id]
	if inst == nil {
		a.mu.Unlock()
		return send(notExist(id))
	}
	sub.push(inst.state())
	if inst.subs == nil {
		inst.subs = make(map[*subscriber]struct{})
	}
	inst.subs[sub] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(inst.subs, sub)
		a.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case st := <-sub.ch:
			if err := send(st); err != nil {
				return fmt.Errorf("stream state of %q: %w", id, err)
			}
			if st.Status.IsTerminated() {
				return nil
			}
		}
	}
}

// Watchers returns how many StreamState subscriptions and WaitRankStatus
// waiters id has right now; 0 and 0 for an unknown id. A caller that went
// away is no longer counted once its call has returned.
func (a *Agent) Watchers(id string) (subscribers, waiters int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if inst := a.instances[id]; inst != nil {
		return len(inst.subs), len(inst.waiters)
	}
	return 0, 0
}
