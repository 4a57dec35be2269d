// Package runtime is procagent's actor runtime: a Proc hosts actors, each a
// goroutine with a counted mailbox, a watchable lifecycle status and one
// supervision event when it ends.
//
// Actors are spawned by Go value (Proc.Spawn) or by registered type name
// with JSON params (Proc.SpawnType and a Registry). Built-in types are echo,
// sleep, fail and exec; exec supervises an OS process.
//
// Mailbox accounting costs at most two atomic adds per enqueue and per
// dequeue: no lock, no allocation, no label hashing on the message path.
// Introspection (Proc.Stats, Proc.Actor, Proc.Children, Proc.Terminated)
// snapshots the keys, then does point lookups, so it never blocks spawn or
// stop and a wedged actor is still observable.
//
// The package imports the standard library only: no proto, no OpenTelemetry,
// no Prometheus. Telemetry plugs in through the HandlerObserver interface
// (handler durations) and reads the rest through Proc.Stats and Proc.Sample.
package runtime
