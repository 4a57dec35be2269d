package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
	"github.com/procagent/procagent/rpcserver"
	"github.com/procagent/procagent/runtime"
)

// Python programs for exec actors. trapExit3 exits with code 3 when asked
// to stop (SIGTERM), after saying it is ready; exit3 exits with 3 at once.
const (
	trapExit3 = "import signal, sys, time\n" +
		"signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n" +
		"print('ready', flush=True)\n" +
		"time.sleep(120)\n"
	exit3 = "import sys; sys.exit(3)"
)

// needPython skips the test when python3 is not installed.
func needPython(t testing.TB) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	return py
}

// exercise drives the agent through everything the metrics report:
// s1 (sleep) keeps 3 messages queued; e1 (echo) handles one message and
// is stopped; x2 (exec) is stopped and exits with 3 (a clean stop with an
// exit code); x1 (exec) exits with 3 by itself (FAILED, poisoning the
// proc); f1 (fail) fails its handler; p1 is refused because the proc is
// poisoned; one RPC goes through the interceptor. Without python3 the exec
// actors are left out (with). It returns when every actor has settled.
func exercise(t testing.TB, f *fixture, withExec bool) {
	t.Helper()
	ctx := context.Background()
	f.create(t, "s1", "sleep", map[string]any{"ms": 120_000})
	f.create(t, "e1", "echo", nil)
	f.create(t, "f1", "fail", nil)
	if withExec {
		py := needPython(t)
		f.create(t, "x2", "exec", map[string]any{"argv": []string{py, "-c", trapExit3}})
		testenv.EventuallyWithin(t, 20*time.Second, "x2 ready", func() bool {
			_, reply, err := f.agent.Send(ctx, "x2", map[string]any{"output": true}, true)
			m, _ := reply.(map[string]any)
			out, _ := m["output"].(string)
			return err == nil && strings.Contains(out, "ready")
		})
	}
	for i := range 4 {
		if _, _, err := f.agent.Send(ctx, "s1", map[string]any{"i": i}, false); err != nil {
			t.Fatalf("send s1: %v", err)
		}
	}
	testenv.EventuallyWithin(t, 10*time.Second, "3 messages queued", func() bool { return f.proc.Stats().QueueDepthTotal == 3 })
	if _, _, err := f.agent.Send(ctx, "e1", map[string]any{"hello": "world"}, true); err != nil {
		t.Fatalf("send e1: %v", err)
	}
	if _, err := f.agent.Stop("e1", "test"); err != nil {
		t.Fatal(err)
	}
	f.waitStatus(t, "e1", runtime.StatusStopped)
	if withExec {
		if _, err := f.agent.Stop("x2", "test"); err != nil {
			t.Fatal(err)
		}
		if st := f.waitStatus(t, "x2", runtime.StatusStopped); st.Status != runtime.StatusStopped {
			t.Fatalf("x2 %v (%s), want STOPPED", st.Status, st.FailureReason)
		}
		f.create(t, "x1", "exec", map[string]any{"argv": []string{needPython(t), "-c", exit3}})
		if st := f.waitStatus(t, "x1", runtime.StatusStopped); st.Status != runtime.StatusFailed {
			t.Fatalf("x1 %v, want FAILED", st.Status)
		}
	}
	if _, _, err := f.agent.Send(ctx, "f1", map[string]any{"fail": "boom"}, false); err != nil {
		t.Fatalf("send f1: %v", err)
	}
	f.waitStatus(t, "f1", runtime.StatusFailed)
	st, err := f.agent.CreateOrUpdate("p1", 0, procagent.Spec{ActorType: "echo"})
	if err != nil || st.Status != runtime.StatusFailed {
		t.Fatalf("create on a poisoned proc: %v %v, want FAILED", st.Status, err)
	}
	rpc(t, f)
}

// rpc makes one List call through the real service with the interceptor.
func rpc(t testing.TB, f *fixture) {
	t.Helper()
	mux := http.NewServeMux()
	icpt, err := rpcserver.NewInterceptor(f.tel)
	if err != nil {
		t.Fatal(err)
	}
	rpcserver.New(f.agent).Mount(mux, connect.WithInterceptors(icpt))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := procagentv1connect.NewProcAgentServiceClient(srv.Client(), srv.URL)
	if _, err := client.List(context.Background(), connect.NewRequest(&procagentv1.ListRequest{})); err != nil {
		t.Fatalf("List RPC: %v", err)
	}
	srv.Client().CloseIdleConnections()
}
