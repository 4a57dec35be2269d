package ctl

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// streamCmd is `stream ID`: it prints every state until the agent ends the
// stream after a terminal state. A cancelled ctx (Ctrl-C) ends it cleanly;
// a stream that ends before a terminal state (its deadline passed on the
// agent's side first) is an error.
func streamCmd(fs *flag.FlagSet) action {
	rank := fs.Uint64("rank", 0, "the caller's rank for this proc")
	return func(ctx context.Context, c *call, args []string) error {
		stream, err := c.client.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: args[0], Rank: *rank}))
		if err != nil {
			return streamErr(ctx, err)
		}
		defer stream.Close()
		sw := c.out.stateStream()
		last := procagentv1.Status_STATUS_UNSPECIFIED
		for stream.Receive() {
			if err := sw.write(stream.Msg()); err != nil {
				return err
			}
			last = stream.Msg().GetState().GetStatus()
		}
		if err := stream.Err(); err != nil || streamFinal(last) {
			return streamErr(ctx, err)
		}
		if _, ok := ctx.Deadline(); ok {
			return streamErr(ctx, connect.NewError(connect.CodeDeadlineExceeded, errors.New("the stream reached its deadline before a terminal state")))
		}
		return streamErr(ctx, connect.NewError(connect.CodeUnavailable, errors.New("the agent ended the stream before a terminal state")))
	}
}

// streamFinal reports whether the agent ends a stream after status: a
// terminal status, or NOT_EXIST for an unknown id.
func streamFinal(status procagentv1.Status) bool {
	switch status {
	case procagentv1.Status_STATUS_NOT_EXIST, procagentv1.Status_STATUS_STOPPED,
		procagentv1.Status_STATUS_FAILED, procagentv1.Status_STATUS_TIMEOUT:
		return true
	}
	return false
}

// streamErr drops the error of a stream that ended because ctx was
// cancelled (not timed out).
func streamErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return nil
	}
	return err
}

// stateWriter writes the states of a stream as they arrive.
type stateWriter struct {
	p      *printer
	header bool
}

// stateStream returns a writer for the states of a stream.
func (p *printer) stateStream() *stateWriter { return &stateWriter{p: p} }

// write writes one streamed state: a compact JSON line, or a table line
// (generation, status, reason) under a header written before the first.
func (sw *stateWriter) write(m *procagentv1.StreamStateResponse) error {
	if sw.p.json {
		return sw.p.marshal(protojson.MarshalOptions{}, m)
	}
	const format = "%-10s  %-12s  %s\n"
	if !sw.header {
		sw.header = true
		if _, err := fmt.Fprintf(sw.p.w, format, "GENERATION", "STATUS", "REASON"); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	st := m.GetState()
	if _, err := fmt.Fprintf(sw.p.w, format, formatUint(st.GetGeneration()), statusName(st.GetStatus()), cell(stateReason(st))); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
