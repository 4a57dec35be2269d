package rpcserver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/runtime"
)

// client wraps the generated client with test helpers.
type client struct {
	*harness
	t *testing.T
}

func (c client) create(id, typ string, params map[string]any) *procagentv1.State {
	c.t.Helper()
	st, err := c.tryCreate(id, typ, params)
	if err != nil {
		c.t.Fatalf("create %s: %v", id, err)
	}
	return st
}

func (c client) tryCreate(id, typ string, params map[string]any) (*procagentv1.State, error) {
	spec := &procagentv1.ActorSpec{ActorType: typ}
	if params != nil {
		s, err := structpb.NewStruct(params)
		if err != nil {
			c.t.Fatal(err)
		}
		spec.Params = s
	}
	res, err := c.client.CreateOrUpdate(context.Background(), connect.NewRequest(&procagentv1.CreateOrUpdateRequest{Id: id, Rank: 3, Spec: spec}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetState(), nil
}

func (c client) get(id string) *procagentv1.State {
	c.t.Helper()
	res, err := c.client.GetState(context.Background(), connect.NewRequest(&procagentv1.GetStateRequest{Id: id}))
	if err != nil {
		c.t.Fatalf("get %s: %v", id, err)
	}
	return res.Msg.GetState()
}

func (c client) stop(id string) *procagentv1.State {
	c.t.Helper()
	res, err := c.client.Stop(context.Background(), connect.NewRequest(&procagentv1.StopRequest{Id: id, Reason: "test stop"}))
	if err != nil {
		c.t.Fatalf("stop %s: %v", id, err)
	}
	return res.Msg.GetState()
}

// waitStatus waits through WaitRankStatus for id to reach at least s.
func (c client) waitStatus(id string, s procagentv1.Status) procagentv1.Status {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.client.WaitRankStatus(ctx, connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: id, Rank: 3, MinStatus: s}))
	if err != nil {
		c.t.Fatalf("wait %s for %v: %v", id, s, err)
	}
	runs := res.Msg.GetOverlay().GetRuns()
	if len(runs) != 1 || runs[0].GetStart() != 3 || runs[0].GetEnd() != 4 {
		c.t.Fatalf("overlay = %v, want one run [3,4)", runs)
	}
	return runs[0].GetStatus()
}

func (c client) send(id string, payload any, wait bool) (*procagentv1.SendResponse, error) {
	v, err := structpb.NewValue(payload)
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := c.client.Send(context.Background(), connect.NewRequest(&procagentv1.SendRequest{Id: id, Payload: v, Wait: wait}))
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// wantCode checks that err is a Connect error with code.
func wantCode(t *testing.T, err error, code connect.Code, mention string) {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != code {
		t.Fatalf("error = %v, want code %v", err, code)
	}
	if !strings.Contains(ce.Message(), mention) {
		t.Fatalf("error message %q does not mention %q", ce.Message(), mention)
	}
}

// forEachProtocol runs f against a fresh agent for each wire protocol.
func forEachProtocol(t *testing.T, procOpts []runtime.Option, opts []procagent.Option, f func(t *testing.T, c client)) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t, p.opts, procOpts, opts...)
			f(t, client{harness: h, t: t})
		})
	}
}

const (
	running        = procagentv1.Status_STATUS_RUNNING
	stopping       = procagentv1.Status_STATUS_STOPPING
	stopped        = procagentv1.Status_STATUS_STOPPED
	failed         = procagentv1.Status_STATUS_FAILED
	statusNotExist = procagentv1.Status_STATUS_NOT_EXIST
)

