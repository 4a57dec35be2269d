package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Factory builds an actor from its JSON params (nil or empty when none were
// given). An error means the params are bad.
type Factory func(params []byte) (Actor, error)

// Registry maps actor type names to factories. It is safe for concurrent use
// and never global: each proc has its own.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: make(map[string]Factory)} }

// Register adds a type; registering a name twice replaces the factory.
func (r *Registry) Register(typeName string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.factories[typeName] = f
}

// Types returns the registered type names, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.factories))
	for t := range r.factories {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// New builds an actor of a registered type.
func (r *Registry) New(typeName string, params []byte) (Actor, error) {
	r.mu.RLock()
	f := r.factories[typeName]
	r.mu.RUnlock()
	if f == nil {
		return nil, &UnknownTypeError{Type: typeName, Known: r.Types()}
	}
	a, err := f(params)
	if err != nil {
		return nil, &ParamsError{Type: typeName, Err: err}
	}
	return a, nil
}

// UnknownTypeError is returned for a type name that is not registered.
type UnknownTypeError struct {
	Type  string
	Known []string
}

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("unknown actor type %q (known: %s)", e.Type, strings.Join(e.Known, ", "))
}

// ParamsError is returned when a type's params do not decode or validate.
type ParamsError struct {
	Type string
	Err  error
}

func (e *ParamsError) Error() string {
	return fmt.Sprintf("bad params for actor type %q: %v", e.Type, e.Err)
}

func (e *ParamsError) Unwrap() error { return e.Err }

// DecodeParams strictly decodes JSON params into v: unknown fields are an
// error, and empty params leave v at its zero value.
func DecodeParams(params []byte, v any) error {
	if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after params")
	}
	return nil
}
