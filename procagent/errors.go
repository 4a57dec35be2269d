package procagent

import (
	"errors"
	"fmt"
)

// Expected conditions, checked with errors.Is; service.go maps them to
// Connect codes.
var (
	// ErrInvalidID is a resource id that is not [a-z][a-z0-9_-]{0,62} or
	// label-<id>.
	ErrInvalidID = errors.New("invalid resource id")
	// ErrInvalidArgument is a malformed request (bad params, ttl, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInvalidOverlay is a malformed status overlay.
	ErrInvalidOverlay = errors.New("invalid status overlay")
	// ErrNotFound is an unknown id or introspection ref.
	ErrNotFound = errors.New("not found")
	// ErrStopping is returned for requests that change state after StopAll.
	ErrStopping = errors.New("agent is stopping")
	// ErrNotRunning is a message sent to an actor that is not running.
	ErrNotRunning = errors.New("actor not running")
	// ErrMailboxFull is a message refused by a full mailbox.
	ErrMailboxFull = errors.New("mailbox full")
	// ErrHandlerFailed is a message whose handler failed (the actor fails).
	ErrHandlerFailed = errors.New("handler failed")
)

func fmtErr(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}
