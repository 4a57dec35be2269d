package mesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"connectrpc.com/connect"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Create casts CreateOrUpdate of id with spec to every rank, each request
// carrying the target's rank. A rank reads the state its agent answered
// (INITIALIZING or RUNNING; FAILED with the reason for a refused spawn or
// a poisoned proc).
func (f *Fleet) Create(ctx context.Context, id string, spec *procagentv1.ActorSpec) *Result {
	return f.Cast(ctx, func(ctx context.Context, t Target, c procagentv1connect.ProcAgentServiceClient) (Answer, error) {
		res, err := c.CreateOrUpdate(ctx, connect.NewRequest(&procagentv1.CreateOrUpdateRequest{Id: id, Rank: t.Rank, Spec: spec}))
		if err != nil {
			return Answer{}, err
		}
		return stateAnswer(res.Msg.GetState()), nil
	})
}

// Stop casts Stop of id to every rank. A rank reads the state its agent
// answered: STOPPING, a terminal status, or NOT_EXIST for an id it does
// not know.
func (f *Fleet) Stop(ctx context.Context, id, reason string) *Result {
	return f.Cast(ctx, func(ctx context.Context, _ Target, c procagentv1connect.ProcAgentServiceClient) (Answer, error) {
		res, err := c.Stop(ctx, connect.NewRequest(&procagentv1.StopRequest{Id: id, Reason: reason}))
		if err != nil {
			return Answer{}, err
		}
		return stateAnswer(res.Msg.GetState()), nil
	})
}

// Status casts GetRankStatus of id to every rank, at the target's rank,
// and merges the one-run overlays the agents answer; a rank that reads
// FAILED gets its reason from a GetState, under the same deadline.
func (f *Fleet) Status(ctx context.Context, id string) *Result {
	return f.Cast(ctx, rankStatusCall(id))
}

// Wait waits until every rank's status of id has reached minStatus
// (Reached), or can no longer reach it, or ctx is done. It reads every
// rank once with GetRankStatus (the fleet's concurrency and rank
// deadline); then it waits on the ranks still live and below minStatus
// all at once with WaitRankStatus, each a parked request on the
// connection the first read opened, until ctx's deadline: a rank still
// below then reads TIMEOUT. An unknown id (NOT_EXIST) and a terminated
// actor are not waited on; they never change. A rank that reads FAILED
// gets its reason from a GetState, under the same deadline.
func (f *Fleet) Wait(ctx context.Context, id string, minStatus Status) (*Result, error) {
	if _, ok := procagentv1.Status_name[int32(minStatus)]; !ok || minStatus == procagentv1.Status_STATUS_UNSPECIFIED {
		return nil, fmt.Errorf("mesh wait: min status %d is not a status", int32(minStatus))
	}
	first := f.Cast(ctx, rankStatusCall(id))
	var pending []int
	last := map[uint64]Status{}
	for i, rr := range first.Ranks {
		if rr.Answered() && !Reached(rr.Status, minStatus) && waitable(rr.Status) {
			pending = append(pending, i)
			last[rr.Rank] = rr.Status
		}
	}
	if len(pending) == 0 {
		return first, nil
	}
	// first.Ranks is in rank order, as f.targets is: indices match.
	waited := f.cast(ctx, pending, len(pending), 0, func(ctx context.Context, t Target, c procagentv1connect.ProcAgentServiceClient) (Answer, error) {
		res, err := c.WaitRankStatus(ctx, connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: id, Rank: t.Rank, MinStatus: minStatus}))
		if err != nil {
			return Answer{}, err
		}
		return rankAnswer(ctx, c, id, res.Msg.GetOverlay(), t.Rank)
	})
	for _, rr := range waited.Ranks {
		if rr.Status == procagentv1.Status_STATUS_TIMEOUT {
			rr.Reason = fmt.Sprintf("did not reach %s before the deadline (%s when last read)", statusName(minStatus), statusName(last[rr.Rank]))
		}
		first.Ranks[rankIndex(first.Ranks, rr.Rank)] = rr
	}
	return newResult(first.Ranks), nil
}

// waitable reports whether a rank at s may still change: its actor is
// known and not terminated.
func waitable(s Status) bool {
	switch s {
	case procagentv1.Status_STATUS_INITIALIZING, procagentv1.Status_STATUS_RUNNING, procagentv1.Status_STATUS_STOPPING:
		return true
	}
	return false
}

