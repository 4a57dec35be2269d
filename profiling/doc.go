// Package profiling will own procagent's profiles: Go pprof dumps of the
// agent itself, and py-spy (austin as a fallback) dumps and profiles of
// Python workers converted to pprof (SPEC §6). It is the one place besides
// the runtime's exec actor that starts processes, and is plugged in by
// cmd/agent.
//
// It must not import cmd nor telemetry.
package profiling
