// Package procagent is the proc agent: the resource behaviour over a
// runtime.Proc — idempotent create, stop, stop-all and its exit code, state
// with a generation bumped by every transition, streams, rank status and
// waiting on it, keepalive and the orphan sweep, poisoned procs,
// introspection computed at query time, and the layered configuration.
// docs/semantics.md describes the behaviour; ARCHITECTURE.md places the
// package in the house.
//
// It is the domain: Agent's methods take and return domain types and fail
// with the sentinel errors of errors.go. It never sees generated proto
// types nor Connect: package rpcserver serves it over the wire.
//
// procagent imports runtime (and internal/osproc for its default memory
// reader); it must not import telemetry, profiling, rpcserver or cmd.
// Those plug in through the small interfaces declared here: Observer
// (lifecycle events, which telemetry implements), Flusher, MemoryReader.
package procagent
