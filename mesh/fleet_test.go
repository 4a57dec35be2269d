package mesh

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/internal/testenv"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// Statuses the tests name.
const (
	notExist     = procagentv1.Status_STATUS_NOT_EXIST
	initializing = procagentv1.Status_STATUS_INITIALIZING
	running      = procagentv1.Status_STATUS_RUNNING
	stopping     = procagentv1.Status_STATUS_STOPPING
	stopped      = procagentv1.Status_STATUS_STOPPED
	failed       = procagentv1.Status_STATUS_FAILED
	timeout      = procagentv1.Status_STATUS_TIMEOUT
	unknown      = procagentv1.Status_STATUS_UNKNOWN
)

var echoSpec = &procagentv1.ActorSpec{ActorType: "echo"}

// newFleet is New that fails the test on an error and closes the fleet
// when the test ends.
func newFleet(t testing.TB, targets []Target, opts ...Option) *Fleet {
	t.Helper()
	f, err := New(targets, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// rankView is what a test checks of a RankResult.
type rankView struct {
	Rank   uint64
	Status procagentv1.Status
	Reason string // a part of the reason
}

// checkRanks compares the ranks' statuses with want, and that each reason
// contains want's.
func checkRanks(t *testing.T, what string, got []RankResult, want []rankView) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d ranks, want %d: %+v", what, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Rank != w.Rank || g.Status != w.Status || !strings.Contains(g.Reason, w.Reason) {
			t.Errorf("%s: rank %d = %d %v %q (err %v), want %d %v with %q", what, i, g.Rank, g.Status, g.Reason, g.Err, w.Rank, w.Status, w.Reason)
		}
	}
}

// One cast over a fleet with a healthy, a down, a slow and a poisoned
// rank completes with a partial answer: each command answers every rank,
// the down one UNKNOWN, the slow one TIMEOUT, the poisoned one FAILED with
// the agent's reason.
func TestFleetPartialAnswers(t *testing.T) {
	release := make(chan struct{})
	agents := startAgents(t, 4, func(i int, h http.Handler) http.Handler {
		if i == 2 {
			return stall(release, h)
		}
		return h
	})
	t.Cleanup(func() { close(release) })
	agents[3].poison(t, "boom")
	ts := []Target{
		{Rank: 0, Addr: agents[0].Addr},
		{Rank: 1, Addr: agents[1].Addr},
		{Rank: 2, Addr: testenv.FreeAddr(t)}, // down
		{Rank: 3, Addr: agents[2].Addr},      // slow
		{Rank: 4, Addr: agents[3].Addr},      // poisoned
	}
	const rankTimeout = time.Second
	f := newFleet(t, ts, WithRankTimeout(rankTimeout))
	ctx := t.Context()
	down := rankView{2, unknown, "unreachable: connection refused"}
	slow := rankView{3, timeout, "no answer within 1s"}
	poisoned := rankView{4, failed, `proc is poisoned: actor "poison" failed: boom`}

	created := f.Create(ctx, "w", echoSpec)
	for _, rr := range created.Ranks[:2] {
		if rr.Status != initializing && rr.Status != running {
			t.Errorf("create: rank %d = %v, want INITIALIZING or RUNNING", rr.Rank, rr.Status)
		}
	}
	checkRanks(t, "create", created.Ranks[2:], []rankView{down, slow, poisoned})

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	waited, err := f.Wait(wctx, "w", running)
	if err != nil {
		t.Fatal(err)
	}
	checkRanks(t, "wait", waited.Ranks, []rankView{{0, running, ""}, {1, running, ""}, down, slow, poisoned})
	wantOverlay := Overlay{{Start: 0, End: 2, Status: running}, {Start: 2, End: 3, Status: unknown}, {Start: 3, End: 4, Status: timeout}, {Start: 4, End: 5, Status: failed}}
	if diff := cmp.Diff(wantOverlay, waited.Overlay); diff != "" {
		t.Errorf("wait overlay (-want +got):\n%s", diff)
	}
	if below := waited.Below(running); len(below) != 3 || below[0].Rank != 2 {
		t.Errorf("below RUNNING = %+v, want ranks 2, 3, 4", below)
	}

	status := f.Status(ctx, "w")
	checkRanks(t, "status", status.Ranks, []rankView{{0, running, ""}, {1, running, ""}, down, slow, poisoned})
	if diff := cmp.Diff(wantOverlay, status.Overlay); diff != "" {
		t.Errorf("status overlay (-want +got):\n%s", diff)
	}

	list := f.List(ctx)
	checkRanks(t, "list", list.Unanswered(), []rankView{down, {3, timeout, "no answer within"}})
	var ids []string
	for _, a := range list.Actors {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"poison", "w"}, ids); diff != "" {
		t.Fatalf("listed ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Overlay{{Start: 0, End: 2, Status: notExist}, {Start: 2, End: 3, Status: unknown}, {Start: 3, End: 4, Status: timeout}, {Start: 4, End: 5, Status: failed}}, list.Actors[0].Overlay); diff != "" {
		t.Errorf("list overlay of poison (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"echo"}, list.Actors[1].Types); diff != "" {
		t.Errorf("types of w (-want +got):\n%s", diff)
	}

	stoppedRes := f.Stop(ctx, "w", "done")
	for _, rr := range stoppedRes.Ranks[:2] {
		if rr.Status != stopping && rr.Status != stopped {
			t.Errorf("stop: rank %d = %v, want STOPPING or STOPPED", rr.Rank, rr.Status)
		}
	}
	checkRanks(t, "stop", stoppedRes.Ranks[2:], []rankView{down, slow, {4, failed, "poisoned"}})

	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	all := f.StopAll(sctx, "test")
	checkRanks(t, "stopall", all.Ranks, []rankView{
		{0, stopped, "stopped 0 actors"}, {1, stopped, "stopped 0 actors"}, down,
		{3, timeout, "no answer before the deadline"}, {4, failed, "the agent exits 1"},
	})
}

// A request carries its target's rank: each agent records the rank it was
// created at and places its status there, and the controller merges the
// runs where the inventory put them.
func TestFleetRanks(t *testing.T) {
	agents := startAgents(t, 2, nil)
	f := newFleet(t, []Target{{Rank: 9, Addr: agents[1].Addr}, {Rank: 5, Addr: agents[0].Addr}})
	ctx := t.Context()
	f.Create(ctx, "w", echoSpec)
	for i, want := range []uint64{5, 9} {
		st, err := agents[i].Agent.GetState("w")
		if err != nil {
			t.Fatal(err)
		}
		if st.Actor.CreateRank != want {
			t.Errorf("agent %d: created at rank %d, want %d", i, st.Actor.CreateRank, want)
		}
	}
	res, err := f.Wait(ctx, "w", running)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Overlay{{Start: 5, End: 6, Status: running}, {Start: 9, End: 10, Status: running}}, res.Overlay); diff != "" {
		t.Errorf("overlay (-want +got):\n%s", diff)
	}
	if got := res.Spans(); len(got) != 2 || got[0].First != 5 || got[1].First != 9 {
		t.Errorf("spans = %+v, want two, at 5 and 9", got)
	}
}

