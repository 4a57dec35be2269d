package ctl

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"connectrpc.com/connect"

	"github.com/procagent/procagent/mesh"
	"github.com/procagent/procagent/proto/procagent/v1/procagentv1connect"
)

// RPC protocols `agent ctl --protocol` accepts.
const (
	protocolConnect = "connect"
	protocolGRPC    = "grpc"
	protocolGRPCWeb = "grpcweb"
)

// newClient returns a ProcAgentService client for g's address, protocol and
// token, and a function that closes its idle connections. HTTP/2 is spoken
// with prior knowledge on http:// (h2c), so gRPC works against the agent's
// cleartext listener; https:// uses HTTP/2 over TLS.
func newClient(g *globalFlags) (procagentv1connect.ProcAgentServiceClient, func(), error) {
	base, err := baseURL(g.addr)
	if err != nil {
		return nil, nil, err
	}
	var versions http.Protocols
	versions.SetHTTP2(true)
	versions.SetUnencryptedHTTP2(true)
	// No proxy: h2c with prior knowledge does not go through HTTP proxies.
	transport := &http.Transport{Protocols: &versions}
	var rt http.RoundTripper = transport
	if g.token != "" {
		rt = mesh.BearerTransport(g.token, transport)
	}
	var opts []connect.ClientOption
	switch g.protocol {
	case protocolGRPC:
		opts = append(opts, connect.WithGRPC())
	case protocolGRPCWeb:
		opts = append(opts, connect.WithGRPCWeb())
	}
	client := procagentv1connect.NewProcAgentServiceClient(&http.Client{Transport: rt}, base, opts...)
	return client, transport.CloseIdleConnections, nil
}

// baseURL turns an address into the agent's base URL: HOST:PORT gets
// http://, an http:// or https:// URL is kept. An empty or unspecified host
// (":9464", "0.0.0.0:9464", a listen address) means this machine.
func baseURL(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return "", usagef("--addr is empty")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", usagef("--addr %q: %v", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", usagef("--addr %q: scheme must be http or https", addr)
	}
	if u.Host == "" {
		return "", usagef("--addr %q: no host", addr)
	}
	switch u.Hostname() {
	case "", "0.0.0.0":
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	case "::":
		u.Host = net.JoinHostPort("::1", u.Port())
	}
	if u.Port() == "" {
		u.Host = strings.TrimSuffix(u.Host, ":")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
