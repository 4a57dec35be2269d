package runtime

import (
	"time"
)

// ActorInfo is the introspection record of an actor, live or terminated.
type ActorInfo struct {
	Name   string
	Type   string
	System bool
	Status Status
	// MessagesProcessed counts the messages taken from the mailbox.
	MessagesProcessed uint64
	// QueueDepth is the number of messages waiting in the mailbox.
	QueueDepth int64
	CreatedAt  time.Time
	// LastHandler names the message type last handled ("" before any).
	LastHandler string
	// LastHandlerAt is when the last handler started; zero before any, and
	// always zero in a proc without a HandlerObserver (the message path
	// reads no clock of its own: the observer's timing supplies it).
	LastHandlerAt time.Time
	// Pid is the supervised OS process, or 0.
	Pid int
	// StopReason is the reason given to a requested stop.
	StopReason string
	// Terminated is set for a snapshot of an ended actor.
	Terminated bool
	// Event is the supervision event of an ended actor.
	Event *SupervisionEvent
}

// Failed reports whether the actor ended in failure.
func (i ActorInfo) Failed() bool { return i.Event != nil && i.Event.IsError() }

// infoLocked builds the record; c.mu is held.
func (c *cell) infoLocked() ActorInfo {
	info := ActorInfo{
		Name:       c.name,
		Type:       c.typeName,
		System:     c.system,
		Status:     c.status,
		CreatedAt:  c.createdAt,
		StopReason: c.stopReason,
	}
	if p, ok := c.actor.(interface{ Pid() int }); ok {
		info.Pid = p.Pid()
	}
	if l := c.last.Load(); l != nil {
		info.LastHandler = *l
	}
	if at := c.lastAt.Load(); at != 0 {
		info.LastHandlerAt = time.Unix(0, at)
	}
	info.MessagesProcessed = uint64(max(c.processed.Load(), 0))
	if !c.dead.Load() {
		info.QueueDepth = c.depth()
	}
	if c.event != nil {
		ev := *c.event
		info.Event = &ev
		info.Terminated = true
	}
	return info
}

// Stats is the proc-wide view of queues and actors, computed at call time.
type Stats struct {
	// Live counts live user actors; System live system actors.
	Live, System int
	// Stopped counts retained snapshots of terminated actors.
	Stopped int
	// RetentionCap is the most terminated snapshots kept.
	RetentionCap int
	// QueueDepthTotal is the sum of all mailbox depths, read in O(1).
	QueueDepthTotal int64
	// QueueDepthMax is the deepest live mailbox (never above the total).
	QueueDepthMax int64
	// QueueDepthHighWater is the highest total ever seen.
	QueueDepthHighWater int64
	// LastNonzero is when the total was last non-zero: now while it is, the
	// time it dropped to zero otherwise, zero if it never was.
	LastNonzero time.Time
}

// Stats returns the proc's queue and actor figures. It scans live actors
// with point lookups and never blocks spawn or stop.
func (p *Proc) Stats() Stats {
	s := Stats{RetentionCap: p.retention.capacity}
	for _, c := range p.cells() {
		if c.system {
			s.System++
		} else {
			s.Live++
		}
		s.QueueDepthMax = max(s.QueueDepthMax, c.depth())
	}
	s.Stopped = p.retention.len()
	s.QueueDepthTotal = p.queue.total()
	// The reads are not one atomic snapshot; keep the documented invariant.
	s.QueueDepthMax = min(s.QueueDepthMax, s.QueueDepthTotal)
	s.QueueDepthHighWater = p.queue.highWater.Load()
	switch {
	case s.QueueDepthTotal > 0:
		s.LastNonzero = time.Now()
	case p.queue.lastNonzero.Load() != 0:
		s.LastNonzero = time.Unix(0, p.queue.lastNonzero.Load())
	}
	return s
}
