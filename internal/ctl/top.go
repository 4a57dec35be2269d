package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"connectrpc.com/connect"

	"github.com/procagent/procagent/mesh"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// Defaults and bounds of `agent ctl top`.
const (
	topDefaultInterval    = time.Second
	topMinInterval        = 100 * time.Millisecond
	topDefaultTimeout     = 2 * time.Second
	topDefaultConcurrency = 16
)

// topOptions are top's own flags.
type topOptions struct {
	once          bool
	interval      time.Duration
	sort          string
	reverse       bool
	targets       string
	concurrency   int
	targetTimeout time.Duration
	metricsAddr   string
}

// topCmd is `top`: a live view of one agent's actors, or with --targets of
// a fleet of agents, refreshed every --interval until q or Ctrl-C. --once
// prints one frame as plain text (or JSON) and exits.
func topCmd(fs *flag.FlagSet) action {
	var o topOptions
	fs.BoolVar(&o.once, "once", false, "print one frame as plain text (with -o json, as JSON) and exit")
	fs.DurationVar(&o.interval, "interval", topDefaultInterval, "time between refreshes")
	fs.StringVar(&o.sort, "sort", "status", "sort key; one agent: "+sortKeyNames(actorSortKeys)+"; a fleet: "+sortKeyNames(fleetSortKeys))
	fs.BoolVar(&o.reverse, "reverse", false, "reverse the sort")
	fs.StringVar(&o.targets, "targets", "", "show a fleet instead of --addr: its inventory, a file_sd file (JSON or YAML), an http_sd URL or host:port,host:port")
	fs.IntVar(&o.concurrency, "concurrency", topDefaultConcurrency, "fleet: how many agents are read at once")
	fs.DurationVar(&o.targetTimeout, "target-timeout", topDefaultTimeout, "deadline of one agent's refresh; an agent that does not answer in time shows as down")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "where the agent serves /metrics when its metrics_addr moves it off --addr (per-actor queue depth and memory, the version)")
	return func(ctx context.Context, c *call, _ []string) error {
		keys := actorSortKeys
		if o.targets != "" {
			keys = fleetSortKeys
		}
		sortIdx, ok := sortKeyIndex(keys, o.sort)
		switch {
		case !ok:
			return usagef("--sort %q: want one of %s", o.sort, sortKeyNames(keys))
		case o.interval < topMinInterval:
			return usagef("--interval %v: must be at least %v", o.interval, topMinInterval)
		case o.targetTimeout <= 0:
			return usagef("--target-timeout %v: must be positive", o.targetTimeout)
		case o.concurrency < 1:
			return usagef("--concurrency %d: must be at least 1", o.concurrency)
		case o.targets != "" && o.metricsAddr != "":
			return usagef("--metrics-addr names one agent's listener: not with --targets")
		case c.out.json && !o.once:
			return usagef("-o json prints one frame: use it with --once")
		}
		if !o.once && !isTerminal(c.out.w) {
			return usagef("the live view needs a terminal: use --once for one plain-text frame")
		}
		src, source, err := newTopSource(ctx, c, fs, o)
		if err != nil {
			return err
		}
		defer src.close()
		m := newTopModel(o.targets != "", sortIdx, o.reverse, o.interval, source, colorTopStyles())
		if o.once {
			m.styles = plainTopStyles()
			return printTopFrame(c.out, m, src.frame(ctx))
		}
		return runTopLive(ctx, src, m, o.interval, tea.WithOutput(c.out.w))
	}
}

// printTopFrame writes one sorted frame: plain text, or the frame as JSON.
// A single agent that could not be read is an error (exit code 1) after
// its frame; a fleet's down agents are rows of the frame.
func printTopFrame(p *printer, m topModel, f topFrame) error {
	next, _ := m.Update(topFrameMsg{frame: f})
	m = next.(topModel)
	if p.json {
		b, err := json.MarshalIndent(m.frame, "", "  ")
		if err != nil {
			return fmt.Errorf("encode frame: %w", err)
		}
		if _, err := fmt.Fprintf(p.w, "%s\n", b); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	} else if _, err := fmt.Fprintln(p.w, m.render(false)); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if !f.Fleet && len(f.Agents) == 1 && f.Agents[0].err != nil {
		return f.Agents[0].err
	}
	return nil
}

// runTopLive runs the live view until q, Ctrl-C or ctx ends. It owns the
// poller goroutine that feeds the program frames: the poller ends with the
// program, and runTopLive waits for it.
func runTopLive(ctx context.Context, src *topSource, m topModel, interval time.Duration, opts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)...)
	var wg sync.WaitGroup
	wg.Go(func() { src.poll(ctx, interval, func(f topFrame) { p.Send(topFrameMsg{frame: f}) }) })
	_, err := p.Run()
	cancel()
	wg.Wait()
	if errors.Is(err, tea.ErrInterrupted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // Ctrl-C as a signal, a cancelled ctx, or the end of --timeout: a clean end
	}
	if err != nil {
		return fmt.Errorf("top: %w", err)
	}
	return nil
}

