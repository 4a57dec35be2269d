package runtime

import (
	"errors"
	"fmt"
	"time"
)

// RegisterBuiltins registers the built-in actor types: echo, sleep, fail
// and exec.
func RegisterBuiltins(r *Registry) {
	r.Register("echo", newEcho)
	r.Register("sleep", newSleep)
	r.Register("fail", newFail)
	r.Register("exec", NewExec)
}

// echo replies with what it receives.
type echo struct{}

func newEcho(params []byte) (Actor, error) {
	var p struct{}
	if err := DecodeParams(params, &p); err != nil {
		return nil, err
	}
	return echo{}, nil
}

func (echo) Handle(c *Context, msg any) error {
	c.Reply(msg)
	return nil
}

// sleep takes params.ms milliseconds per message, then replies with it: a
// slow consumer that makes queues visible. A stop interrupts the sleep.
type sleep struct{ d time.Duration }

// SleepParams are the params of the sleep type.
type SleepParams struct {
	// MS is how long each message takes, in milliseconds.
	MS int64 `json:"ms"`
}

func newSleep(params []byte) (Actor, error) {
	var p SleepParams
	if err := DecodeParams(params, &p); err != nil {
		return nil, err
	}
	if p.MS < 0 || p.MS > int64(time.Hour/time.Millisecond) {
		return nil, fmt.Errorf("ms must be between 0 and 3600000, got %d", p.MS)
	}
	return &sleep{d: time.Duration(p.MS) * time.Millisecond}, nil
}

func (s *sleep) Handle(c *Context, msg any) error {
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
		c.Reply(msg)
	case <-c.Done():
	}
	return nil
}

// fail fails when a message says so: {"fail": "reason"} returns an error,
// {"panic": "value"} panics; anything else is echoed.
type fail struct{}

func newFail(params []byte) (Actor, error) {
	var p struct{}
	if err := DecodeParams(params, &p); err != nil {
		return nil, err
	}
	return fail{}, nil
}

// FailMessage is a message that makes a fail actor fail.
type FailMessage struct{ Reason string }

func (fail) Handle(c *Context, msg any) error {
	switch m := msg.(type) {
	case FailMessage:
		return errors.New(m.Reason)
	case map[string]any:
		if r, ok := m["fail"]; ok {
			return fmt.Errorf("%v", r)
		}
		if v, ok := m["panic"]; ok {
			panic(v)
		}
	}
	c.Reply(msg)
	return nil
}
