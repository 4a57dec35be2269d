package mesh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
)

// How a failed call reads: TIMEOUT past a deadline, UNKNOWN otherwise,
// with a reason that says which.
func TestClassify(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithDeadline(live, time.Now().Add(-time.Second))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(live)
	cancel2()
	dnsErr := connect.NewError(connect.CodeUnavailable, &net.DNSError{Err: "no such host", Name: "worker-9.example", IsNotFound: true})
	unauth := connect.NewError(connect.CodeUnauthenticated, errors.New("missing or wrong bearer token"))
	for _, tc := range []struct {
		name       string
		cfg        config
		ctx, rctx  context.Context
		perRank    time.Duration
		addr       string
		err        error
		want       Status
		wantReason string
	}{
		{"rank deadline", config{}, live, expired, 2 * time.Second, "127.0.0.1:1", connect.NewError(connect.CodeDeadlineExceeded, context.DeadlineExceeded), timeout, "no answer within 2s"},
		{"command deadline", config{}, expired, expired, 0, "127.0.0.1:1", context.DeadlineExceeded, timeout, "no answer before the deadline"},
		{"cancelled", config{}, cancelled, cancelled, time.Second, "127.0.0.1:1", context.Canceled, unknown, "cancelled before the rank answered"},
		{"refused", config{}, live, live, time.Second, "127.0.0.1:1", connect.NewError(connect.CodeUnavailable, fmt.Errorf("dial: %w", syscall.ECONNREFUSED)), unknown, "unreachable: connection refused"},
		{"no such host", config{}, live, live, time.Second, "worker-9.example:1", dnsErr, unknown, "unreachable: lookup worker-9.example: no such host"},
		{"an answer's error", config{}, live, live, time.Second, "127.0.0.1:1", connect.NewError(connect.CodeInvalidArgument, errors.New("bad id")), unknown, "invalid_argument: bad id"},
		{"unauthenticated with a local token", config{loopbackToken: "x"}, live, live, time.Second, "10.0.0.1:9464", unauth, unknown, "give the fleet's token"},
		{"unauthenticated with the fleet's token", config{token: "x"}, live, live, time.Second, "10.0.0.1:9464", unauth, unknown, "unauthenticated: missing or wrong bearer token"},
		{"an unreadable answer", config{}, live, live, time.Second, "127.0.0.1:1", fmt.Errorf("%w: two runs", ErrInvalidOverlay), unknown, "invalid status overlay: two runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fleet{cfg: tc.cfg}
			s, reason := f.classify(tc.ctx, tc.rctx, Target{Addr: tc.addr}, tc.perRank, tc.err)
			if s != tc.want || !strings.Contains(reason, tc.wantReason) {
				t.Errorf("classify = %v %q, want %v with %q", s, reason, tc.want, tc.wantReason)
			}
		})
	}
}
