package runtime

import (
	"context"
)

// Actor handles the messages of one actor. Handle runs on the actor's own
// goroutine, one message at a time. An error, or a panic, fails the actor:
// it stops, and its supervision event carries the error as the reason.
type Actor interface {
	Handle(c *Context, msg any) error
}

// Initializer is implemented by actors that need setup before their first
// message. The actor is INITIALIZING while Init runs and RUNNING after it
// returns nil; an error fails the actor.
type Initializer interface {
	Init(c *Context) error
}

// Closer is implemented by actors that own resources. Close runs once on the
// actor's goroutine when it ends, whatever the cause; c.StopRequested tells
// whether a stop was requested. An error from Close fails the actor (joined
// to any earlier failure).
type Closer interface {
	Close(c *Context) error
}

// HandlerFunc adapts a function to the Actor interface.
type HandlerFunc func(c *Context, msg any) error

// Handle calls f.
func (f HandlerFunc) Handle(c *Context, msg any) error { return f(c, msg) }

// Context is what an actor sees of itself while it runs. It embeds a
// context.Context that is cancelled when a stop is requested, so blocking
// work in a handler should honour it. A Context belongs to one actor;
// Reply is for its own goroutine, Terminate and SetExitCode may be called
// from any goroutine the actor owns.
type Context struct {
	context.Context
	cell  *cell
	reply chan<- Reply
	sent  bool
}

// Self returns the actor's own reference.
func (c *Context) Self() *Ref { return &c.cell.ref }

// Proc returns the proc hosting the actor.
func (c *Context) Proc() *Proc { return c.cell.proc }

// Reply answers the message being handled when its sender asked for a reply
// (Ref.Ask). It is a no-op for a message sent with Send, and only the first
// reply to a message counts.
func (c *Context) Reply(v any) {
	if c.reply == nil || c.sent {
		return
	}
	c.sent = true
	c.reply <- Reply{Value: v}
}

// Terminate ends the actor from any goroutine it owns: nil means it stopped
// cleanly, an error that it failed. The first terminal outcome is final.
func (c *Context) Terminate(err error) { c.cell.terminate(err) }

// SetExitCode records the exit code of the process an actor supervises; it
// is reported in the actor's supervision event.
func (c *Context) SetExitCode(code int) { c.cell.setExitCode(code) }

// StopRequested reports whether a stop of the actor was requested.
func (c *Context) StopRequested() bool {
	c.cell.mu.Lock()
	defer c.cell.mu.Unlock()
	return c.cell.stopReq
}

// Reply is the answer to a request made with Ref.Ask.
type Reply struct {
	Value any
	Err   error
}
