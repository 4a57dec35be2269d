// Package procagent is the proc agent: the resource behaviour of Monarch's
// ProcAgent over a runtime.Proc, served over Connect RPC.
//
// Agent (agent.go and its neighbours) is the domain: idempotent create,
// stop, stop-all and its exit code, state with a generation bumped by every
// transition, streams, rank status and waiting on it, keepalive and the
// orphan sweep, poisoned procs, and introspection computed at query time.
// It never sees generated proto types: service.go adapts Connect ⇄ domain
// and maps errors to Connect codes in one function.
//
// procagent imports runtime; it must not import telemetry, profiling or
// cmd. Those plug in through the small interfaces declared here (Observer,
// Flusher, MemoryReader).
package procagent
