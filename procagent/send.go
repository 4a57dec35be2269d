package procagent

import (
	"context"
	"errors"
	"fmt"

	"github.com/procagent/procagent/runtime"
)

// Send posts payload to id's mailbox. With wait it returns the actor's
// reply; without, a full mailbox is ErrMailboxFull (no waiting). An unknown
// id is ErrNotFound, an actor that is not running ErrNotRunning.
func (a *Agent) Send(ctx context.Context, id string, payload any, wait bool) (State, any, error) {
	if err := ValidateID(id); err != nil {
		return State{}, nil, err
	}
	f, st := a.lookup(id)
	switch {
	case f == nil:
		return notExist(id), nil, fmt.Errorf("send to %q: %w", id, ErrNotFound)
	case f.ref == nil || st.Status.IsTerminating():
		return st, nil, fmt.Errorf("send to %q (%v): %w", id, st.Status, ErrNotRunning)
	}
	if !wait {
		err := f.ref.TrySend(payload)
		return st, nil, sendErr(id, err)
	}
	reply, err := f.ref.Ask(ctx, payload)
	return st, reply, sendErr(id, err)
}

// sendErr maps the runtime's message-path errors to the agent's.
func sendErr(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, runtime.ErrMailboxFull):
		return fmt.Errorf("send to %q: %w", id, ErrMailboxFull)
	case errors.Is(err, runtime.ErrActorStopped):
		return fmt.Errorf("send to %q: %w", id, ErrNotRunning)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("send to %q: %w", id, err)
	}
	return fmt.Errorf("send to %q: %w: %w", id, ErrHandlerFailed, err)
}
