package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/profiling"
	"github.com/procagent/procagent/runtime"
	"github.com/procagent/procagent/telemetry"
)

// serveFlags are the flags of `agent serve`: one per config key, bound
// from the key table, plus the two file flags.
type serveFlags struct {
	fs         *flag.FlagSet
	configFile string
	actorsFile string
}

func newServeFlags(stderr io.Writer) *serveFlags {
	f := &serveFlags{fs: flag.NewFlagSet("agent serve", flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	for _, k := range procagent.ConfigKeys() {
		f.fs.String(k.Flag, k.Default, fmt.Sprintf("%s (env %s)", k.Doc, k.EnvVar))
	}
	f.fs.StringVar(&f.configFile, "config", "", "config file (YAML or JSON) keyed by setting name")
	f.fs.StringVar(&f.actorsFile, "actors", "", "actors file (YAML or JSON) of actors to create at boot")
	return f
}

// setFlags returns the config flags the user actually set.
func (f *serveFlags) setFlags() map[string]string {
	set := map[string]string{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = fl.Value.String() })
	return set
}

func runServe(args []string, stdout, stderr io.Writer) int {
	flags := newServeFlags(stderr)
	if err := flags.fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := procagent.LoadConfig(procagent.LoadOptions{File: flags.configFile, Flags: flags.setFlags(), Getenv: os.LookupEnv})
	if err != nil {
		fmt.Fprintf(stderr, "agent serve: %v\n", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel)
	runtime.ConfigureExec(execConfig(cfg, log))
	// The first SIGTERM or SIGINT stops everything gracefully (ctx); a
	// second one during the drain kills every worker's group and exits.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	watched := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(watched)
		watchSignals(sigs, cancel, done, log)
	}()
	defer func() {
		signal.Stop(sigs)
		close(done)
		<-watched
		cancel()
	}()
	code, err := serve(ctx, cfg, flags.actorsFile, log, stdout)
	if err != nil {
		log.Error("agent serve", "err", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// execConfig is the process-wide configuration of exec workers: the agent
// binary is their shim (`agent shim`), so no worker nor any of its
// descendants outlives the agent (README, "Processes the agent starts").
func execConfig(cfg procagent.Config, log *slog.Logger) runtime.ExecConfig {
	ec := runtime.ExecConfig{MaxGracePeriod: cfg.MaxGracePeriod, MaxWorkers: cfg.MaxExecWorkers}
	ec.Allow, _ = cfg.ExecAllowList() // validated by LoadConfig
	self, err := os.Executable()
	if err != nil {
		log.Warn("no shim for exec workers: they run directly", "err", err)
		return ec
	}
	ec.ShimPath = self
	return ec
}

// watchSignals cancels ctx at the first SIGTERM or SIGINT; at the second it
// kills every worker's process group and exits at once, flushing nothing
// more, with 128 + the signal's number. It returns when done is closed.
func watchSignals(sigs <-chan os.Signal, cancel context.CancelFunc, done <-chan struct{}, log *slog.Logger) {
	first := true
	for {
		select {
		case <-done:
			return
		case sig := <-sigs:
			if first {
				first = false
				log.Info("signal received: stopping all actors; a second one forces exit", "signal", sig.String())
				cancel()
				continue
			}
			n := runtime.KillAllExec()
			code := 128 + int(syscall.SIGTERM)
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			log.Warn("second signal: forcing exit, killed every worker's process group", "signal", sig.String(), "killed_groups", n, "exit_code", code)
			exit(code)
		}
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// node is a running agent: telemetry, the proc, the agent and its
// listeners. Telemetry comes first, since the proc and the agent report to
// it; the agent attaches it as its observer (ARCHITECTURE.md).
type node struct {
	tel      *telemetry.Pipeline
	proc     *runtime.Proc
	agent    *procagent.Agent
	profiler *profiling.Profiler
	servers  []*listener
}

func newNode(ctx context.Context, cfg procagent.Config, name string, log *slog.Logger) (*node, error) {
	tel, err := telemetry.New(ctx, telemetry.Options{
		ServiceVersion: version,
		ProcID:         name,
		OTLPEndpoint:   cfg.OTLPEndpoint,
		Registry:       prometheus.NewRegistry(),
		Logger:         log,
		MemoryInterval: cfg.ProcessMemoryMetricInterval,
		ActorSeriesCap: cfg.ActorSeriesCap,
	})
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	otel.SetErrorHandler(tel.ErrorHandler()) // the SDK reports export errors only globally
	n := &node{tel: tel}
	n.proc = runtime.NewProc(name,
		runtime.WithLogger(log),
		runtime.WithMailboxSize(cfg.MailboxSize),
		runtime.WithRetention(cfg.TerminatedSnapshotRetention),
		runtime.WithHandlerObserver(tel.HandlerObserver()))
	n.agent = procagent.New(n.proc,
		procagent.WithLogger(log),
		procagent.WithOrphanTimeout(cfg.OrphanTimeout),
		procagent.WithResourceRetention(cfg.TerminatedResourceRetention),
		procagent.WithFlushTimeout(cfg.FlushTimeout),
		procagent.WithObserver(tel),
		procagent.WithFlusher(tel),
		procagent.WithMemoryReader(tel), // QueryChild shows the gauges' sample
		procagent.WithConfig(cfg))
	if n.profiler, err = newProfiler(n.agent, cfg, name); err != nil {
		return nil, errors.Join(err, n.shutdown())
	}
	// Block and mutex sampling is per process: GoProfile and /debug/pprof see it.
	profiling.SetGoSampling(cfg.BlockProfileRate, cfg.MutexProfileFraction)
	if err := n.agent.Start(ctx); err != nil {
		return nil, errors.Join(err, n.shutdown())
	}
	return n, nil
}

// Bounds of the way from StopAll to exit: once every actor is terminal,
// the agent flushes telemetry (flush_timeout), the listeners drain
// in-flight requests (drainTimeout) and telemetry is released
// (releaseTimeout) without a second flush that could take longer.
const (
	drainTimeout   = 5 * time.Second
	releaseTimeout = time.Second
)

// shutdown stops what newNode started, telemetry last so that it sees the
// end of everything else. StopAll has flushed telemetry already: releasing
// it is bounded by releaseTimeout. Errors are logged by the caller; none
// changes the exit code.
func (n *node) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	var errs []error
	if n.agent != nil {
		errs = append(errs, n.agent.Shutdown(ctx))
	}
	if n.proc != nil {
		errs = append(errs, n.proc.Close(ctx))
	}
	rctx, rcancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer rcancel()
	return errors.Join(append(errs, n.tel.Shutdown(rctx))...)
}

// serve runs the agent until a signal or StopAll, and returns StopAll's
// exit code: 1 iff some actor failed by a supervision event. An error
// returned with it comes from starting up (the code is then 1 or 2);
// errors of draining and releasing after StopAll are logged and counted,
// and never change the code.
func serve(ctx context.Context, cfg procagent.Config, actorsFile string, log *slog.Logger, stdout io.Writer) (int, error) {
	auth, err := loadAuth(cfg, log, stdout)
	if err != nil {
		return 2, err
	}
	if auth.file != "" {
		cfg.AuthTokenFile = auth.file // ConfigDump shows where the token is
	}
	name := cfg.ProcName
	if name == "" {
		host, _ := os.Hostname()
		name = host + "-" + strconv.Itoa(os.Getpid())
	}
	n, err := newNode(ctx, cfg, name, log)
	if err != nil {
		return 1, err
	}
	ls, err := listeners(n, cfg, auth, log)
	if err != nil {
		return 1, errors.Join(err, n.shutdown())
	}
	serveErr := make(chan error, 2)
	for _, l := range ls {
		if err := l.start(ctx, serveErr); err != nil {
			return 1, errors.Join(err, n.stopServers(), n.shutdown())
		}
		n.servers = append(n.servers, l)
		log.Info("procagent serving", "addr", l.addr, "serves", l.what, "proc", name)
		fmt.Fprintf(stdout, "procagent %s on http://%s\n", l.what, l.addr)
	}

	if actorsFile != "" {
		if err := createBootActors(n.agent, actorsFile, log); err != nil {
			log.Error("boot actors", "err", err)
		}
	}

	var code int
	select {
	case <-ctx.Done():
		log.Info("signal received: stopping all actors")
		code = n.stopAll(cfg, log)
	case code = <-n.agent.Exit():
		log.Info("stop all finished", "exit_code", code)
	case err := <-serveErr:
		return 1, errors.Join(fmt.Errorf("serve: %w", err), n.stopServers(), n.shutdown())
	}
	// Drain in-flight RPCs (StopAll's reply among them), then release.
	failures := 0
	for _, err := range []error{n.stopServers(), n.shutdown()} {
		if err != nil {
			failures++
			log.Warn("after stop all", "err", err)
		}
	}
	log.Info("procagent exiting", "exit_code", code, "shutdown_errors", failures)
	return code, nil
}

// stopAll runs StopAll for a signal and returns its exit code, once every
// actor is terminal and telemetry is flushed (bounded by flush_timeout).
func (n *node) stopAll(cfg procagent.Config, log *slog.Logger) int {
	// Every worker's grace is capped by max_grace_period; past it and a
	// margin, whatever is left is killed outright.
	ctx, cancel := context.WithTimeout(context.Background(), cfg.MaxGracePeriod+stopAllMargin)
	defer cancel()
	res, err := n.agent.StopAll(ctx, "signal")
	if err != nil {
		killed := runtime.KillAllExec()
		log.Error("stop all on signal", "err", err, "killed_groups", killed)
	}
	select { // the exit code arrives once telemetry is flushed
	case code := <-n.agent.Exit():
		return code
	case <-time.After(cfg.FlushTimeout + time.Second):
		return res.ExitCode
	}
}

// stopAllMargin is how long past max_grace_period a signal's StopAll waits
// before it kills every worker's group.
const stopAllMargin = 5 * time.Second

// stopServers shuts the listeners down gracefully.
func (n *node) stopServers() error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	var errs []error
	for _, l := range n.servers {
		errs = append(errs, l.stop(ctx))
	}
	return errors.Join(errs...)
}
