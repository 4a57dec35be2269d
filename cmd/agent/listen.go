package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
// moves it to its own listener, and /debug/pprof when enabled. Each asks
// for auth's token (auth.go) and bounds requests by cfg's limits.
func listeners(n *node, cfg procagent.Config, auth authConfig, log *slog.Logger) ([]*listener, error) {
	icpt, err := rpcserver.NewInterceptor(n.tel)
	if err != nil {
		return nil, err
	}
	profiles := rpcserver.NewGate(cfg.MaxProfiles)
	mux := http.NewServeMux()
	rpcserver.New(n.agent, rpcserver.WithProfiler(n.profiler), rpcserver.WithLimits(limitsOf(cfg, profiles))).
		Mount(mux, connect.WithInterceptors(icpt))
	if cfg.PprofEnabled() {
		mountPprof(mux, cfg.MaxProfileDuration, profiles)
	}
	main := &listener{what: "listening", addr: cfg.Addr, srv: newHTTPServer(cfg, auth.guard(openReads(cfg, cfg.Addr), mux), log)}
	if cfg.MetricsAddr == "" {
		mux.Handle("GET /metrics", n.tel.MetricsHandler())
		return []*listener{main}, nil
	}
	mmux := http.NewServeMux()
	mmux.Handle("GET /metrics", n.tel.MetricsHandler())
	metrics := &listener{what: "metrics", addr: cfg.MetricsAddr, srv: newHTTPServer(cfg, auth.guard(openReads(cfg, cfg.MetricsAddr), mmux), log)}
	return []*listener{main, metrics}, nil
}

// limitsOf is the RPC limits of cfg.
func limitsOf(cfg procagent.Config, profiles *rpcserver.Gate) rpcserver.Limits {
	return rpcserver.Limits{
		RequestBytes:    cfg.MaxRequestBytes,
		SendBytes:       cfg.MaxSendBytes,
		ParamsBytes:     cfg.MaxParamsBytes,
		ReasonBytes:     cfg.MaxReasonBytes,
		LiveActors:      cfg.MaxLiveActors,
		Streams:         cfg.MaxStreams,
		Waiters:         cfg.MaxWaiters,
		ProfileDuration: cfg.MaxProfileDuration,
		Profiles:        profiles,
	}
}

// newHTTPServer serves h (the guarded mux) with cfg's HTTP timeouts. The
// server's own ReadTimeout and WriteTimeout stay unset: they would cut
// streams; bounds sets them per request instead.
func newHTTPServer(cfg procagent.Config, h http.Handler, log *slog.Logger) *http.Server {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           bounds(cfg, h),
		Protocols:         protocols,
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// shortPaths are the requests whose answer http_write_timeout bounds: the
// ones that never wait. Streams, waits, sends (with wait), StopAll and
// profiles are bounded by the caller's deadline instead.
var shortPaths = map[string]bool{
	"/metrics": true,
	"/procagent.v1.ProcAgentService/CreateOrUpdate":    true,
	"/procagent.v1.ProcAgentService/Stop":              true,
	"/procagent.v1.ProcAgentService/GetState":          true,
	"/procagent.v1.ProcAgentService/KeepaliveGetState": true,
	"/procagent.v1.ProcAgentService/GetRankStatus":     true,
	"/procagent.v1.ProcAgentService/List":              true,
	"/procagent.v1.ProcAgentService/QueryChild":        true,
	"/procagent.v1.ProcAgentService/ConfigDump":        true,
}

// bounds applies the per-request HTTP limits: the body must arrive within
// http_read_timeout (the deadline is lifted once it has, so that a stream
// lives on), a short request must be answered within http_write_timeout,
// and no body may be over max_request_bytes as sent (compressed or not;
// Connect bounds it again once decompressed).
func bounds(cfg procagent.Config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if cfg.HTTPReadTimeout > 0 {
			_ = rc.SetReadDeadline(time.Now().Add(cfg.HTTPReadTimeout)) // unsupported only on writers that are not the server's
			r.Body = &liftOnEOF{ReadCloser: r.Body, rc: rc}
		}
		if cfg.HTTPWriteTimeout > 0 && shortPaths[r.URL.Path] {
			_ = rc.SetWriteDeadline(time.Now().Add(cfg.HTTPWriteTimeout))
		}
		if cfg.MaxRequestBytes > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, int64(cfg.MaxRequestBytes)+1024) // room for framing
		}
		next.ServeHTTP(w, r)
	})
}

// liftOnEOF lifts the read deadline once the whole body is read.
type liftOnEOF struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *liftOnEOF) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
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
