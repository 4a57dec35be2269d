package procagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/runtime"
)

// mustCreate creates id and returns its state, failing on an RPC error.
func mustCreate(t *testing.T, a *Agent, id, typ, params string) State {
	t.Helper()
	var raw []byte
	if params != "" {
		raw = []byte(params)
	}
	st, err := a.CreateOrUpdate(id, 0, Spec{ActorType: typ, Params: raw})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return st
}

// waitFor waits through WaitRankStatus until id is at least s.
func waitFor(t *testing.T, a *Agent, id string, s runtime.Status) runtime.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := a.WaitRankStatus(ctx, id, 0, s)
	if err != nil || len(o) != 1 {
		t.Fatalf("wait %s for %v: %v %v", id, s, o, err)
	}
	return o[0].Status
}

func stopAll(t *testing.T, a *Agent) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := a.StopAll(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	return res.ExitCode
}

// TestExitCodeCountsSupervisionFailuresOnly: a spawn that failed never ran
// and does not make StopAll's exit code 1; an actor that failed does.
func TestExitCodeCountsSupervisionFailuresOnly(t *testing.T) {
	t.Run("failed spawns", func(t *testing.T) {
		a := newAgent(t, nil)
		mustCreate(t, a, "typo", "ecoh", "")
		mustCreate(t, a, "bad-params", "sleep", `{"ms":"soon"}`)
		mustCreate(t, a, "ok", "echo", "")
		if code := stopAll(t, a); code != 0 {
			t.Fatalf("exit code with failed spawns only = %d, want 0", code)
		}
	})
	t.Run("an actor failed", func(t *testing.T) {
		a := newAgent(t, nil)
		mustCreate(t, a, "f", "fail", "")
		if _, _, err := a.Send(context.Background(), "f", map[string]any{"fail": "boom"}, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, a, "f", runtime.StatusStopped)
		mustCreate(t, a, "refused", "echo", "") // the proc is poisoned now
		if code := stopAll(t, a); code != 1 {
			t.Fatalf("exit code after a supervision failure = %d, want 1", code)
		}
	})
}

