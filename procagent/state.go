package procagent

import (
	"time"

	"github.com/procagent/procagent/internal/ranks"
	"github.com/procagent/procagent/runtime"
)

// State is what the agent reports about one resource (docs/semantics.md).
type State struct {
	ID            string
	Status        runtime.Status
	FailureReason string
	// Actor is nil for an id the agent does not know (NOT_EXIST).
	Actor      *ActorState
	Generation uint64
	Timestamp  time.Time
}

// ActorState describes the actor behind a resource.
type ActorState struct {
	Type       string
	Pid        int
	CreateRank uint64
	// Events holds the actor's supervision event once it has ended.
	Events []runtime.SupervisionEvent
}

// Spec is what to create: a registered actor type and its JSON params.
type Spec struct {
	ActorType string
	Params    []byte
}

// StatusRun is one run of a StatusOverlay: ranks [Start, End) have Status.
type StatusRun = ranks.Run[runtime.Status]

// StatusOverlay is a sorted list of non-overlapping, non-empty runs with
// adjacent equal runs merged; Merge lays one over another, right wins, and
// Validate checks the form (ErrInvalidOverlay). It is the overlay a mesh
// controller merges too (internal/ranks).
type StatusOverlay = ranks.Overlay[runtime.Status]
