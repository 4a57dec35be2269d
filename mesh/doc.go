// Package mesh is the controller side of a fleet of agents: it reads the
// fleet's inventory (a Prometheus file_sd file, an http_sd URL or a comma
// list of host:port, LoadTargets), casts one RPC to every rank with bounded
// concurrency and a deadline per rank (Fleet), and merges the ranks'
// one-run answers into one Overlay of the whole mesh, as Monarch's
// controller merges the rank statuses of its procs.
//
// A rank that does not answer in time reads TIMEOUT, one that cannot be
// reached (a refused connection, a failed handshake) reads UNKNOWN, one
// that answers an RPC error reads what the error means (UNKNOWN, with the
// error as its reason): a cast always completes with an answer for every
// rank, never fails as a whole because some ranks did.
//
// mesh speaks to the agents only through the generated Connect client in
// proto/procagent/v1/procagentv1connect, and owns its own overlay type
// (overlay.go): it must not import procagent, runtime, telemetry,
// profiling, rpcserver or internal/ctl, so that both `agent ctl mesh` and
// any Go program can embed it without the agent's insides. Its tests serve
// real in-process agents.
package mesh