// TestRetentionForgetsTheOldestTerminated: past the retention the oldest
// terminated resources are forgotten; a forgotten id reads NOT_EXIST, can be
// created again, and its generations start over.
func TestRetentionForgetsTheOldestTerminated(t *testing.T) {
	a := newAgent(t, nil, WithResourceRetention(3))
	for i := range 5 {
		id := fmt.Sprintf("w%d", i)
		mustCreate(t, a, id, "echo", "")
		if _, err := a.Stop(id, "done"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, a, id, runtime.StatusStopped)
	}
	mustCreate(t, a, "live", "echo", "")
	var ids []string
	for _, e := range a.List() {
		ids = append(ids, e.ID)
	}
	if got, want := strings.Join(ids, ","), "live,w2,w3,w4"; got != want {
		t.Fatalf("List = %s, want %s", got, want)
	}
	counts, _ := a.Counts()
	if counts[runtime.StatusStopped] != 3 || counts[runtime.StatusRunning] != 1 {
		t.Fatalf("counts = %v, want 3 STOPPED and 1 RUNNING", counts)
	}
	st, _ := a.GetState("w0")
	if st.Status != runtime.StatusNotExist || st.Generation != 0 || st.Timestamp.IsZero() {
		t.Fatalf("forgotten w0 = %+v, want NOT_EXIST, generation 0, a timestamp", st)
	}
	var streamed []State
	if err := a.StreamState(context.Background(), "w1", func(s State) error { streamed = append(streamed, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(streamed) != 1 || streamed[0].Status != runtime.StatusNotExist {
		t.Fatalf("stream of forgotten w1 = %+v, want one NOT_EXIST", streamed)
	}
	if o, err := a.WaitRankStatus(context.Background(), "w1", 0, runtime.StatusRunning); err != nil || len(o) != 0 {
		t.Fatalf("wait on forgotten w1 = %v %v, want an empty overlay at once", o, err)
	}
	if st := mustCreate(t, a, "w0", "echo", ""); st.Status != runtime.StatusRunning || st.Generation != 1 {
		t.Fatalf("w0 created again = %v generation %d, want RUNNING generation 1", st.Status, st.Generation)
	}
}

// TestDeadActorIsReleased: an actor's cell and mailbox buffer are freed
// when it ends, whatever the retention.
func TestDeadActorIsReleased(t *testing.T) {
	const actors, mailbox = 100, 1 << 15 // 100 mailboxes of 32768 messages: about 80 MB of buffers
	a := newAgent(t, []runtime.Option{runtime.WithMailboxSize(mailbox)})
	heap := func() uint64 {
		goruntime.GC()
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range actors {
		id := fmt.Sprintf("big%d", i)
		mustCreate(t, a, id, "echo", "")
		if _, err := a.Stop(id, "done"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range actors {
		waitFor(t, a, fmt.Sprintf("big%d", i), runtime.StatusStopped)
	}
	if grown := int64(heap()) - int64(before); grown > 16<<20 {
		t.Fatalf("heap grew %d MB after %d dead actors with %d-message mailboxes: their buffers are kept", grown>>20, actors, mailbox)
	}
	if len(a.List()) != actors {
		t.Fatalf("the dead actors are no longer tracked: %d", len(a.List()))
	}
}

// TestCreateBuildsOffTheLock: an actor type whose factory blocks does not
// delay GetState, List or the counts a scrape reads.
func TestCreateBuildsOffTheLock(t *testing.T) {
	reg := runtime.NewRegistry()
	runtime.RegisterBuiltins(reg)
	entered, release := make(chan struct{}), make(chan struct{})
	reg.Register("slowfactory", func([]byte) (runtime.Actor, error) {
		close(entered)
		<-release
		return nil, errors.New("never built")
	})
	a := newAgent(t, []runtime.Option{runtime.WithRegistry(reg)})
	mustCreate(t, a, "e", "echo", "")
	created := make(chan State, 1)
	go func() {
		st, _ := a.CreateOrUpdate("slow", 0, Spec{ActorType: "slowfactory"})
		created <- st
	}()
	<-entered
	reads := make(chan struct{})
	go func() {
		defer close(reads)
		_, _ = a.GetState("e")
		_ = a.List()
		_, _ = a.Counts()
	}()
	select {
	case <-reads:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("reads waited for a factory: the agent's lock is held while building an actor")
	}
	close(release)
	if st := <-created; st.Status != runtime.StatusFailed || !strings.Contains(st.FailureReason, "never built") {
		t.Fatalf("slow create = %v %q, want FAILED with the factory's error", st.Status, st.FailureReason)
	}
}

// TestOneIDRule: the longest id ValidateID accepts spawns; one byte more is
// refused before anything is recorded; a huge bad id is not echoed whole.
func TestOneIDRule(t *testing.T) {
	a := newAgent(t, nil)
	longest := "label-" + strings.Repeat("x", runtime.MaxNameLen-len("label-"))
	if st := mustCreate(t, a, longest, "echo", ""); st.Status != runtime.StatusRunning {
		t.Fatalf("longest id: %v %q, want RUNNING", st.Status, st.FailureReason)
	}
	_, err := a.CreateOrUpdate(longest+"x", 0, Spec{ActorType: "echo"})
	if !errors.Is(err, ErrInvalidID) {
		t.Fatalf("id of %d bytes: %v, want ErrInvalidID", len(longest)+1, err)
	}
	if len(a.List()) != 1 {
		t.Fatal("a refused id was recorded")
	}
	huge := strings.Repeat("A", 1<<20)
	if err := ValidateID(huge); err == nil || len(err.Error()) > 512 {
		t.Fatalf("1 MB id: error of %d bytes, want a short one", len(fmt.Sprint(err)))
	}
	for _, id := range []string{"a", "w-1_x", "label-A.b_c-9"} {
		if err := ValidateID(id); err != nil || !runtime.ValidName(id) {
			t.Errorf("%q: ValidateID %v, runtime.ValidName %v", id, err, runtime.ValidName(id))
		}
	}
}

// TestTypoDoesNotBurnTheID: a known id whose spawn failed is replaced by a
// create with another spec; the same spec stays idempotent; an id whose
// actor ran is never replaced.
func TestTypoDoesNotBurnTheID(t *testing.T) {
	a := newAgent(t, nil)
	typo := mustCreate(t, a, "w1", "ecoh", "")
	if typo.Status != runtime.StatusFailed || typo.Generation != 1 {
		t.Fatalf("typo = %v gen %d", typo.Status, typo.Generation)
	}
	if again := mustCreate(t, a, "w1", "ecoh", ""); again.Generation != 1 || again.Status != runtime.StatusFailed {
		t.Fatalf("same spec again = %v gen %d, want the failed state untouched", again.Status, again.Generation)
	}
	fixed := mustCreate(t, a, "w1", "echo", "")
	if fixed.Status != runtime.StatusRunning || fixed.Generation != 2 || fixed.FailureReason != "" {
		t.Fatalf("corrected create = %v gen %d %q, want RUNNING gen 2", fixed.Status, fixed.Generation, fixed.FailureReason)
	}
	if kept := mustCreate(t, a, "w1", "fail", ""); kept.Status != runtime.StatusRunning || kept.Actor.Type != "echo" {
		t.Fatalf("create over a running actor = %v %s, want the echo actor untouched", kept.Status, kept.Actor.Type)
	}
	counts, _ := a.Counts()
	if counts[runtime.StatusRunning] != 1 || counts[runtime.StatusFailed] != 0 {
		t.Fatalf("counts = %v, want 1 RUNNING and no FAILED", counts)
	}
	if code := stopAll(t, a); code != 0 {
		t.Fatalf("exit code = %d after a corrected typo, want 0", code)
	}
}

// TestWaitOnATerminatedActorAnswers: waiting for a status a terminated
// actor never reached answers at once with its terminal status, and a
// parked waiter is answered when the actor ends below its threshold.
func TestWaitOnATerminatedActorAnswers(t *testing.T) {
	a := newAgent(t, nil)
	mustCreate(t, a, "e", "echo", "")
	parked := make(chan runtime.Status, 1)
	go func() { parked <- waitFor(t, a, "e", runtime.StatusFailed) }()
	testenv.Eventually(t, "the waiter to park", func() bool {
		_, waiters := a.Watchers("e")
		return waiters == 1
	})
	if _, err := a.Stop("e", "done"); err != nil {
		t.Fatal(err)
	}
	if s := <-parked; s != runtime.StatusStopped {
		t.Fatalf("parked waiter for FAILED got %v, want STOPPED", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, err := a.WaitRankStatus(ctx, "e", 4, runtime.StatusFailed)
	if err != nil || len(o) != 1 || o[0].Status != runtime.StatusStopped || o[0].Start != 4 {
		t.Fatalf("wait for FAILED on a STOPPED actor = %v %v, want [4,5) STOPPED at once", o, err)
	}
}

// TestChurnStaysBounded: many create+stop cycles of distinct ids keep at
// most the retention of terminated resources, and the counts agree with
// List. PROCAGENT_CHURN=N runs N cycles and logs the figures.
func TestChurnStaysBounded(t *testing.T) {
	cycles, retention := 3000, 500
	if n, err := strconv.Atoi(os.Getenv("PROCAGENT_CHURN")); err == nil && n > 0 {
		cycles, retention = n, DefaultResourceRetention
	}
	a := newAgent(t, nil, WithResourceRetention(retention))
	for i := range cycles {
		id := fmt.Sprintf("c%d", i)
		mustCreate(t, a, id, "echo", "")
		if _, err := a.Stop(id, "churn"); err != nil {
			t.Fatal(err)
		}
	}
	testenv.EventuallyWithin(t, time.Minute, "every actor to end", func() bool {
		counts, _ := a.Counts()
		return counts[runtime.StatusStopped] == min(cycles, retention) && counts[runtime.StatusStopping] == 0
	})
	var counts runtime.StatusCounts
	for _, e := range a.List() {
		counts[e.Status]++
	}
	if got, _ := a.Counts(); got != counts {
		t.Fatalf("Counts %v disagree with List %v", got, counts)
	}
	if want := min(cycles, retention); len(a.instances) != want || len(a.retired) > 2*want+64 {
		t.Fatalf("tracked %d, retired queue %d: want %d and at most about twice it", len(a.instances), len(a.retired), want)
	}
	goruntime.GC()
	var m goruntime.MemStats
	goruntime.ReadMemStats(&m)
	start := time.Now()
	_ = a.List()
	list := time.Since(start)
	start = time.Now()
	_, _ = a.Counts()
	t.Logf("%d cycles, retention %d: heap %d KB, goroutines %d, List %v, Counts (a scrape's read) %v",
		cycles, retention, m.HeapAlloc>>10, goruntime.NumGoroutine(), list, time.Since(start))
}