// topSource reads the agents of a view, each within its own deadline and
// at most concurrency at a time.
type topSource struct {
	agents      []*agentSource
	fleet       bool
	timeout     time.Duration
	concurrency int
	close       func() // closes the clients' idle connections
}

// frame reads every agent once.
func (s *topSource) frame(ctx context.Context) topFrame {
	f := topFrame{Time: time.Now(), Fleet: s.fleet, Agents: make([]topAgent, len(s.agents))}
	sem := make(chan struct{}, s.concurrency)
	var wg sync.WaitGroup
	for i, a := range s.agents {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			actx, cancel := context.WithTimeout(ctx, s.timeout)
			defer cancel()
			f.Agents[i] = a.fetch(actx)
		})
	}
	wg.Wait()
	return f
}

// poll reads a frame every interval (from the start of one read to the
// start of the next; a read that takes longer delays the next) and hands
// it to send, until ctx ends.
func (s *topSource) poll(ctx context.Context, interval time.Duration, send func(topFrame)) {
	for {
		start := time.Now()
		f := s.frame(ctx)
		if ctx.Err() != nil {
			return
		}
		send(f)
		t := time.NewTimer(time.Until(start.Add(interval)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// newTopSource builds the agents top reads and names what the header
// shows: the agent's address, or the targets spec.
func newTopSource(ctx context.Context, c *call, fs *flag.FlagSet, o topOptions) (*topSource, string, error) {
	g := c.globals
	transport := newTopTransport()
	src := &topSource{fleet: o.targets != "", timeout: o.targetTimeout, concurrency: o.concurrency, close: transport.CloseIdleConnections}
	if o.targets == "" {
		metricsAddr := o.metricsAddr
		if metricsAddr == "" {
			metricsAddr = g.addr
		}
		base, err := baseURL(metricsAddr)
		if err != nil {
			return nil, "", err
		}
		a := &agentSource{addr: g.addr, client: c.client, detail: true,
			metrics: &metricsReader{client: tokenClient(transport, g.token), url: base + "/metrics"}}
		src.agents = []*agentSource{a}
		return src, g.addr, nil
	}
	targets, err := loadTopTargets(ctx, o.targets)
	if err != nil {
		transport.CloseIdleConnections()
		return nil, "", err
	}
	tokens := fleetTokens(g, fs, c.getenv)
	for _, t := range targets {
		base, err := targetBase(t)
		if err != nil {
			transport.CloseIdleConnections()
			return nil, "", usagef("--targets: rank %d: %v", t.Rank, err)
		}
		hc := tokenClient(transport, tokens.forAddr(t.Addr))
		rank := t.Rank
		src.agents = append(src.agents, &agentSource{
			addr: t.Addr, rank: &rank, labels: shownLabels(t.Labels),
			client:  procagentv1connect.NewProcAgentServiceClient(hc, base, protocolOptions(g.protocol)...),
			metrics: &metricsReader{client: hc, url: base + "/metrics"},
		})
	}
	return src, "fleet " + o.targets, nil
}

// newTopTransport is the HTTP transport of top's clients, shared by every
// agent: HTTP/2 with prior knowledge on http:// as newClient's, so that
// gRPC works on the agent's cleartext listener.
func newTopTransport() *http.Transport {
	var versions http.Protocols
	versions.SetHTTP2(true)
	versions.SetUnencryptedHTTP2(true)
	return &http.Transport{Protocols: &versions}
}

// tokenClient is an HTTP client over transport that sends token, if any.
func tokenClient(transport *http.Transport, token string) *http.Client {
	if token == "" {
		return &http.Client{Transport: transport}
	}
	return &http.Client{Transport: mesh.BearerTransport(token, transport)}
}

// protocolOptions are the Connect client options of an RPC protocol.
func protocolOptions(protocol string) []connect.ClientOption {
	switch protocol {
	case protocolGRPC:
		return []connect.ClientOption{connect.WithGRPC()}
	case protocolGRPCWeb:
		return []connect.ClientOption{connect.WithGRPCWeb()}
	}
	return nil
}

// topTokens decides which token each fleet target gets: a token the user
// gave (--token, PROCAGENT_TOKEN) goes to every target; the local agent's
// token file, found by itself, only to loopback targets, as for one agent.
type topTokens struct {
	explicit, local string
}

// fleetTokens sorts out where g's token came from. fs is top's FlagSet:
// a --token given after the command is seen there; one given before it
// that equals the local file's token counts as the local one.
func fleetTokens(g *globalFlags, fs *flag.FlagSet, getenv func(string) string) topTokens {
	local, err := localToken(getenv)
	if err != nil {
		local = ""
	}
	if g.token != "" && (flagGiven(fs, "token") || getenv(envToken) != "" || g.token != local) {
		return topTokens{explicit: g.token}
	}
	return topTokens{local: local}
}

// forAddr is the token to send to the agent at addr.
func (t topTokens) forAddr(addr string) string {
	switch {
	case t.explicit != "":
		return t.explicit
	case isLoopbackAddr(addr):
		return t.local
	}
	return ""
}
