package testenv

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1:port address that was free a moment ago: the port is found by
// listening on port 0 and closing the listener, so another process may still take it first.
func FreeAddr(t testing.TB) string {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("find a free port: close: %v", err)
	}
	return addr
}
