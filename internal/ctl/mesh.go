package ctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"net/http"
	"os"
	"time"

	"github.com/procagent/procagent/mesh"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// envTargets names the fleet's inventory when --targets is not given.
const envTargets = "PROCAGENT_TARGETS"

// meshInventoryTimeout bounds the read of the inventory (an http_sd URL
// may not answer).
const meshInventoryTimeout = 30 * time.Second

// meshOptions are the flags of `agent ctl mesh`.
type meshOptions struct {
	targets     string
	params      string
	minStatus   string
	reason      string
	concurrency int
	rankTimeout time.Duration
	scheme      string
	caFile      string
	certFile    string
	keyFile     string
}

// meshSub is one subcommand of `agent ctl mesh`: its positional
// arguments, the own flags it takes, and what it runs.
type meshSub struct {
	args  string
	nargs int
	flags []string // the subcommand's own flags, besides the fleet's
	// run casts and prints; an error when some rank is below the status
	// the subcommand awaits (belowError) gives exit code 1.
	run func(ctx context.Context, m *meshCall, args []string) error
}

// meshSubs are the subcommands, by name.
var meshSubs = map[string]meshSub{
	"create":  {args: "ID TYPE", nargs: 2, flags: []string{"params"}, run: meshCreate},
	"wait":    {args: "ID --min STATUS", nargs: 1, flags: []string{"min"}, run: meshWait},
	"stop":    {args: "ID", nargs: 1, flags: []string{"reason"}, run: meshStop},
	"status":  {args: "ID", nargs: 1, run: meshStatus},
	"list":    {args: "", nargs: 0, run: meshList},
	"stopall": {args: "", nargs: 0, flags: []string{"reason"}, run: meshStopAll},
}

// meshCall is what a mesh subcommand works with.
type meshCall struct {
	*call
	sub   string
	opts  *meshOptions
	fleet *mesh.Fleet
	bar   *meshProgress // nil when stderr is not a terminal
}

// meshCmd is `mesh SUBCOMMAND …`: one command cast to every agent of the
// fleet's inventory, the answers merged into one view of the mesh. The
// exit code is 1 when some rank is below the status the subcommand awaits.
func meshCmd(fs *flag.FlagSet) action {
	o := &meshOptions{}
	fs.StringVar(&o.targets, "targets", "", "the fleet's inventory: a Prometheus file_sd file (JSON or YAML), an http_sd URL, or host:port,host:port (env "+envTargets+")")
	fs.StringVar(&o.params, "params", "", "create: the actor type's parameters, a JSON object")
	fs.StringVar(&o.minStatus, "min", "", "wait: the status every rank must reach, e.g. RUNNING or STOPPED (required)")
	fs.StringVar(&o.reason, "reason", "", "stop, stopall: why the actors are stopped")
	fs.IntVar(&o.concurrency, "concurrency", mesh.DefaultConcurrency, "how many agents are called at once")
	fs.DurationVar(&o.rankTimeout, "rank-timeout", mesh.DefaultRankTimeout, "each agent's deadline (wait and stopall: --timeout); an agent that has not answered by then reads TIMEOUT")
	fs.StringVar(&o.scheme, "scheme", mesh.SchemeHTTP, "http (the agent's h2c listener) or https (a TLS proxy in front of it); a target's __scheme__ label wins")
	fs.StringVar(&o.caFile, "ca-file", "", "https: PEM file of the CAs to trust instead of the system's")
	fs.StringVar(&o.certFile, "cert-file", "", "https: PEM client certificate, for a proxy that asks mTLS (with --key-file)")
	fs.StringVar(&o.keyFile, "key-file", "", "https: PEM key of --cert-file")
	return func(ctx context.Context, c *call, args []string) error {
		sub, ok := meshSubs[args[0]]
		if !ok {
			return usagef("unknown mesh command %q: want create, wait, stop, status, list or stopall", args[0])
		}
		if err := checkMeshArgs(fs, args[0], sub, args[1:]); err != nil {
			return err
		}
		m := &meshCall{call: c, sub: args[0], opts: o, bar: newMeshProgress(c.stderr, "mesh "+args[0])}
		defer m.bar.stop()
		fleet, err := newMeshFleet(ctx, c, fs, o, m.bar)
		if err != nil {
			return err
		}
		defer fleet.Close()
		m.fleet = fleet
		return sub.run(ctx, m, args[1:])
	}
}

// checkMeshArgs checks a subcommand's positional arguments and that the
// flags given are its own or the fleet's.
func checkMeshArgs(fs *flag.FlagSet, name string, sub meshSub, args []string) error {
	if len(args) != sub.nargs {
		return usagef("mesh %s takes %s", name, orNothing(sub.args))
	}
	for _, f := range []string{"params", "min", "reason"} {
		if flagGiven(fs, f) && !contains(sub.flags, f) {
			return usagef("--%s does not apply to mesh %s", f, name)
		}
	}
	return nil
}

