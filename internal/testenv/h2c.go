package testenv

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// H2CServer is h served on 127.0.0.1 by a real in-process server that speaks
// HTTP/1.1 and unencrypted HTTP/2 on one listener, as `agent serve` does.
type H2CServer struct {
	// URL is the server's base URL, http://127.0.0.1:port.
	URL string
	// Addr is the server's host:port.
	Addr string
	// Client speaks HTTP/2 with prior knowledge, as gRPC clients do; it
	// also carries Connect and gRPC-Web.
	Client *http.Client
}

// NewH2CServer starts h and closes it, and the client's idle connections,
// when the test ends.
func NewH2CServer(t testing.TB, h http.Handler) *H2CServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	client := &http.Client{Transport: &http.Transport{Protocols: H2COnly()}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return &H2CServer{URL: srv.URL, Addr: srv.Listener.Addr().String(), Client: client}
}

// H2COnly is a client's protocol set for HTTP/2 with prior knowledge.
func H2COnly() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}
