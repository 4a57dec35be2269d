package ctl

import (
	"flag"
	"time"
)

// Environment variables `agent ctl` reads; its flags override them.
const (
	envAddr  = "PROCAGENT_ADDR"
	envToken = "PROCAGENT_TOKEN" //nolint:gosec // G101: the name of a variable, not a credential
)

// defaultAddr is where `agent ctl` looks for the agent: the default listen
// address of `agent serve`.
const defaultAddr = "127.0.0.1:9464"

// Output formats `agent ctl -o` accepts.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// globalFlags holds the flags every ctl command accepts. They may be given
// before the command or among its own flags.
type globalFlags struct {
	addr     string
	token    string
	output   string
	protocol string
	timeout  time.Duration
}

// newGlobalFlags returns the global flags' defaults; the address comes from
// the environment when set there.
func newGlobalFlags(getenv func(string) string) *globalFlags {
	g := &globalFlags{addr: getenv(envAddr), output: outputTable, protocol: protocolConnect}
	if g.addr == "" {
		g.addr = defaultAddr
	}
	return g
}

// bind registers the global flags on fs with g's values as defaults. The
// token's environment variable is read after parsing (see finish), so that
// a secret never shows up as a flag default in the usage.
func (g *globalFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&g.addr, "addr", g.addr, "agent address HOST:PORT, or an http:// or https:// URL (env "+envAddr+")")
	fs.StringVar(&g.token, "token", g.token, "bearer token sent as the Authorization header (env "+envToken+")")
	fs.StringVar(&g.output, "o", g.output, "output format: table or json")
	fs.StringVar(&g.protocol, "protocol", g.protocol, "RPC protocol: connect, grpc or grpcweb")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "request deadline, 0 for none (default 30s for wait and pyspy dump, none for stream, the duration plus 30s for profile and goprofile cpu, 10s for the others)")
}

// finish validates the parsed global flags and fills the token from the
// environment when no flag gave it.
func (g *globalFlags) finish(getenv func(string) string) error {
	if g.token == "" {
		g.token = getenv(envToken)
	}
	switch g.output {
	case outputTable, outputJSON:
	default:
		return usagef("-o %q: want table or json (profiles are written with --out FILE)", g.output)
	}
	switch g.protocol {
	case protocolConnect, protocolGRPC, protocolGRPCWeb:
	default:
		return usagef("--protocol %q: want connect, grpc or grpcweb", g.protocol)
	}
	if g.timeout < 0 {
		return usagef("--timeout %v: must not be negative", g.timeout)
	}
	return nil
}

// outputAsFile reads `-o FILE` on a command that writes a file as
// `--out FILE`: an -o that is not an output format (table, json) names the
// file, unless --out was given too.
func (g *globalFlags) outputAsFile(fs *flag.FlagSet) {
	if g.output == outputTable || g.output == outputJSON || flagGiven(fs, "out") {
		return
	}
	if err := fs.Set("out", g.output); err == nil {
		g.output = outputTable
	}
}

// applyGlobals sets on global the global flags given on the command's
// FlagSet fs, so that they count as given there too.
func applyGlobals(global, fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && global.Lookup(f.Name) != nil {
			err = global.Set(f.Name, f.Value.String())
		}
	})
	return err
}

// flagGiven reports whether the flag name was given on fs's command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// parseInterleaved parses args with fs, letting flags come before, between
// and after the positional arguments (the flag package stops at the first
// non-flag). Everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