// Casts reuse one connection per target.
func TestFleetOneConnectionPerTarget(t *testing.T) {
	agents := startAgents(t, 3, nil)
	f := newFleet(t, fleetTargets(agents))
	ctx := t.Context()
	f.Create(ctx, "w", echoSpec)
	if _, err := f.Wait(ctx, "w", running); err != nil {
		t.Fatal(err)
	}
	f.Status(ctx, "w")
	f.List(ctx)
	f.Stop(ctx, "w", "")
	for i, a := range agents {
		if n := a.Conns.Load(); n != 1 {
			t.Errorf("agent %d accepted %d connections over 5 casts, want 1", i, n)
		}
	}
}

// A cast has at most the fleet's concurrency of calls in flight: each
// agent holds its request until the test releases one, and the test sees
// two in flight, never three, until the last.
func TestFleetConcurrencyBound(t *testing.T) {
	const n, limit = 6, 2
	var (
		mu                sync.Mutex
		inFlight, maxSeen int
	)
	release := make(chan struct{})
	agents := startAgents(t, n, func(_ int, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			inFlight++
			maxSeen = max(maxSeen, inFlight)
			mu.Unlock()
			defer func() {
				mu.Lock()
				inFlight--
				mu.Unlock()
			}()
			select {
			case <-release:
				h.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
	})
	var progress []int
	f := newFleet(t, fleetTargets(agents), WithConcurrency(limit), WithRankTimeout(time.Minute),
		WithProgress(func(done, total int) {
			if total != n {
				t.Errorf("progress total = %d, want %d", total, n)
			}
			progress = append(progress, done)
		}))
	done := make(chan *Result)
	go func() { done <- f.Create(t.Context(), "w", echoSpec) }()
	for left := n; left > 0; left-- {
		testenv.Eventually(t, "calls in flight", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return inFlight == min(limit, left)
		})
		release <- struct{}{}
	}
	res := <-done
	if below := res.Below(initializing); len(below) != 0 {
		t.Errorf("ranks that did not create: %+v", below)
	}
	if maxSeen != limit {
		t.Errorf("at most %d calls in flight, want %d", maxSeen, limit)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

// Wait parks one WaitRankStatus per rank still below the status, and
// answers once they reach it; a rank that never does reads TIMEOUT at the
// deadline, with the status it was last read at.
func TestFleetWait(t *testing.T) {
	waits := make(chan struct{}, 8)
	agents := startAgents(t, 3, func(_ int, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/WaitRankStatus") {
				waits <- struct{}{}
			}
			h.ServeHTTP(w, r)
		})
	})
	f := newFleet(t, fleetTargets(agents))
	ctx := t.Context()
	f.Create(ctx, "w", echoSpec)
	if _, err := f.Wait(ctx, "w", running); err != nil {
		t.Fatal(err)
	}
	for len(waits) > 0 {
		<-waits // the creates' own waits, if any were needed
	}

	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := f.Wait(ctx, "w", stopped)
		done <- outcome{res, err}
	}()
	for range agents {
		<-waits
	}
	for _, a := range agents {
		if _, err := a.Agent.Stop("w", "test"); err != nil {
			t.Fatal(err)
		}
	}
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	if diff := cmp.Diff(Overlay{{Start: 0, End: 3, Status: stopped}}, got.res.Overlay); diff != "" {
		t.Errorf("overlay (-want +got):\n%s", diff)
	}

	f.Create(ctx, "v", echoSpec)
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	res, err := f.Wait(wctx, "v", stopped)
	if err != nil {
		t.Fatal(err)
	}
	checkRanks(t, "wait past the deadline", res.Ranks, []rankView{
		{0, timeout, "did not reach STOPPED before the deadline (RUNNING when last read)"},
		{1, timeout, "(RUNNING when last read)"}, {2, timeout, "(RUNNING when last read)"},
	})
	if _, err := f.Wait(ctx, "v", procagentv1.Status_STATUS_UNSPECIFIED); err == nil {
		t.Error("wait for STATUS_UNSPECIFIED: no error")
	}
	if res, _ := f.Wait(ctx, "nobody", running); !cmp.Equal(res.Overlay, Overlay{{Start: 0, End: 3, Status: notExist}}) {
		t.Errorf("wait on an unknown id = %v, want NOT_EXIST at once", res.Overlay)
	}
}

