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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := serve(ctx, cfg, flags.actorsFile, log, stdout)
	if err != nil {
		log.Error("agent serve", "err", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// node is a running agent: telemetry, the proc, the agent and its
// listeners, wired in the one order that works (telemetry first, since the
// proc and the agent report to it; Observe last, since it reads them).
type node struct {
	tel      *telemetry.Telemetry
	proc     *runtime.Proc
	agent    *procagent.Agent
	profiler *profiling.Handler
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
		procagent.WithFlushTimeout(cfg.FlushTimeout),
		procagent.WithObserver(tel.Observer()),
		procagent.WithFlusher(tel),
		procagent.WithConfig(cfg))
	if n.profiler, err = newProfiler(n.agent, cfg, name); err != nil {
		return nil, errors.Join(err, n.shutdown(cfg))
	}
	if err := tel.Observe(n.proc, n.agent); err != nil {
		return nil, errors.Join(fmt.Errorf("telemetry: %w", err), n.shutdown(cfg))
	}
	if err := n.agent.Start(ctx); err != nil {
		return nil, errors.Join(err, n.shutdown(cfg))
	}
	return n, nil
}

// shutdown stops what newNode started, telemetry last so that it sees the
// end of everything else. It is bounded by the flush timeout.
func (n *node) shutdown(cfg procagent.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout+10*time.Second)
	defer cancel()
	var errs []error
	if n.agent != nil {
		errs = append(errs, n.agent.Shutdown(ctx))
	}
	if n.proc != nil {
		errs = append(errs, n.proc.Close(ctx))
	}
	return errors.Join(append(errs, n.tel.Shutdown(ctx))...)
}

// serve runs the agent until a signal or StopAll, and returns StopAll's
// exit code.
func serve(ctx context.Context, cfg procagent.Config, actorsFile string, log *slog.Logger, stdout io.Writer) (int, error) {
	token, err := loadToken(cfg)
	if err != nil {
		return 2, err
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
	serveErr := make(chan error, 2)
	for _, l := range listeners(n, cfg, token, log) {
		if err := l.start(ctx, serveErr); err != nil {
			return 1, errors.Join(err, n.stopServers(), n.shutdown(cfg))
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
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := n.agent.StopAll(sctx, "signal")
		cancel()
		if err != nil {
			log.Error("stop all on signal", "err", err)
		}
		code = res.ExitCode
		select { // the exit code arrives once telemetry is flushed
		case code = <-n.agent.Exit():
		case <-time.After(cfg.FlushTimeout + time.Second):
		}
	case code = <-n.agent.Exit():
		log.Info("stop all finished", "exit_code", code)
	case err := <-serveErr:
		return 1, errors.Join(fmt.Errorf("serve: %w", err), n.stopServers(), n.shutdown(cfg))
	}
	err = n.stopServers() // drains in-flight RPCs, StopAll's reply among them
	log.Info("procagent exiting", "exit_code", code)
	return code, errors.Join(err, n.shutdown(cfg))
}

// stopServers shuts the listeners down gracefully.
func (n *node) stopServers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, l := range n.servers {
		errs = append(errs, l.stop(ctx))
	}
	return errors.Join(errs...)
}
