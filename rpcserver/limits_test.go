package rpcserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
	"github.com/procagent/procagent/runtime"
)

// testLimits are small enough to reach in a test.
func testLimits() Limits {
	return Limits{
		RequestBytes: 64 << 10, SendBytes: 1024, ParamsBytes: 256, ReasonBytes: 16,
		LiveActors: 2, Streams: 1, Waiters: 1, ProfileDuration: 2 * time.Second, Profiles: NewGate(1),
	}
}

// blockingProfiler records until its caller gives up.
type blockingProfiler struct{ started chan struct{} }

func (p blockingProfiler) block(ctx context.Context) {
	p.started <- struct{}{}
	<-ctx.Done()
}

func (p blockingProfiler) Dump(ctx context.Context, _ profiling.Target, _ profiling.DumpOptions) (profiling.Result, error) {
	p.block(ctx)
	return profiling.Result{}, ctx.Err()
}

func (p blockingProfiler) Profile(ctx context.Context, _ profiling.Target, _ profiling.ProfileOptions) (profiling.Result, error) {
	p.block(ctx)
	return profiling.Result{}, ctx.Err()
}

func (p blockingProfiler) GoProfile(ctx context.Context, _ string, _ time.Duration, _ int) ([]byte, error) {
	p.block(ctx)
	return nil, ctx.Err()
}

// limitedClient serves a fresh agent with l and p and returns a client
// speaking the protocol.
func limitedClient(t *testing.T, opts []connect.ClientOption, l Limits, p Profiler) procagentv1connect.ProcAgentServiceClient {
	t.Helper()
	proc := runtime.NewProc("limits")
	agent := procagent.New(proc)
	if err := agent.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, New(agent, WithLimits(l), WithProfiler(p)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := errors.Join(proc.Close(ctx), agent.Shutdown(ctx)); err != nil {
			t.Error(err)
		}
	})
	return procagentv1connect.NewProcAgentServiceClient(srv.Client, srv.URL, opts...)
}

func wantLimitCode(t *testing.T, what string, err error, code connect.Code) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Fatalf("%s: %v, want %v", what, err, code)
	}
}

func create(id, typ string, params *structpb.Struct) *connect.Request[procagentv1.CreateOrUpdateRequest] {
	return connect.NewRequest(&procagentv1.CreateOrUpdateRequest{Id: id, Spec: &procagentv1.ActorSpec{ActorType: typ, Params: params}})
}

// Each size limit answers InvalidArgument (a request that can never
// succeed), each count ResourceExhausted, and the agent serves on.
func TestLimitsSizes(t *testing.T) {
	for _, pr := range protocols {
		t.Run(pr.name, func(t *testing.T) {
			c := limitedClient(t, pr.opts, testLimits(), nil)
			ctx := context.Background()
			big := strings.Repeat("x", 2048)
			params, _ := structpb.NewStruct(map[string]any{"ms": big})
			_, err := c.CreateOrUpdate(ctx, create("p", "sleep", params))
			wantLimitCode(t, "params over max_params_bytes", err, connect.CodeInvalidArgument)
			_, err = c.CreateOrUpdate(ctx, create("t", strings.Repeat("e", MaxActorTypeBytes+1), nil))
			wantLimitCode(t, "a long actor type", err, connect.CodeInvalidArgument)
			if _, err := c.CreateOrUpdate(ctx, create("w", "echo", nil)); err != nil {
				t.Fatal(err)
			}
			_, err = c.Send(ctx, connect.NewRequest(&procagentv1.SendRequest{Id: "w", Payload: structpb.NewStringValue(big)}))
			wantLimitCode(t, "payload over max_send_bytes", err, connect.CodeInvalidArgument)
			if _, err := c.Send(ctx, connect.NewRequest(&procagentv1.SendRequest{Id: "w", Payload: structpb.NewStringValue("small"), Wait: true})); err != nil {
				t.Fatalf("a small send: %v", err)
			}
			_, err = c.Stop(ctx, connect.NewRequest(&procagentv1.StopRequest{Id: "w", Reason: big}))
			wantLimitCode(t, "reason over max_reason_bytes", err, connect.CodeInvalidArgument)
			_, err = c.StopAll(ctx, connect.NewRequest(&procagentv1.StopAllRequest{Reason: big}))
			wantLimitCode(t, "StopAll reason over max_reason_bytes", err, connect.CodeInvalidArgument)
			if _, err := c.List(ctx, connect.NewRequest(&procagentv1.ListRequest{})); err != nil {
				t.Fatalf("the agent stopped serving: %v", err)
			}
		})
	}
}

// A request over max_request_bytes once decompressed is refused, however
// small it is on the wire.
func TestLimitsRequestBytesAfterDecompression(t *testing.T) {
	for _, pr := range protocols {
		t.Run(pr.name, func(t *testing.T) {
			opts := append([]connect.ClientOption{connect.WithSendGzip()}, pr.opts...)
			c := limitedClient(t, opts, testLimits(), nil)
			zeros := strings.Repeat("0", 8<<20) // 8 MiB, a few KiB gzipped
			_, err := c.Send(context.Background(), connect.NewRequest(&procagentv1.SendRequest{Id: "w", Payload: structpb.NewStringValue(zeros)}))
			wantLimitCode(t, "8 MiB gzipped", err, connect.CodeResourceExhausted)
		})
	}
}

