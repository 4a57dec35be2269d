package rpcserver

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Profiler takes the profiles behind PySpyDump, PySpyProfile and
// GoProfile; *profiling.Profiler implements it.
type Profiler interface {
	Dump(ctx context.Context, target profiling.Target, opts profiling.DumpOptions) (profiling.Result, error)
	Profile(ctx context.Context, target profiling.Target, opts profiling.ProfileOptions) (profiling.Result, error)
	GoProfile(ctx context.Context, name string, duration time.Duration, debug int) ([]byte, error)
}

// Server implements the generated ProcAgentServiceHandler over an agent
// and, optionally, a Profiler. It is safe for concurrent use.
type Server struct {
	agent    *procagent.Agent
	profiler Profiler
	limits   Limits
	creating atomic.Int64 // creates in flight, counted against max_live_actors
}

var _ procagentv1connect.ProcAgentServiceHandler = (*Server)(nil)

// Option configures a Server.
type Option func(*Server)

// WithProfiler serves the profiling RPCs with p; without it they answer
// Unimplemented.
func WithProfiler(p Profiler) Option { return func(s *Server) { s.profiler = p } }

// New returns the server of agent's resources.
func New(agent *procagent.Agent, opts ...Option) *Server {
	s := &Server{agent: agent}
	for _, o := range opts {
		o(s)
	}
	return s
}

// compressMinBytes: responses are compressed only above 1 KiB.
const compressMinBytes = 1024

// Mount registers the ProcAgentService (Connect, gRPC and gRPC-Web), gRPC
// health and gRPC reflection on mux. opts apply to every handler (the
// telemetry interceptor, say); the limits (WithLimits) are checked inside
// them.
func (s *Server) Mount(mux *http.ServeMux, opts ...connect.HandlerOption) {
	opts = append(append([]connect.HandlerOption{connect.WithCompressMinBytes(compressMinBytes)}, jsonCodecOptions()...), opts...)
	opts = append(opts, connect.WithInterceptors(limitInterceptor{s}))
	if s.limits.RequestBytes > 0 {
		opts = append(opts, connect.WithReadMaxBytes(s.limits.RequestBytes))
	}
	mux.Handle(procagentv1connect.NewProcAgentServiceHandler(s, opts...))
	checker := grpchealth.NewStaticChecker(procagentv1connect.ProcAgentServiceName)
	mux.Handle(grpchealth.NewHandler(checker, opts...))
	reflector := grpcreflect.NewStaticReflector(procagentv1connect.ProcAgentServiceName, grpchealth.HealthV1ServiceName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector, opts...))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, opts...))
}