// StopAll casts StopAll to every rank: each agent stops every actor and,
// once they have all ended, answers and exits. A rank reads STOPPED when
// its agent will exit 0, FAILED when some actor had failed (it exits 1),
// STOPPING when the agent closed the connection without an answer (it
// is exiting). The ranks wait as long as ctx lets them, not the rank
// deadline: an agent answers once its actors' grace periods have passed.
func (f *Fleet) StopAll(ctx context.Context, reason string) *Result {
	return f.cast(ctx, f.all(), f.cfg.concurrency, 0, func(ctx context.Context, _ Target, c procagentv1connect.ProcAgentServiceClient) (Answer, error) {
		res, err := c.StopAll(ctx, connect.NewRequest(&procagentv1.StopAllRequest{Reason: reason}))
		switch {
		case err != nil && agentWentAway(err):
			return Answer{Status: procagentv1.Status_STATUS_STOPPING, Reason: "the agent closed the connection without an answer: it is exiting"}, nil
		case err != nil:
			return Answer{}, err
		case res.Msg.GetExitCode() != 0:
			return Answer{Status: procagentv1.Status_STATUS_FAILED, Reason: fmt.Sprintf("an actor had failed: the agent exits %d", res.Msg.GetExitCode())}, nil
		}
		return Answer{Status: procagentv1.Status_STATUS_STOPPED, Reason: stoppedActors(len(res.Msg.GetStopped()))}, nil
	})
}

// stoppedActors says how many actors a StopAll stopped.
func stoppedActors(n int) string {
	if n == 1 {
		return "stopped 1 actor"
	}
	return fmt.Sprintf("stopped %d actors", n)
}

// agentWentAway reports whether err is a connection that the agent
// closed mid-call, as opposed to one it never accepted.
func agentWentAway(err error) bool {
	if connect.CodeOf(err) != connect.CodeUnavailable || errors.Is(err, syscall.ECONNREFUSED) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// rankStatusCall reads id's status at the target's rank.
func rankStatusCall(id string) Call {
	return func(ctx context.Context, t Target, c procagentv1connect.ProcAgentServiceClient) (Answer, error) {
		res, err := c.GetRankStatus(ctx, connect.NewRequest(&procagentv1.GetRankStatusRequest{Id: id, Rank: t.Rank}))
		if err != nil {
			return Answer{}, err
		}
		return rankAnswer(ctx, c, id, res.Msg.GetOverlay(), t.Rank)
	}
}

// rankAnswer reads an agent's overlay answered at rank, with the reason
// of a FAILED status (withReason).
func rankAnswer(ctx context.Context, c procagentv1connect.ProcAgentServiceClient, id string, o *procagentv1.StatusOverlay, rank uint64) (Answer, error) {
	s, err := rankStatus(o, rank)
	if err != nil {
		return Answer{}, err
	}
	return withReason(ctx, c, id, Answer{Status: s}), nil
}

// withReason adds to a FAILED answer the reason of the actor's state, read
// with GetState under the same deadline; an answer without it when that
// read fails (the status stands).
func withReason(ctx context.Context, c procagentv1connect.ProcAgentServiceClient, id string, a Answer) Answer {
	if a.Status != procagentv1.Status_STATUS_FAILED {
		return a
	}
	st, err := c.GetState(ctx, connect.NewRequest(&procagentv1.GetStateRequest{Id: id}))
	if err == nil && st.Msg.GetState().GetStatus() == procagentv1.Status_STATUS_FAILED {
		a.Reason = stateReason(st.Msg.GetState())
	}
	return a
}

// stateAnswer reads a State: its status, and why it is what it is.
func stateAnswer(st *procagentv1.State) Answer {
	return Answer{Status: st.GetStatus(), Reason: stateReason(st)}
}

// stateReason is why a state is what it is: the failure reason, else the
// reason of the newest supervision event of an ended actor; nothing for
// a live one.
func stateReason(st *procagentv1.State) string {
	if r := st.GetFailureReason(); r != "" {
		return r
	}
	if evs := st.GetActor().GetSupervisionEvents(); len(evs) > 0 && isFailure(st.GetStatus()) {
		return evs[len(evs)-1].GetReason()
	}
	return ""
}
