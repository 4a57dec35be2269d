package procagent

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/procagent/procagent/runtime"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newAgent starts an agent over a new proc; both are stopped when the test
// ends.
func newAgent(t testing.TB, procOpts []runtime.Option, opts ...Option) *Agent {
	t.Helper()
	proc := runtime.NewProc("testproc", procOpts...)
	agent := New(proc, opts...)
	if err := agent.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := proc.Close(ctx); err != nil {
			t.Errorf("close proc: %v", err)
		}
		if err := agent.Shutdown(ctx); err != nil {
			t.Errorf("shutdown agent: %v", err)
		}
	})
	return agent
}
