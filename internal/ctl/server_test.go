package ctl

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
	"github.com/procagent/procagent/rpcserver"
	"github.com/procagent/procagent/runtime"
)

// protocols are the RPC protocols every ctl test speaks.
var protocols = []string{protocolConnect, protocolGRPC}

// server is an in-process agent, over a proc named "test", served on
// 127.0.0.1 over HTTP/1 and h2c as `agent serve` serves it.
type server struct {
	addr string
}

// serverConfig is what the serverOptions of newServer set.
type serverConfig struct {
	wrap     func(http.Handler) http.Handler
	profiler *cannedProfiler
}

// serverOption configures newServer.
type serverOption func(*serverConfig)

// withMiddleware wraps the agent's handler in wrap.
func withMiddleware(wrap func(http.Handler) http.Handler) serverOption {
	return func(c *serverConfig) { c.wrap = wrap }
}

// withProfiler serves the profiling RPCs with p, which newServer builds
// over a profiling.Profiler that has no sampler (PYSPY_BIN names a missing
// file, PATH holds neither py-spy nor austin), knows the actor "worker"
// (this process), allows no pid and labels Go profiles with profLabels. It
// sets PATH, so the test must not be parallel.
func withProfiler(p *cannedProfiler) serverOption {
	return func(c *serverConfig) { c.profiler = p }
}

// newServer starts an agent and serves it until the test ends. It is the
// one place the tests build a server.
func newServer(t *testing.T, opts ...serverOption) *server {
	t.Helper()
	var cfg serverConfig
	for _, o := range opts {
		o(&cfg)
	}
	proc := runtime.NewProc("test")
	agent := procagent.New(proc)
	var rpcOpts []rpcserver.Option
	if cfg.profiler != nil {
		dir := t.TempDir()
		t.Setenv("PATH", dir)
		resolver := profiling.ResolverFunc(func(id string) (int, error) {
			if id == "worker" {
				return os.Getpid(), nil
			}
			return 0, fmt.Errorf("actor %q: %w", id, profiling.ErrUnknownActor)
		})
		cfg.profiler.Profiler = profiling.NewProfiler(resolver,
			profiling.WithPySpyBin(filepath.Join(dir, "py-spy")), profiling.WithLabels(profLabels))
		rpcOpts = append(rpcOpts, rpcserver.WithProfiler(cfg.profiler))
	}
	mux := http.NewServeMux()
	rpcserver.New(agent, rpcOpts...).Mount(mux)
	var h http.Handler = mux
	if cfg.wrap != nil {
		h = cfg.wrap(h)
	}
	srv := testenv.NewH2CServer(t, h)
	// Registered after the server's own cleanup, so it runs first: the
	// proc and the agent end while the server still listens.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := proc.Close(ctx); err != nil {
			t.Errorf("close proc: %v", err)
		}
		if err := agent.Shutdown(ctx); err != nil {
			t.Errorf("shutdown agent: %v", err)
		}
	})
	return &server{addr: srv.Addr}
}

// noEnv is an empty environment.
func noEnv(string) string { return "" }

// result is what one `agent ctl` run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run runs `agent ctl --addr <server> --protocol <protocol> args...` with an
// empty environment.
func (s *server) run(ctx context.Context, protocol string, args ...string) result {
	full := append([]string{"--addr", s.addr, "--protocol", protocol}, args...)
	var stdout, stderr bytes.Buffer
	code := Run(ctx, full, &stdout, &stderr, noEnv)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// mustRun runs a ctl command that has to succeed.
func (s *server) mustRun(t *testing.T, protocol string, args ...string) string {
	t.Helper()
	r := s.run(t.Context(), protocol, args...)
	if r.code != exitOK {
		t.Fatalf("agent ctl %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}
