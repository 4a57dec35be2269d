package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/runtime"
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
	proc := runtime.NewProc(name,
		runtime.WithLogger(log),
		runtime.WithMailboxSize(cfg.MailboxSize),
		runtime.WithRetention(cfg.TerminatedSnapshotRetention))
	agent := procagent.New(proc,
		procagent.WithLogger(log),
		procagent.WithOrphanTimeout(cfg.OrphanTimeout),
		procagent.WithFlushTimeout(cfg.FlushTimeout),
		procagent.WithConfig(cfg))
	if err := agent.Start(ctx); err != nil {
		return 1, err
	}
	shutdown := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.FlushTimeout+10*time.Second)
		defer cancel()
		return errors.Join(agent.Shutdown(sctx), proc.Close(sctx))
	}

	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return 1, errors.Join(fmt.Errorf("listen on %s: %w", cfg.Addr, err), shutdown())
	}
	srv := newServer(agent, cfg, token, log)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("procagent serving", "addr", ln.Addr().String(), "proc", name, "pprof", cfg.PprofEnabled())
	fmt.Fprintf(stdout, "procagent listening on http://%s\n", ln.Addr())

	if actorsFile != "" {
		if err := createBootActors(agent, actorsFile, log); err != nil {
			log.Error("boot actors", "err", err)
		}
	}

	var code int
	select {
	case <-ctx.Done():
		log.Info("signal received: stopping all actors")
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res, err := agent.StopAll(sctx, "signal")
		cancel()
		if err != nil {
			log.Error("stop all on signal", "err", err)
		}
		code = res.ExitCode
		select { // the exit code arrives once telemetry is flushed
		case code = <-agent.Exit():
		case <-time.After(cfg.FlushTimeout + time.Second):
		}
	case code = <-agent.Exit():
		log.Info("stop all finished", "exit_code", code)
	case err := <-serveErr:
		return 1, errors.Join(fmt.Errorf("serve: %w", err), shutdown())
	}
	dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(dctx) // drains in-flight RPCs, StopAll's reply among them
	if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	log.Info("procagent exiting", "exit_code", code)
	return code, errors.Join(err, shutdown())
}

// newServer builds the one HTTP listener: Connect, gRPC and gRPC-Web over
// h2c, and /debug/pprof when enabled.
func newServer(agent *procagent.Agent, cfg procagent.Config, token string, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	procagent.NewService(agent).Mount(mux)
	if cfg.PprofEnabled() {
		mountPprof(mux)
	}
	var h http.Handler = mux
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
