package runtime

import "time"

// ActorSample is what a metrics collector reads of one live actor: only
// atomics and the status, no snapshot copying.
type ActorSample struct {
	Name       string
	Type       string
	System     bool
	Status     Status
	QueueDepth int64
	// Processed counts the messages taken from the mailbox.
	Processed uint64
	// Pid is the supervised OS process, or 0.
	Pid int
}

// Sample calls f for every live actor, in no particular order. Like the
// other introspection reads it snapshots the set first and never blocks
// spawn or stop; f runs without any lock held.
func (p *Proc) Sample(f func(ActorSample)) {
	for _, c := range p.cells() {
		s := ActorSample{
			Name:       c.name,
			Type:       c.typeName,
			System:     c.system,
			QueueDepth: c.depth(),
			Processed:  uint64(max(c.processed.Load(), 0)),
		}
		c.mu.Lock()
		s.Status = c.status
		c.mu.Unlock()
		if pp, ok := c.actor.(interface{ Pid() int }); ok {
			s.Pid = pp.Pid()
		}
		f(s)
	}
}

// HandlerObserver is told how long each message's handler took. It is
// called on the actor's goroutine and must be cheap and non-blocking;
// without one the runtime reads no clock per message.
type HandlerObserver interface {
	Handled(actorType string, d time.Duration, failed bool)
}

// WithHandlerObserver times every handler call and reports it to o.
func WithHandlerObserver(o HandlerObserver) Option { return func(p *Proc) { p.handlerObs = o } }