// newMeshFleet reads the inventory and builds the fleet with the global
// flags' token and protocol and the mesh flags' TLS and bounds.
func newMeshFleet(ctx context.Context, c *call, fs *flag.FlagSet, o *meshOptions, bar *meshProgress) (*mesh.Fleet, error) {
	spec := o.targets
	if spec == "" {
		spec = c.getenv(envTargets)
	}
	if spec == "" {
		return nil, usagef("--targets is required (or %s): a file_sd file, an http_sd URL or host:port,host:port", envTargets)
	}
	tlsConfig, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, meshInventoryTimeout)
	defer cancel()
	sdTransport := &http.Transport{TLSClientConfig: tlsConfig}
	defer sdTransport.CloseIdleConnections()
	targets, err := mesh.LoadTargets(ictx, spec, &http.Client{Transport: sdTransport})
	if err != nil {
		return nil, usagef("--targets: %v", err)
	}
	opts := []mesh.Option{
		mesh.WithConcurrency(o.concurrency),
		mesh.WithRankTimeout(o.rankTimeout),
		mesh.WithScheme(o.scheme),
		mesh.WithClientOptions(protocolOptions(c.globals.protocol)...),
	}
	if tlsConfig != nil {
		opts = append(opts, mesh.WithTLSConfig(tlsConfig))
	}
	switch tok := fleetTokens(c.globals, fs, c.getenv); {
	case tok.explicit != "":
		opts = append(opts, mesh.WithToken(tok.explicit))
	case tok.local != "":
		opts = append(opts, mesh.WithLoopbackToken(tok.local))
	}
	if bar != nil {
		opts = append(opts, mesh.WithProgress(bar.update))
	}
	f, err := mesh.New(targets, opts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return f, nil
}

// tlsConfig is the TLS configuration of --ca-file, --cert-file and
// --key-file; nil when none is given (the system's CAs).
func (o *meshOptions) tlsConfig() (*tls.Config, error) {
	if o.caFile == "" && o.certFile == "" && o.keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, usagef("--ca-file: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, usagef("--ca-file %s: no PEM certificate in it", o.caFile)
		}
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return nil, usagef("--cert-file and --key-file go together")
	}
	if o.certFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, usagef("--cert-file, --key-file: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// meshCreate is `mesh create ID TYPE`.
func meshCreate(ctx context.Context, m *meshCall, args []string) error {
	spec := &procagentv1.ActorSpec{ActorType: args[1]}
	if m.opts.params != "" {
		s, err := parseParams(m.opts.params)
		if err != nil {
			return err
		}
		spec.Params = s
	}
	res := m.fleet.Create(ctx, args[0], spec)
	m.bar.stop()
	return m.printResult(args[0], procagentv1.Status_STATUS_INITIALIZING, "not created", res)
}

// meshWait is `mesh wait ID --min STATUS`.
func meshWait(ctx context.Context, m *meshCall, args []string) error {
	if m.opts.minStatus == "" {
		return usagef("mesh wait: --min is required")
	}
	st, err := parseStatus(m.opts.minStatus)
	if err != nil {
		return err
	}
	res, err := m.fleet.Wait(ctx, args[0], st)
	m.bar.stop()
	if err != nil {
		return err
	}
	return m.printResult(args[0], st, "below "+statusName(st), res)
}

// meshStop is `mesh stop ID`.
func meshStop(ctx context.Context, m *meshCall, args []string) error {
	res := m.fleet.Stop(ctx, args[0], m.opts.reason)
	m.bar.stop()
	return m.printResult(args[0], procagentv1.Status_STATUS_STOPPING, "not stopping", res)
}

// meshStatus is `mesh status ID`.
func meshStatus(ctx context.Context, m *meshCall, args []string) error {
	res := m.fleet.Status(ctx, args[0])
	m.bar.stop()
	return m.printResult(args[0], procagentv1.Status_STATUS_NOT_EXIST, "failed or did not answer", res)
}

// meshStopAll is `mesh stopall`: every agent stops its actors and exits.
func meshStopAll(ctx context.Context, m *meshCall, _ []string) error {
	res := m.fleet.StopAll(ctx, m.opts.reason)
	m.bar.stop()
	return m.printResult("", procagentv1.Status_STATUS_STOPPING, "did not stop cleanly", res)
}

// meshList is `mesh list`.
func meshList(ctx context.Context, m *meshCall, _ []string) error {
	res := m.fleet.List(ctx)
	m.bar.stop()
	return m.printList(res)
}

// orNothing is s, or "no arguments" when s is empty.
func orNothing(s string) string {
	if s == "" {
		return "no arguments"
	}
	return s
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
