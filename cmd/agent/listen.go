package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/rpcserver"
)

// listener is one HTTP listener of `agent serve`.
type listener struct {
	what string // what it serves, for the log and the "listening" line
	addr string // the configured address, then the bound one
	srv  *http.Server
	done chan struct{}
}

// listeners builds the agent's listeners: the main one serves the Connect
// API (Connect, gRPC and gRPC-Web over h2c), /metrics unless metrics_addr
// moves it to its own listener, and /debug/pprof when enabled.
func listeners(n *node, cfg procagent.Config, token string, log *slog.Logger) ([]*listener, error) {
	icpt, err := rpcserver.NewInterceptor(n.tel)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	rpcserver.New(n.agent, rpcserver.WithProfiler(n.profiler)).Mount(mux, connect.WithInterceptors(icpt))
	if cfg.PprofEnabled() {
		mountPprof(mux)
	}
	main := &listener{what: "listening", addr: cfg.Addr, srv: newHTTPServer(mux, token, log)}
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", n.tel.MetricsHandler())
		return []*listener{main}, nil
	}
	mmux := http.NewServeMux()
	mmux.Handle("GET /metrics", n.tel.MetricsHandler())
	metrics := &listener{what: "metrics", addr: cfg.MetricsAddr, srv: newHTTPServer(mmux, token, log)}
	return []*listener{main, metrics}, nil
}

func newHTTPServer(h http.Handler, token string, log *slog.Logger) *http.Server {
	if token != "" {
		h = requireToken(token, h)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// start binds the address and serves in a goroutine that stop waits for; a
// serving error other than a shutdown is sent on errs.
func (l *listener) start(ctx context.Context, errs chan<- error) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", l.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", l.addr, err)
	}
	l.addr = ln.Addr().String()
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("%s: %w", l.addr, err)
		}
	}()
	return nil
}

// stop drains the listener's in-flight requests and waits for its goroutine.
func (l *listener) stop(ctx context.Context) error {
	if l.done == nil {
		return nil
	}
	err := l.srv.Shutdown(ctx)
	<-l.done
	return err
}
