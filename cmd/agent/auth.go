package main

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/procagent/procagent/procagent"
	"github.com/procagent/procagent/rpcserver"
)

// authConfig is how the listeners authenticate callers: with the bearer
// token read from (or created in) file, or not at all when token is empty
// (auth=none).
type authConfig struct {
	token string
	file  string
}

// loadAuth resolves the auth settings: with auth=token (the default) it
// reads the token file, creating it at first start, and prints its path on
// stdout; with auth=none it warns, and refuses any listener that is not on
// loopback.
func loadAuth(cfg procagent.Config, log *slog.Logger, stdout io.Writer) (authConfig, error) {
	if cfg.Auth == "none" {
		for _, addr := range []string{cfg.Addr, cfg.MetricsAddr} {
			if addr != "" && !isLoopback(addr) {
				return authConfig{}, fmt.Errorf("refusing to listen on %s with auth=none: anyone who reaches it could run programs as this user", addr)
			}
		}
		log.Warn("authentication is off (auth=none): every local user can create actors, run programs as this user, send and profile")
		return authConfig{}, nil
	}
	path, err := tokenFile(cfg)
	if err != nil {
		return authConfig{}, err
	}
	tok, created, err := loadOrCreateToken(path)
	if err != nil {
		return authConfig{}, fmt.Errorf("auth token: %w", err)
	}
	if created {
		log.Info("auth token created", "file", path)
	}
	fmt.Fprintf(stdout, "procagent token file %s\n", path)
	return authConfig{token: tok, file: path}, nil
}

// openReads resolves auth_open_reads for a listener on addr: the read-only
// RPCs and /metrics need no token when on, or when auto and addr is on
// loopback.
func openReads(cfg procagent.Config, addr string) bool {
	switch cfg.AuthOpenReads {
	case "on":
		return true
	case "auto":
		return isLoopback(addr)
	}
	return false
}

// isLoopback reports whether addr's host is localhost or a loopback IP.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard asks every request for the bearer token, except, when reads are
// open, those that only read (readOnly). Without a token (auth=none) it
// lets everything through. A refused request's connection is closed after
// the 401 (HTTP/2: a GOAWAY), so a flood of unauthenticated connections
// does not stay open.
func (a authConfig) guard(reads bool, next http.Handler) http.Handler {
	if a.token == "" {
		return next
	}
	want := []byte(a.token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reads && readOnly(r) {
			next.ServeHTTP(w, r)
			return
		}
		tok, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(tok), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="procagent"`)
			w.Header().Set("Connection", "close")
			http.Error(w, "unauthenticated: send Authorization: Bearer <token>, the token in the file `agent serve` printed (agent ctl on the agent's machine reads it itself)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the credentials of an Authorization header of the
// Bearer scheme, whose name is case-insensitive like every HTTP
// authentication scheme's.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// readOnly reports whether r only reads the agent's state: a GET of
// /metrics, or an RPC the rpcserver table marks read-only. /debug/pprof
// reads the process and is never read-only.
func readOnly(r *http.Request) bool {
	if r.URL.Path == "/metrics" {
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	}
	return rpcserver.ProcedureAccess(r.URL.Path) == rpcserver.AccessRead
}
