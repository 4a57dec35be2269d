package procagent

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/procagent/procagent/internal/ranks"
)

// Expected conditions, checked with errors.Is; the RPC edge maps them to
// Connect codes (rpcserver/errors.go).
var (
	// ErrInvalidID is a resource id ValidateID refuses.
	ErrInvalidID = errors.New("invalid resource id")
	// ErrInvalidArgument is a malformed request (bad params, ttl, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrInvalidOverlay is a malformed status overlay.
	ErrInvalidOverlay = ranks.ErrInvalid
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
	// ErrLimit is a request refused because a configured limit is reached
	// (max_live_actors, max_streams, max_waiters, max_profiles, ...); it
	// may succeed later.
	ErrLimit = errors.New("limit reached")
)

func fmtErr(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// maxQuoted is how many bytes of a value Quote shows.
const maxQuoted = 64

// Quote quotes a value for an error message, as %q does, but never whole
// when it is long: past 64 bytes it shows the first 64 (cut at a character
// boundary) with an ellipsis, then the value's length, as in
// "abc…" (1048576 bytes). Error messages quote request values with it, so
// that a huge value is not echoed back.
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s (%d bytes)", strconv.Quote(s[:cut]+"…"), len(s))
}
