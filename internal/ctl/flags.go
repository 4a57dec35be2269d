package ctl

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/procagent/procagent/mesh"
)

// Environment variables `agent ctl` reads; its flags override them.
const (
	envAddr      = "PROCAGENT_ADDR"
	envToken     = "PROCAGENT_TOKEN"           //nolint:gosec // G101: the name of a variable, not a credential
	envTokenFile = "PROCAGENT_AUTH_TOKEN_FILE" //nolint:gosec // G101: the name of a variable, not a credential
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
	fs.StringVar(&g.token, "token", g.token, "bearer token sent as the Authorization header (env "+envToken+"); by default, to a loopback address, the local agent's token file (env "+envTokenFile+", else the default path agent serve prints)")
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
	if g.token == "" && isLoopbackAddr(g.addr) {
		tok, err := localToken(getenv)
		if err != nil {
			return err
		}
		g.token = tok
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

// DefaultTokenFile is where `agent serve` keeps its token when
// auth_token_file is empty, and where `agent ctl` looks for it:
// $XDG_RUNTIME_DIR/procagent/token, else $XDG_STATE_HOME/procagent/token,
// else ~/.local/state/procagent/token. getenv looks up the environment.
func DefaultTokenFile(getenv func(string) string) (string, error) {
	if d := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return filepath.Join(d, "procagent", "token"), nil
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "procagent", "token"), nil
	}
	if d := getenv("HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, ".local", "state", "procagent", "token"), nil
	}
	return "", errors.New("no place for the token: set XDG_RUNTIME_DIR, XDG_STATE_HOME or HOME, or auth_token_file")
}

// ReadTokenFile reads a token file as ssh reads a private key: a file that
// group or others may read is refused, and so is an empty one.
func ReadTokenFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("token file %s is accessible by group or others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: the path is the user's own setting
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	return tok, nil
}

// localToken is the token of an agent of this user on this machine:
// $PROCAGENT_AUTH_TOKEN_FILE, else the default file; none when there is
// no such file (the read-only RPCs need none).
func localToken(getenv func(string) string) (string, error) {
	path := getenv(envTokenFile)
	if path == "" {
		var err error
		if path, err = DefaultTokenFile(getenv); err != nil {
			return "", nil //nolint:nilerr // no home, no token: the reads still work
		}
	}
	tok, err := ReadTokenFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return "", nil // no agent of ours, or another user's file
	}
	return tok, err
}

// isLoopbackAddr reports whether addr (HOST:PORT or a URL, as --addr takes)
// is on this machine: the only place a token found in a file is sent.
func isLoopbackAddr(addr string) bool {
	base, err := baseURL(addr)
	if err != nil {
		return false
	}
	return mesh.IsLoopback(strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://"))
}