// The rows of docs/semantics.md's RPC table, each through a real h2c server, in every protocol.
func TestResourceBehaviour(t *testing.T) {
	rows := []struct {
		name string
		run  func(t *testing.T, c client)
	}{
		{"create is idempotent", func(t *testing.T, c client) {
			st := c.create("w1", "echo", nil)
			if st.GetStatus() != running || st.GetGeneration() != 1 || st.GetActor().GetActorType() != "echo" || st.GetActor().GetCreateRank() != 3 {
				t.Fatalf("first create = %v", st)
			}
			again := c.create("w1", "sleep", map[string]any{"ms": 5})
			if again.GetGeneration() != 1 || again.GetActor().GetActorType() != "echo" {
				t.Fatalf("second create changed the resource: %v", again)
			}
		}},
		{"unknown type is a FAILED state", func(t *testing.T, c client) {
			st := c.create("w1", "nosuch", nil)
			if st.GetStatus() != failed || !strings.Contains(st.GetFailureReason(), `unknown actor type "nosuch"`) {
				t.Fatalf("state = %v", st)
			}
		}},
		{"bad params are a FAILED state", func(t *testing.T, c client) {
			st := c.create("w1", "sleep", map[string]any{"msec": 5})
			if st.GetStatus() != failed || !strings.Contains(st.GetFailureReason(), "msec") {
				t.Fatalf("state = %v", st)
			}
		}},
		{"malformed requests are InvalidArgument", func(t *testing.T, c client) {
			_, err := c.tryCreate("Bad ID", "echo", nil)
			wantCode(t, err, connect.CodeInvalidArgument, "invalid resource id")
			_, err = c.tryCreate("w1", "", nil)
			wantCode(t, err, connect.CodeInvalidArgument, "actor_type")
			_, err = c.client.GetState(context.Background(), connect.NewRequest(&procagentv1.GetStateRequest{Id: ""}))
			wantCode(t, err, connect.CodeInvalidArgument, "invalid resource id")
			_, err = c.client.WaitRankStatus(context.Background(), connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: "w1"}))
			wantCode(t, err, connect.CodeInvalidArgument, "status")
			_, err = c.client.KeepaliveGetState(context.Background(), connect.NewRequest(&procagentv1.KeepaliveGetStateRequest{Id: "w1", Ttl: durationpb.New(-time.Second)}))
			wantCode(t, err, connect.CodeInvalidArgument, "ttl")
			if st := c.create("label-ok.1", "echo", nil); st.GetStatus() != running {
				t.Fatalf("label id refused: %v", st)
			}
		}},
		{"a poisoned proc refuses spawns", func(t *testing.T, c client) {
			c.create("bad", "fail", nil)
			if _, err := c.send("bad", map[string]any{"fail": "on purpose"}, true); err == nil {
				t.Fatal("a failing handler should fail the Send")
			} else {
				wantCode(t, err, connect.CodeAborted, "on purpose")
			}
			if s := c.waitStatus("bad", stopped); s != failed {
				t.Fatalf("bad status = %v", s)
			}
			st := c.create("next", "echo", nil)
			if st.GetStatus() != failed || !strings.Contains(st.GetFailureReason(), "proc is poisoned") || !strings.Contains(st.GetFailureReason(), "on purpose") {
				t.Fatalf("spawn on a poisoned proc = %v", st)
			}
			if _, ok := c.proc.Lookup("next"); ok {
				t.Fatal("a poisoned proc spawned an actor")
			}
		}},
		{"stop moves through STOPPING to STOPPED", func(t *testing.T, c client) {
			c.create("w1", "sleep", map[string]any{"ms": 50})
			st := c.stop("w1")
			if st.GetStatus() != stopping || st.GetGeneration() != 2 {
				t.Fatalf("after stop = %v", st)
			}
			if s := c.waitStatus("w1", stopped); s != stopped {
				t.Fatalf("final = %v", s)
			}
			final := c.get("w1")
			evs := final.GetActor().GetSupervisionEvents()
			if final.GetGeneration() != 3 || len(evs) != 1 || evs[0].GetReason() != "test stop" {
				t.Fatalf("final state = %v", final)
			}
			if again := c.stop("w1"); again.GetGeneration() != 3 {
				t.Fatalf("a second stop transitioned: %v", again)
			}
		}},
		{"unknown ids read NOT_EXIST", func(t *testing.T, c client) {
			if st := c.stop("ghost"); st.GetStatus() != statusNotExist || st.GetGeneration() != 0 {
				t.Fatalf("stop ghost = %v", st)
			}
			if st := c.get("ghost"); st.GetStatus() != statusNotExist || st.GetGeneration() != 0 {
				t.Fatalf("get ghost = %v", st)
			}
			res, err := c.client.GetRankStatus(context.Background(), connect.NewRequest(&procagentv1.GetRankStatusRequest{Id: "ghost", Rank: 1}))
			if err != nil || len(res.Msg.GetOverlay().GetRuns()) != 0 {
				t.Fatalf("rank status of ghost = %v, %v", res, err)
			}
			wres, err := c.client.WaitRankStatus(context.Background(), connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: "ghost", Rank: 1, MinStatus: stopped}))
			if err != nil || len(wres.Msg.GetOverlay().GetRuns()) != 0 {
				t.Fatalf("wait on ghost = %v, %v", wres, err)
			}
			_, err = c.send("ghost", "x", false)
			wantCode(t, err, connect.CodeNotFound, "ghost")
			_, err = c.client.QueryChild(context.Background(), connect.NewRequest(&procagentv1.QueryChildRequest{Ref: "ghost"}))
			wantCode(t, err, connect.CodeNotFound, "ghost")
		}},
		{"rank status and waiting", func(t *testing.T, c client) {
			c.create("w1", "echo", nil)
			res, err := c.client.GetRankStatus(context.Background(), connect.NewRequest(&procagentv1.GetRankStatusRequest{Id: "w1", Rank: 7}))
			if err != nil {
				t.Fatal(err)
			}
			if runs := res.Msg.GetOverlay().GetRuns(); len(runs) != 1 || runs[0].GetStart() != 7 || runs[0].GetEnd() != 8 || runs[0].GetStatus() != running {
				t.Fatalf("overlay = %v", runs)
			}
			if s := c.waitStatus("w1", running); s != running {
				t.Fatalf("wait for RUNNING on a running actor = %v", s)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = c.client.WaitRankStatus(ctx, connect.NewRequest(&procagentv1.WaitRankStatusRequest{Id: "w1", Rank: 3, MinStatus: stopped}))
			wantCode(t, err, connect.CodeDeadlineExceeded, "")
			if time.Since(start) > 5*time.Second {
				t.Fatal("the caller's deadline was not honoured")
			}
			testenv.Eventually(t, "the waiter to be dropped", func() bool {
				_, waiters := c.agent.Watchers("w1")
				return waiters == 0
			})
			done := make(chan procagentv1.Status, 1)
			go func() { done <- c.waitStatus("w1", stopped) }()
			testenv.Eventually(t, "the waiter to be parked", func() bool {
				_, waiters := c.agent.Watchers("w1")
				return waiters == 1
			})
			c.stop("w1")
			if s := <-done; s != stopped {
				t.Fatalf("wait ended with %v", s)
			}
		}},
		{"list", func(t *testing.T, c client) {
			c.create("b", "echo", nil)
			c.create("a", "nosuch", nil)
			res, err := c.client.List(context.Background(), connect.NewRequest(&procagentv1.ListRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			got := res.Msg.GetActors()
			if len(got) != 2 || got[0].GetId() != "a" || got[0].GetStatus() != failed || got[1].GetId() != "b" || got[1].GetStatus() != running || got[1].GetActorType() != "echo" {
				t.Fatalf("list = %v", got)
			}
		}},
		{"send", func(t *testing.T, c client) {
			c.create("e", "echo", nil)
			res, err := c.send("e", map[string]any{"hello": "world"}, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.GetReply().GetStructValue().GetFields()["hello"].GetStringValue(); got != "world" {
				t.Fatalf("reply = %v", res.GetReply())
			}
			if res, err = c.send("e", 1, false); err != nil || res.GetReply() != nil {
				t.Fatalf("fire-and-forget send = %v, %v", res, err)
			}
			c.stop("e")
			c.waitStatus("e", stopped)
			_, err = c.send("e", 1, false)
			wantCode(t, err, connect.CodeFailedPrecondition, "not running")
		}},
		{"query child", func(t *testing.T, c client) {
			c.create("e", "echo", nil)
			c.create("gone", "echo", nil)
			c.stop("gone")
			c.waitStatus("gone", stopped)
			res, err := c.client.QueryChild(context.Background(), connect.NewRequest(&procagentv1.QueryChildRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			p := res.Msg.GetResult().GetProc()
			if p.GetNodeType() != "proc" || p.GetProcName() != "testproc" || p.GetNumLive() != 1 || p.GetNumStopped() != 1 ||
				strings.Join(p.GetChildren(), ",") != "e" || strings.Join(p.GetStoppedChildren(), ",") != "gone" ||
				p.GetStoppedRetentionCap() != runtime.DefaultRetention || p.GetIsPoisoned() || p.GetFailedActorCount() != 0 ||
				p.ProcessRssBytes == nil || p.GetProcessVmBytes() < p.GetProcessRssBytes() || p.GetQueueDepthMax() > p.GetQueueDepthTotal() {
				t.Fatalf("proc node = %v", p)
			}
			res, err = c.client.QueryChild(context.Background(), connect.NewRequest(&procagentv1.QueryChildRequest{Ref: "gone"}))
			if err != nil {
				t.Fatal(err)
			}
			if a := res.Msg.GetResult().GetActor(); a.GetStatus() != stopped || !a.GetTerminated() || a.GetActorType() != "echo" {
				t.Fatalf("snapshot node = %v", a)
			}
		}},
		{"keepalive expiry stops orphans", func(t *testing.T, c client) {
			c.create("kept", "echo", nil)
			c.create("never", "echo", nil)
			res, err := c.client.KeepaliveGetState(context.Background(), connect.NewRequest(&procagentv1.KeepaliveGetStateRequest{Id: "kept", Ttl: durationpb.New(50 * time.Millisecond)}))
			if err != nil || res.Msg.GetState().GetStatus() != running {
				t.Fatalf("keepalive = %v, %v", res, err)
			}
			if s := c.waitStatus("kept", stopped); s != stopped {
				t.Fatalf("orphan ended %v", s)
			}
			evs := c.get("kept").GetActor().GetSupervisionEvents()
			if len(evs) != 1 || evs[0].GetReason() != "orphaned" {
				t.Fatalf("orphan events = %v", evs)
			}
			if st := c.get("never"); st.GetStatus() != running {
				t.Fatalf("an actor without keepalive was stopped: %v", st)
			}
		}},
		{"config dump", func(t *testing.T, c client) {
			res, err := c.client.ConfigDump(context.Background(), connect.NewRequest(&procagentv1.ConfigDumpRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			es := res.Msg.GetEntries()
			names := map[string]*procagentv1.ConfigEntry{}
			for i, e := range es {
				names[e.GetName()] = e
				if i > 0 && es[i-1].GetName() >= e.GetName() {
					t.Fatalf("entries not sorted: %q before %q", es[i-1].GetName(), e.GetName())
				}
			}
			ot := names["orphan_timeout"]
			if ot == nil || ot.GetDefaultValue() != "1m0s" || ot.GetSource() != "default" || ot.GetEnvVar() == "" || ot.GetChanged() {
				t.Fatalf("orphan_timeout entry = %v", ot)
			}
		}},
	}
	orphanFast := []procagent.Option{procagent.WithOrphanTimeout(200 * time.Millisecond)}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			forEachProtocol(t, nil, orphanFast, row.run)
		})
	}
}

func TestStopAll(t *testing.T) {
	tests := []struct {
		name     string
		failOne  bool
		wantCode int32
	}{
		{"clean", false, 0},
		{"after a failure", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachProtocol(t, nil, nil, func(t *testing.T, c client) {
				c.create("a", "echo", nil)
				c.create("b", "sleep", map[string]any{"ms": 3_600_000})
				if _, err := c.send("b", "nap", false); err != nil {
					t.Fatal(err)
				}
				if tt.failOne {
					c.create("f", "fail", nil)
					_, _ = c.send("f", map[string]any{"fail": "boom"}, true)
					c.waitStatus("f", stopped)
				}
				res, err := c.client.StopAll(context.Background(), connect.NewRequest(&procagentv1.StopAllRequest{Reason: "test"}))
				if err != nil {
					t.Fatal(err)
				}
				if res.Msg.GetExitCode() != tt.wantCode || strings.Join(res.Msg.GetStopped(), ",") != "a,b" {
					t.Fatalf("stop all = %v", res.Msg)
				}
				for _, id := range []string{"a", "b"} {
					if st := c.get(id); st.GetStatus() != stopped || st.GetGeneration() != 3 {
						t.Fatalf("%s after stop all = %v", id, st)
					}
				}
				select {
				case code := <-c.agent.Exit():
					if int32(code) != tt.wantCode {
						t.Fatalf("exit code = %d", code)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("no exit code")
				}
				_, err = c.tryCreate("late", "echo", nil)
				wantCode(t, err, connect.CodeFailedPrecondition, "stopping")
				if st := c.get("a"); st.GetStatus() != stopped {
					t.Fatalf("state lost after stop all: %v", st)
				}
			})
		})
	}
}

// A stream and its unsubscribe: current state
// first, one message per transition, the end after a terminal state; a
// client that goes away is forgotten at once and the agent carries on.
func TestStreamStateAndUnsubscribe(t *testing.T) {
	forEachProtocol(t, nil, nil, func(t *testing.T, c client) {
		c.create("a1", "echo", nil)
		stream, err := c.client.StreamState(context.Background(), connect.NewRequest(&procagentv1.StreamStateRequest{Id: "a1"}))
		if err != nil {
			t.Fatal(err)
		}
		next := func() *procagentv1.State {
			t.Helper()
			if !stream.Receive() {
				t.Fatalf("stream ended early: %v", stream.Err())
			}
			return stream.Msg().GetState()
		}
		if st := next(); st.GetStatus() != running || st.GetGeneration() != 1 {
			t.Fatalf("first message = %v", st)
		}
		c.stop("a1")
		if st := next(); st.GetStatus() != stopping || st.GetGeneration() != 2 {
			t.Fatalf("second message = %v", st)
		}
		if st := next(); st.GetStatus() != stopped || st.GetGeneration() != 3 {
			t.Fatalf("third message = %v", st)
		}
		if stream.Receive() {
			t.Fatalf("stream went on after a terminal state: %v", stream.Msg())
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("stream error: %v", err)
		}
		_ = stream.Close()

		// A subscriber that goes away.
		c.create("a2", "echo", nil)
		ctx, cancel := context.WithCancel(context.Background())
		gone, err := c.client.StreamState(ctx, connect.NewRequest(&procagentv1.StreamStateRequest{Id: "a2"}))
		if err != nil {
			t.Fatal(err)
		}
		if !gone.Receive() {
			t.Fatal(gone.Err())
		}
		testenv.Eventually(t, "the subscription", func() bool { return subscribers(c.agent, "a2") == 1 })
		cancel()
		_ = gone.Close()
		testenv.Eventually(t, "the subscriber to be forgotten", func() bool { return subscribers(c.agent, "a2") == 0 })
		c.stop("a2")

		// The agent is still alive and a new subscription sees the end.
		again, err := c.client.StreamState(context.Background(), connect.NewRequest(&procagentv1.StreamStateRequest{Id: "a2"}))
		if err != nil {
			t.Fatal(err)
		}
		var last *procagentv1.State
		for again.Receive() {
			last = again.Msg().GetState()
		}
		if err := again.Err(); err != nil || last.GetStatus() != stopped {
			t.Fatalf("last = %v, err %v", last, err)
		}
		_ = again.Close()

		// An unknown id streams NOT_EXIST and ends.
		ghost, err := c.client.StreamState(context.Background(), connect.NewRequest(&procagentv1.StreamStateRequest{Id: "ghost"}))
		if err != nil {
			t.Fatal(err)
		}
		if !ghost.Receive() || ghost.Msg().GetState().GetStatus() != statusNotExist || ghost.Receive() {
			t.Fatalf("ghost stream: %v %v", ghost.Msg(), ghost.Err())
		}
		_ = ghost.Close()
	})
}

func TestSendMailboxFull(t *testing.T) {
	forEachProtocol(t, []runtime.Option{runtime.WithMailboxSize(1)}, nil, func(t *testing.T, c client) {
		c.create("slow", "sleep", map[string]any{"ms": 3_600_000})
		if _, err := c.send("slow", 1, false); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the first message to be taken", func() bool {
			info, _ := c.proc.Actor("slow")
			return info.MessagesProcessed == 1
		})
		if _, err := c.send("slow", 2, false); err != nil {
			t.Fatal(err)
		}
		_, err := c.send("slow", 3, false)
		wantCode(t, err, connect.CodeResourceExhausted, "mailbox full")
		if st := c.get("slow"); st.GetStatus() != running {
			t.Fatalf("a refused message changed the state: %v", st)
		}
	})
}

// subscribers counts id's StreamState subscriptions.
func subscribers(a *procagent.Agent, id string) int {
	n, _ := a.Watchers(id)
	return n
}
