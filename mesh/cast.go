package mesh

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"connectrpc.com/connect"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Answer is what one rank's call makes of the agent's reply.
type Answer struct {
	Status Status
	// Reason says why the status is what it is (the actor's failure
	// reason); empty when there is nothing to say.
	Reason string
}

// Call is one rank's part of a cast: it calls the agent of t through
// client under ctx, which carries the rank's deadline, and reads the
// reply. An error is the rank's, never the cast's.
type Call func(ctx context.Context, t Target, client procagentv1connect.ProcAgentServiceClient) (Answer, error)

// RankResult is one rank's part of a cast's outcome.
type RankResult struct {
	Rank   uint64
	Addr   string
	Status Status
	// Reason says why: the actor's failure reason, or why the rank has
	// no status of its own ("no answer within 5s", "unreachable: …", the
	// agent's RPC error).
	Reason string
	// Err is the error of the rank's call, nil when the agent answered.
	Err error
}

// Answered reports whether the rank's agent answered the call.
func (r RankResult) Answered() bool { return r.Err == nil }

// Cast calls call for every target, at most the fleet's concurrency at
// once, each under the rank deadline (WithRankTimeout), and returns every
// rank's outcome merged into one overlay. It always completes: a rank
// past its deadline reads TIMEOUT, one that cannot be reached or answers
// an RPC error UNKNOWN, each with its Reason and Err.
func (f *Fleet) Cast(ctx context.Context, call Call) *Result {
	return f.cast(ctx, f.all(), f.cfg.concurrency, f.cfg.rankTimeout, call)
}

// all lists the indices of every target.
func (f *Fleet) all() []int {
	idx := make([]int, len(f.targets))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// cast calls call for the targets at indices idx, at most concurrency at
// once, each under perRank (0: ctx's deadline only). It returns when every
// call has returned.
func (f *Fleet) cast(ctx context.Context, idx []int, concurrency int, perRank time.Duration, call Call) *Result {
	ranks := make([]RankResult, len(idx))
	next := make(chan int, len(idx))
	for j := range idx {
		next <- j
	}
	close(next)
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	for range min(concurrency, len(idx)) {
		wg.Go(func() {
			for j := range next {
				ranks[j] = f.callRank(ctx, idx[j], perRank, call)
				if f.cfg.progress != nil {
					mu.Lock()
					done++
					f.cfg.progress(done, len(idx))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return newResult(ranks)
}

// callRank runs one rank's call and reads its outcome.
func (f *Fleet) callRank(ctx context.Context, i int, perRank time.Duration, call Call) RankResult {
	t := f.targets[i]
	res := RankResult{Rank: t.Rank, Addr: t.Addr}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if perRank > 0 {
		rctx, cancel = context.WithTimeout(ctx, perRank)
	}
	defer cancel()
	ans, err := call(rctx, t, f.clients[i])
	if err == nil {
		res.Status, res.Reason = ans.Status, ans.Reason
		return res
	}
	res.Err = err
	res.Status, res.Reason = f.classify(ctx, rctx, t, perRank, err)
	return res
}

// classify is the status and reason of a rank whose call failed: TIMEOUT
// past a deadline, UNKNOWN when it cannot be reached or answered an error.
func (f *Fleet) classify(ctx, rctx context.Context, t Target, perRank time.Duration, err error) (Status, string) {
	code := connect.CodeOf(err)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return procagentv1.Status_STATUS_UNKNOWN, "cancelled before the rank answered"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return procagentv1.Status_STATUS_TIMEOUT, "no answer before the deadline"
	case errors.Is(rctx.Err(), context.DeadlineExceeded), code == connect.CodeDeadlineExceeded && perRank > 0:
		return procagentv1.Status_STATUS_TIMEOUT, fmt.Sprintf("no answer within %v", perRank)
	case code == connect.CodeDeadlineExceeded:
		return procagentv1.Status_STATUS_TIMEOUT, "no answer before the deadline"
	case errors.Is(err, syscall.ECONNREFUSED):
		return procagentv1.Status_STATUS_UNKNOWN, "unreachable: connection refused"
	case isUnreachable(err):
		return procagentv1.Status_STATUS_UNKNOWN, "unreachable: " + message(err)
	case code == connect.CodeUnauthenticated && f.cfg.token == "" && f.cfg.loopbackToken != "" && !IsLoopback(t.Addr):
		return procagentv1.Status_STATUS_UNKNOWN, "unauthenticated: " + message(err) +
			" (the local token is sent to loopback targets only: give the fleet's token)"
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return procagentv1.Status_STATUS_UNKNOWN, err.Error() // the answer could not be read
	}
	return procagentv1.Status_STATUS_UNKNOWN, code.String() + ": " + ce.Message()
}

// isUnreachable reports whether err is a failure to reach the agent (a
// dial, a handshake, a name lookup) rather than an answer of its.
func isUnreachable(err error) bool {
	var (
		opErr   *net.OpError
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
	)
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &certErr) || errors.As(err, &recErr)
}

// message is err's text without the Connect code prefix.
func message(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}