func TestLimitsLiveActors(t *testing.T) {
	for _, pr := range protocols {
		t.Run(pr.name, func(t *testing.T) {
			c := limitedClient(t, pr.opts, testLimits(), nil)
			ctx := context.Background()
			for _, id := range []string{"a", "b"} {
				if _, err := c.CreateOrUpdate(ctx, create(id, "echo", nil)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.CreateOrUpdate(ctx, create("c", "echo", nil))
			wantLimitCode(t, "a third live actor", err, connect.CodeResourceExhausted)
			if _, err := c.CreateOrUpdate(ctx, create("a", "echo", nil)); err != nil {
				t.Fatalf("creating a known id again: %v", err)
			}
			if _, err := c.Stop(ctx, connect.NewRequest(&procagentv1.StopRequest{Id: "a"})); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, "room for c once a stopped", func() bool {
				_, err := c.CreateOrUpdate(ctx, create("c", "echo", nil))
				return err == nil
			})
		})
	}
}

func TestLimitsStreamsAndWaiters(t *testing.T) {
	for _, pr := range protocols {
		t.Run(pr.name, func(t *testing.T) {
			c := limitedClient(t, pr.opts, testLimits(), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := c.CreateOrUpdate(ctx, create("w", "echo", nil)); err != nil {
				t.Fatal(err)
			}
			s1, err := c.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "w"}))
			if err != nil || !s1.Receive() {
				t.Fatalf("first stream: %v %v", err, s1.Err())
			}
			s2, err := c.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "w"}))
			if err == nil {
				s2.Receive()
				err = s2.Err()
			}
			wantLimitCode(t, "a second stream", err, connect.CodeResourceExhausted)

			// Two waiters at once: one is refused at once, the other waits.
			waiting := make(chan error, 2)
			wctx, wcancel := context.WithCancel(ctx)
			for range 2 {
				go func() {
					_, err := c.WaitRankStatus(wctx, connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: "w", MinStatus: procagentv1.Status_STATUS_STOPPED}))
					waiting <- err
				}()
			}
			wantLimitCode(t, "one of two waiters", <-waiting, connect.CodeResourceExhausted)
			wcancel()
			wantLimitCode(t, "the waiter cancelled", <-waiting, connect.CodeCanceled)
			_ = s1.Close()
			testenv.Eventually(t, "the stream slot back", func() bool {
				s, err := c.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "w"}))
				if err != nil {
					return false
				}
				defer s.Close()
				return s.Receive()
			})
		})
	}
}

func TestLimitsProfiles(t *testing.T) {
	for _, pr := range protocols {
		t.Run(pr.name, func(t *testing.T) {
			p := blockingProfiler{started: make(chan struct{}, 1)}
			c := limitedClient(t, pr.opts, testLimits(), p)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := c.GoProfile(ctx, connect.NewRequest(&procagentv1.GoProfileRequest{Name: "cpu", Duration: durationpb.New(time.Hour)}))
			wantLimitCode(t, "an hour-long profile", err, connect.CodeInvalidArgument)
			_, err = c.PySpyProfile(ctx, connect.NewRequest(profileReq(time.Hour, actor("worker"))))
			wantLimitCode(t, "an hour-long py-spy profile", err, connect.CodeInvalidArgument)

			first := make(chan error, 1)
			go func() {
				_, err := c.PySpyDump(ctx, connect.NewRequest(actor("worker")))
				first <- err
			}()
			<-p.started
			_, err = c.GoProfile(ctx, connect.NewRequest(&procagentv1.GoProfileRequest{Name: "heap"}))
			wantLimitCode(t, "a second profile", err, connect.CodeResourceExhausted)
			cancel()
			wantLimitCode(t, "the dump cancelled", <-first, connect.CodeCanceled)
		})
	}
}

func TestGate(t *testing.T) {
	t.Parallel()
	var unlimited *Gate
	if !unlimited.TryAcquire() || unlimited.Cap() != 0 || NewGate(0) != nil {
		t.Fatal("a nil gate admits everyone")
	}
	unlimited.Release()
	g := NewGate(2)
	first, second, third := g.TryAcquire(), g.TryAcquire(), g.TryAcquire()
	if !first || !second || third {
		t.Fatal("a gate of 2 admits 2")
	}
	g.Release()
	if !g.TryAcquire() {
		t.Fatal("a released slot is free again")
	}
}

// Concurrent creates never overshoot max_live_actors.
func TestLimitsLiveActorsConcurrent(t *testing.T) {
	l := testLimits()
	l.LiveActors = 5
	c := limitedClient(t, nil, l, nil)
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			_, err := c.CreateOrUpdate(context.Background(), create(fmt.Sprintf("a%d", i), "echo", nil))
			errs <- err
		}()
	}
	created := 0
	for range 40 {
		switch err := <-errs; {
		case err == nil:
			created++
		case connect.CodeOf(err) != connect.CodeResourceExhausted:
			t.Fatal(err)
		}
	}
	if created > l.LiveActors || created == 0 {
		t.Fatalf("%d creates succeeded, want 1 to %d", created, l.LiveActors)
	}
}
