package main

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/procagent/procagent/procagent"
)

// loadToken reads the auth token. Secure by default: listening on anything
// but loopback without a token is refused.
func loadToken(cfg procagent.Config) (string, error) {
	if cfg.AuthTokenFile == "" {
		for _, addr := range []string{cfg.Addr, cfg.MetricsAddr} {
			if addr != "" && !isLoopback(addr) {
				return "", fmt.Errorf("refusing to listen on %s without a token: set auth_token_file (flag --auth-token-file)", addr)
			}
		}
		return "", nil
	}
	b, err := os.ReadFile(cfg.AuthTokenFile)
	if err != nil {
		return "", fmt.Errorf("read auth token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("auth token file %s is empty", cfg.AuthTokenFile)
	}
	return tok, nil
}

// isLoopback reports whether addr's host is localhost or a loopback IP.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// requireToken rejects requests without "Authorization: Bearer <token>".
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthenticated: missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
