package mesh

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Defaults of a Fleet.
const (
	// DefaultConcurrency is how many ranks a cast calls at once.
	DefaultConcurrency = 64
	// DefaultRankTimeout is each rank's deadline for a call that answers
	// at once (not Wait or StopAll, which wait as long as the caller's
	// context lets them).
	DefaultRankTimeout = 5 * time.Second
)

// Schemes a target is reached with.
const (
	SchemeHTTP  = "http"  // h2c, HTTP/2 with prior knowledge, as `agent serve` listens
	SchemeHTTPS = "https" // HTTP/2 over TLS, to a proxy in front of the agent
)

// Fleet is the controller's handle on a fleet of agents: one Connect
// client per target over one shared transport, which keeps one HTTP/2
// connection per target and reuses it across casts. It is safe for
// concurrent use; Close releases its connections.
type Fleet struct {
	targets   []Target
	clients   []procagentv1connect.ProcAgentServiceClient
	transport *http.Transport
	cfg       config
}

// config is what the Options set.
type config struct {
	concurrency   int
	rankTimeout   time.Duration
	token         string
	loopbackToken string
	scheme        string
	tlsConfig     *tls.Config
	clientOpts    []connect.ClientOption
	progress      func(done, total int)
}

// Option configures a Fleet.
type Option func(*config)

// WithConcurrency sets how many ranks a cast calls at once (default
// DefaultConcurrency); n below 1 is an error of New.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithRankTimeout sets each rank's deadline for the calls that answer at
// once (default DefaultRankTimeout); a rank that has not answered by then
// reads TIMEOUT. d must be positive.
func WithRankTimeout(d time.Duration) Option { return func(c *config) { c.rankTimeout = d } }

// WithToken sends token as "Authorization: Bearer <token>" to every
// target: one token per fleet.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithLoopbackToken sends token only to targets on this machine (a
// loopback address or localhost), as `agent ctl` sends the local agent's
// token file; WithToken, when given too, wins.
func WithLoopbackToken(token string) Option { return func(c *config) { c.loopbackToken = token } }

// WithScheme sets the scheme of targets without a __scheme__ label:
// SchemeHTTP (the default) or SchemeHTTPS.
func WithScheme(scheme string) Option { return func(c *config) { c.scheme = scheme } }

// WithTLSConfig sets the TLS configuration for https targets: the CAs to
// trust, a client certificate for mTLS. HTTP/2 is negotiated by ALPN.
func WithTLSConfig(cfg *tls.Config) Option { return func(c *config) { c.tlsConfig = cfg } }

// WithClientOptions passes options to every target's Connect client
// (connect.WithGRPC(), say).
func WithClientOptions(opts ...connect.ClientOption) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithProgress calls progress(done, total) as the ranks of a cast
// answer, from the cast's goroutines, one call at a time; it must not
// block.
func WithProgress(progress func(done, total int)) Option {
	return func(c *config) { c.progress = progress }
}

// New returns the Fleet of targets, which must have distinct ranks (as
// LoadTargets returns them); the fleet keeps them sorted by rank. It opens no connection: the first cast does.
func New(targets []Target, opts ...Option) (*Fleet, error) {
	cfg := config{concurrency: DefaultConcurrency, rankTimeout: DefaultRankTimeout, scheme: SchemeHTTP}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(targets); err != nil {
		return nil, err
	}
	var versions http.Protocols
	versions.SetHTTP2(true)
	versions.SetUnencryptedHTTP2(true)
	transport := &http.Transport{
		Protocols:       &versions,
		TLSClientConfig: cfg.tlsConfig,
		// Each target's deadline bounds its dial; this bounds a dial that
		// a caller without deadline started.
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     5 * time.Minute,
	}
	sorted := slices.Clone(targets)
	slices.SortFunc(sorted, func(a, b Target) int { return cmp.Compare(a.Rank, b.Rank) })
	f := &Fleet{targets: sorted, transport: transport, cfg: cfg}
	f.clients = make([]procagentv1connect.ProcAgentServiceClient, len(targets))
	for i, t := range f.targets {
		scheme := cfg.scheme
		if s, ok := t.Labels[SchemeLabel]; ok {
			scheme = s
		}
		var rt http.RoundTripper = transport
		if tok := cfg.tokenFor(t); tok != "" {
			rt = &bearer{token: tok, next: transport}
		}
		f.clients[i] = procagentv1connect.NewProcAgentServiceClient(&http.Client{Transport: rt}, scheme+"://"+t.Addr, cfg.clientOpts...)
	}
	return f, nil
}

// validate checks the options and the targets.
func (c *config) validate(targets []Target) error {
	var errs []error
	if c.concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d: want at least 1", c.concurrency))
	}
	if c.rankTimeout <= 0 {
		errs = append(errs, fmt.Errorf("rank timeout %v: want more than 0", c.rankTimeout))
	}
	if c.scheme != SchemeHTTP && c.scheme != SchemeHTTPS {
		errs = append(errs, fmt.Errorf("scheme %q: want http or https", c.scheme))
	}
	if len(targets) == 0 {
		errs = append(errs, ErrNoTargets)
	}
	seen := make(map[uint64]string, len(targets))
	for _, t := range targets {
		if err := checkAddr(t.Addr); err != nil {
			errs = append(errs, fmt.Errorf("%w: rank %d: %q: %w", ErrInvalidTarget, t.Rank, t.Addr, err))
		}
		if other, dup := seen[t.Rank]; dup {
			errs = append(errs, fmt.Errorf("%w: rank %d is both %s and %s", ErrDuplicateTarget, t.Rank, other, t.Addr))
		}
		seen[t.Rank] = t.Addr
		if s, ok := t.Labels[SchemeLabel]; ok && s != SchemeHTTP && s != SchemeHTTPS {
			errs = append(errs, fmt.Errorf("%w: rank %d: %s %q: want http or https", ErrInvalidTarget, t.Rank, SchemeLabel, s))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mesh: %w", err)
	}
	return nil
}

// tokenFor is the token sent to t: the fleet's, else the loopback one to
// a target on this machine.
func (c *config) tokenFor(t Target) string {
	if c.token != "" {
		return c.token
	}
	if c.loopbackToken != "" && IsLoopback(t.Addr) {
		return c.loopbackToken
	}
	return ""
}

// Targets returns the fleet's targets, by rank.
func (f *Fleet) Targets() []Target { return append([]Target(nil), f.targets...) }

// Close closes the fleet's idle connections; a cast in flight keeps its
// own until it ends. The Fleet stays usable (a later cast dials again).
func (f *Fleet) Close() { f.transport.CloseIdleConnections() }

// IsLoopback reports whether addr (host:port) is on this machine: a
// loopback IP or localhost.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// BearerTransport returns a RoundTripper that adds "Authorization: Bearer
// token" to every request (streams included) and sends it through next.
func BearerTransport(token string, next http.RoundTripper) http.RoundTripper {
	return &bearer{token: token, next: next}
}

// bearer is BearerTransport's RoundTripper.
type bearer struct {
	token string
	next  http.RoundTripper
}

// RoundTrip implements http.RoundTripper; it leaves req untouched.
func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(req)
}
