package procagent

import (
	"fmt"
	"time"

	"github.com/procagent/procagent/runtime"
)

// ProcNode is the introspection of the proc, computed from live state at
// query time (docs/semantics.md, "Introspection").
type ProcNode struct {
	ProcName            string
	NumLive, NumStopped int
	Children            []string
	SystemChildren      []string
	StoppedChildren     []string
	StoppedRetentionCap int
	IsPoisoned          bool
	FailedActorCount    int
	// RSSBytes and VMBytes are nil when they cannot be read.
	RSSBytes, VMBytes *uint64
	QueueDepthTotal   int64
	QueueDepthMax     int64
	QueueDepthHWM     int64
	// LastNonzeroQueueAge is nil when the queue was never non-zero.
	LastNonzeroQueueAge *time.Duration
}

// ActorNode is the introspection of one actor, live or from its snapshot.
type ActorNode struct {
	ID                string
	Status            runtime.Status
	Type              string
	MessagesProcessed uint64
	QueueDepth        int64
	CreatedAt         time.Time
	LastHandler       string
	LastHandlerAt     time.Time
	System            bool
	Terminated        bool
	Pid               int
	FailureReason     string
	ExitCode          *int
	FailedAt          time.Time
}

// Node is the result of QueryChild: exactly one of Proc and Actor is set.
type Node struct {
	Proc  *ProcNode
	Actor *ActorNode
}

// QueryChild introspects ref: "" (or the proc's name) is the proc, anything
// else an actor. It runs off the actors' loops, so a wedged actor is still
// observable. An unknown ref is ErrNotFound.
func (a *Agent) QueryChild(ref string) (Node, error) {
	if ref == "" || ref == a.proc.Name() {
		return Node{Proc: a.procNode()}, nil
	}
	if info, ok := a.proc.Actor(ref); ok {
		return Node{Actor: actorNode(info)}, nil
	}
	// A resource whose spawn failed has no runtime actor, only an instance.
	f, st := a.lookup(ref)
	if f == nil {
		return Node{}, fmt.Errorf("query %s: %w", Quote(ref), ErrNotFound)
	}
	n := &ActorNode{
		ID: ref, Status: st.Status, Type: f.actorTy, CreatedAt: f.created,
		Terminated: st.Status.IsTerminated(), FailureReason: st.FailureReason,
	}
	if st.Status.IsFailure() {
		n.FailedAt = st.Timestamp
	}
	return Node{Actor: n}, nil
}

func (a *Agent) procNode() *ProcNode {
	stats := a.proc.Stats()
	n := &ProcNode{
		ProcName:            a.proc.Name(),
		NumLive:             stats.Live,
		Children:            a.proc.Children(),
		SystemChildren:      a.proc.SystemChildren(),
		StoppedRetentionCap: stats.RetentionCap,
		QueueDepthTotal:     stats.QueueDepthTotal,
		QueueDepthMax:       stats.QueueDepthMax,
		QueueDepthHWM:       stats.QueueDepthHighWater,
	}
	for _, info := range a.proc.Terminated() {
		n.StoppedChildren = append(n.StoppedChildren, info.Name)
	}
	n.NumStopped = len(n.StoppedChildren)
	if !stats.LastNonzero.IsZero() {
		age := max(time.Since(stats.LastNonzero), 0)
		n.LastNonzeroQueueAge = &age
	}
	if rss, vm, ok := a.mem.ReadMemory(); ok {
		n.RSSBytes, n.VMBytes = &rss, &vm
	}
	n.IsPoisoned, n.FailedActorCount = a.Poisoned()
	return n
}

func actorNode(info runtime.ActorInfo) *ActorNode {
	n := &ActorNode{
		ID: info.Name, Status: info.Status, Type: info.Type, MessagesProcessed: info.MessagesProcessed,
		QueueDepth: info.QueueDepth, CreatedAt: info.CreatedAt, LastHandler: info.LastHandler, LastHandlerAt: info.LastHandlerAt,
		System: info.System, Terminated: info.Terminated, Pid: info.Pid,
	}
	if ev := info.Event; ev != nil && ev.IsError() {
		n.FailureReason, n.ExitCode, n.FailedAt = ev.Reason, ev.ExitCode, ev.Time
	}
	return n
}

// Poisoned reports whether any actor failed by a supervision event, and how
// many did: the cheap read behind the poisoned-proc metric.
func (a *Agent) Poisoned() (poisoned bool, failed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.failed) > 0, len(a.failed)
}

// ActorPid returns the OS process of the actor behind id: ErrNotFound for
// an unknown id, ErrNotRunning for an actor without a live process.
func (a *Agent) ActorPid(id string) (int, error) {
	if err := ValidateID(id); err != nil {
		return 0, err
	}
	f, st := a.lookup(id)
	switch {
	case f == nil:
		return 0, fmt.Errorf("actor %q: %w", id, ErrNotFound)
	case f.ref == nil || st.Status.IsTerminated() || st.Actor.Pid == 0:
		return 0, fmt.Errorf("actor %q (%v) has no live process: %w", id, st.Status, ErrNotRunning)
	}
	return st.Actor.Pid, nil
}