// An RPC error of the agents reads UNKNOWN with the code and the message.
func TestFleetRPCError(t *testing.T) {
	agents := startAgents(t, 2, nil)
	f := newFleet(t, fleetTargets(agents), WithClientOptions(connect.WithGRPC()))
	res := f.Create(t.Context(), "Not An Id", echoSpec)
	checkRanks(t, "create", res.Ranks, []rankView{{0, unknown, "invalid_argument: "}, {1, unknown, "invalid_argument: "}})
	for _, rr := range res.Ranks {
		if connect.CodeOf(rr.Err) != connect.CodeInvalidArgument {
			t.Errorf("rank %d: err %v, want InvalidArgument", rr.Rank, rr.Err)
		}
	}
}

// The fleet's token goes to every target; the loopback token only to
// targets on this machine.
func TestFleetToken(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[int]string{}
	)
	agents := startAgents(t, 2, func(i int, h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[i] = r.Header.Get("Authorization")
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	f := newFleet(t, fleetTargets(agents), WithToken("s3cret"))
	f.Status(t.Context(), "w")
	if diff := cmp.Diff(map[int]string{0: "Bearer s3cret", 1: "Bearer s3cret"}, seen); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		cfg  config
		addr string
		want string
	}{
		{config{token: "fleet"}, "10.0.0.1:9464", "fleet"},
		{config{token: "fleet", loopbackToken: "local"}, "127.0.0.1:9464", "fleet"},
		{config{loopbackToken: "local"}, "127.0.0.1:9464", "local"},
		{config{loopbackToken: "local"}, "[::1]:9464", "local"},
		{config{loopbackToken: "local"}, "localhost:9464", "local"},
		{config{loopbackToken: "local"}, "10.0.0.1:9464", ""},
		{config{loopbackToken: "local"}, "worker-1.example:9464", ""},
	} {
		if got := tc.cfg.tokenFor(Target{Addr: tc.addr}); got != tc.want {
			t.Errorf("%+v: token for %s = %q, want %q", tc.cfg, tc.addr, got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	one := []Target{{Rank: 0, Addr: "127.0.0.1:1"}}
	for _, tc := range []struct {
		name    string
		targets []Target
		opts    []Option
		want    error
		says    string
	}{
		{"no targets", nil, nil, ErrNoTargets, "no targets"},
		{"duplicate rank", []Target{{Rank: 1, Addr: "a:1"}, {Rank: 1, Addr: "b:1"}}, nil, ErrDuplicateTarget, "rank 1"},
		{"bad address", []Target{{Rank: 0, Addr: "a"}}, nil, ErrInvalidTarget, `"a"`},
		{"bad scheme label", []Target{{Rank: 0, Addr: "a:1", Labels: map[string]string{SchemeLabel: "ftp"}}}, nil, ErrInvalidTarget, "ftp"},
		{"no concurrency", one, []Option{WithConcurrency(0)}, nil, "concurrency 0"},
		{"no rank timeout", one, []Option{WithRankTimeout(0)}, nil, "rank timeout 0s"},
		{"bad scheme", one, []Option{WithScheme("h2c")}, nil, `scheme "h2c"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := New(tc.targets, tc.opts...)
			if err == nil {
				f.Close()
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}
