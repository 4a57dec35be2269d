// Package ctl is the `agent ctl` client: it parses the command line, calls a
// running agent's RPCs and prints the replies as tables or protojson. Run is
// its one entry point; cmd/agent calls it for `agent ctl ARGS…` and exits
// with the code it returns (0 ok, 1 RPC error, 2 usage error).
//
// ctl owns the command table (one command per RPC), the global flags and
// their environment variables, the HTTP/2 client and its bearer token, and
// the output formats. The agent's environment reaches it only through the
// getenv function Run is given.
//
// ctl speaks to an agent through the generated Connect client in
// proto/procagent/v1/procagentv1connect, and `top` also reads the agent's
// /metrics, for what no RPC carries (per-actor memory, the version). The
// fleet commands (`mesh …`, `top --targets`) go through package mesh, the
// controller side. Outside its tests ctl must not import procagent,
// runtime, telemetry or profiling: it knows the wire contract, not the
// agent's insides. Its tests serve an in-process agent (server_test.go).
package ctl
