// Package profiling owns procagent's profiles: Go pprof dumps of
// the agent itself (GoProfile), and stack dumps (Dump) and recorded
// profiles (Profile) of Python workers, taken with py-spy or austin
// (FindSamplers finds them once, with their versions; each request reads
// the target's Python version through internal/osproc and runs the first
// sampler that can read it, else answers Unsupported), converted to pprof, a flame graph SVG,
// speedscope's format or collapsed text. Every outcome of a sampler is a
// typed Result, never a bare string.
//
// It is the one place besides the runtime's exec actor that starts
// processes: sampler binaries resolved once, arguments built from typed
// options, a deadline, stdout and stderr drained concurrently and capped
// (runner.go). Parsers take bytes and are table-tested on recorded output
// under testdata; py-spy, which cannot be installed on the build machines,
// is played there by a stand-in script, testdata/fake-py-spy.
//
// Profiler is the entry point: domain types in (a Target, DumpOptions,
// ProfileOptions), a typed Result or a sentinel error out. It knows
// nothing of the wire: package rpcserver serves it and converts. It finds
// an actor's process through the Resolver it declares (cmd/agent adapts
// procagent.Agent), and reads /proc only through internal/osproc.
//
// It is plugged in by cmd/agent and must not import procagent, telemetry,
// rpcserver, cmd, Connect or the generated code.
package profiling
