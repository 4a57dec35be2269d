package mesh

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/internal/testenv"
)

// tlsProxy is a TLS-terminating reverse proxy in front of an agent, as
// the README's "Beyond loopback" puts one: HTTP/2 over TLS outside, h2c
// to the agent. It counts the TLS connections it accepted.
type tlsProxy struct {
	Addr  string
	Cert  *x509.Certificate
	Conns *atomic.Int64
}

func startTLSProxy(t *testing.T, agent *testAgent) *tlsProxy {
	t.Helper()
	backend := &url.URL{Scheme: "http", Host: agent.Addr}
	transport := &http.Transport{Protocols: testenv.H2COnly()}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(backend) },
		Transport: transport,
	}
	srv := httptest.NewUnstartedServer(proxy)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes the test fails on purpose
	conns := new(atomic.Int64)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	return &tlsProxy{Addr: srv.Listener.Addr().String(), Cert: srv.Certificate(), Conns: conns}
}

// https targets: through a TLS proxy in front of each agent, over Connect
// and gRPC, one TLS connection per target reused across casts; without the
// proxy's CA the rank reads UNKNOWN and says why. The __scheme__ label
// picks https for one target of a fleet whose default is http.
func TestFleetTLS(t *testing.T) {
	agents := startAgents(t, 2, nil)
	proxies := []*tlsProxy{startTLSProxy(t, agents[0]), startTLSProxy(t, agents[1])}
	ctx := t.Context()
	for _, protocol := range []struct {
		name string
		opts []connect.ClientOption
	}{{"connect", nil}, {"grpc", []connect.ClientOption{connect.WithGRPC()}}} {
		t.Run(protocol.name, func(t *testing.T) {
			ts := []Target{{Rank: 0, Addr: proxies[0].Addr}, {Rank: 1, Addr: proxies[1].Addr}}
			f := newFleet(t, ts, WithScheme(SchemeHTTPS), WithClientOptions(protocol.opts...),
				WithTLSConfig(&tls.Config{RootCAs: caPool(proxies...), MinVersion: tls.VersionTLS12}))
			id := "tls-" + protocol.name
			f.Create(ctx, id, echoSpec)
			res, err := f.Wait(ctx, id, running)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Overlay{{Start: 0, End: 2, Status: running}}, res.Overlay); diff != "" {
				t.Errorf("overlay (-want +got):\n%s", diff)
			}
		})
	}
	for i, p := range proxies {
		if n := p.Conns.Load(); n != 2 {
			t.Errorf("proxy %d accepted %d TLS connections for two fleets' casts, want 2 (one per fleet)", i, n)
		}
	}

	f := newFleet(t, []Target{{Rank: 0, Addr: proxies[0].Addr}}, WithScheme(SchemeHTTPS))
	res := f.Status(ctx, "tls-connect")
	checkRanks(t, "without the CA", res.Ranks, []rankView{{0, unknown, "unreachable: "}})
	if !strings.Contains(res.Ranks[0].Reason, "certificate") {
		t.Errorf("reason %q does not name the certificate", res.Ranks[0].Reason)
	}

	f = newFleet(t, []Target{
		{Rank: 0, Addr: agents[0].Addr},
		{Rank: 1, Addr: proxies[1].Addr, Labels: map[string]string{SchemeLabel: SchemeHTTPS}},
	}, WithTLSConfig(&tls.Config{RootCAs: caPool(proxies...), MinVersion: tls.VersionTLS12}))
	if got := f.Status(ctx, "tls-connect").Overlay; !cmp.Equal(got, Overlay{{Start: 0, End: 2, Status: running}}) {
		t.Errorf("mixed fleet overlay = %v, want RUNNING at 0 and 1", got)
	}
}

// caPool trusts the proxies' certificates.
func caPool(proxies ...*tlsProxy) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, p := range proxies {
		pool.AddCert(p.Cert)
	}
	return pool
}
