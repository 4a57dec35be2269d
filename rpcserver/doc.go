// Package rpcserver is the agent's one RPC edge: it serves the
// procagent.v1.ProcAgentService over Connect, gRPC and gRPC-Web (with gRPC
// health and reflection) by adapting each call to the domain packages.
//
// Everything that knows the wire lives here and nowhere else: the Connect
// handlers (resource.go for the resource behaviour of procagent.Agent,
// profiling.go for the Profiler), every proto ⇄ domain conversion
// (convert.go, convert_profiling.go) and the single mapping from domain
// errors to Connect codes (errors.go). A handler decodes the request,
// calls the domain, and encodes the answer; it holds no state and takes no
// decision of its own.
//
// rpcserver imports procagent, runtime, profiling and the generated code
// under proto/. procagent, profiling, runtime and telemetry never import it,
// nor connect, nor the generated code (depguard in .golangci.yml).
// ARCHITECTURE.md draws the arrows.
package rpcserver
