package runtime

import "fmt"

// Status is an actor's lifecycle status. The values are ordered: "at least
// S" means s >= S in this order.
type Status int

// The statuses, in order.
const (
	StatusNotExist Status = iota
	StatusInitializing
	StatusRunning
	StatusStopping
	StatusStopped
	StatusFailed
	StatusTimeout
	StatusUnknown
)

// NumStatuses is how many statuses there are: StatusUnknown is the last.
const NumStatuses = int(StatusUnknown) + 1

// StatusCounts counts things by status, indexed by Status.
type StatusCounts [NumStatuses]int

var statusNames = [...]string{
	StatusNotExist:     "NOT_EXIST",
	StatusInitializing: "INITIALIZING",
	StatusRunning:      "RUNNING",
	StatusStopping:     "STOPPING",
	StatusStopped:      "STOPPED",
	StatusFailed:       "FAILED",
	StatusTimeout:      "TIMEOUT",
	StatusUnknown:      "UNKNOWN",
}

// String returns the status name, e.g. "RUNNING".
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// ParseStatus parses a status name as returned by String.
func ParseStatus(name string) (Status, error) {
	for i, n := range statusNames {
		if n == name {
			return Status(i), nil
		}
	}
	return StatusUnknown, fmt.Errorf("unknown status %q", name)
}

// AtLeast reports whether s is min or later in the status order.
func (s Status) AtLeast(minStatus Status) bool { return s >= minStatus }

// IsTerminating reports whether s is STOPPING or later (up to TIMEOUT).
func (s Status) IsTerminating() bool { return s >= StatusStopping && s <= StatusTimeout }

// IsTerminated reports whether s is STOPPED, FAILED or TIMEOUT.
func (s Status) IsTerminated() bool { return s >= StatusStopped && s <= StatusTimeout }

// IsFailure reports whether s is a failed terminal status (FAILED, TIMEOUT).
func (s Status) IsFailure() bool { return s == StatusFailed || s == StatusTimeout }

// Derive computes the status of a tracked actor from what is known about it,
// never from a stored value (docs/semantics.md): a failed spawn is FAILED; a terminal
// supervision event gives its own status (an error event FAILED, a clean one
// STOPPED); a requested stop is STOPPING; otherwise the actor is RUNNING.
func Derive(spawnErr error, stopRequested bool, event *SupervisionEvent) Status {
	switch {
	case spawnErr != nil:
		return StatusFailed
	case event != nil && event.Status.IsFailure():
		return event.Status
	case event != nil:
		return StatusStopped
	case stopRequested:
		return StatusStopping
	default:
		return StatusRunning
	}
}
