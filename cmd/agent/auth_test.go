package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"  Bearer   abc  ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"", "", false},
		{"Bearerabc", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	a := authConfig{token: "s3cret"}
	tests := []struct {
		name   string
		reads  bool
		method string
		path   string
		auth   string
		want   int
	}{
		{"write without token", true, http.MethodPost, "/procagent.v1.ProcAgentService/CreateOrUpdate", "", http.StatusUnauthorized},
		{"write with wrong token", true, http.MethodPost, "/procagent.v1.ProcAgentService/Send", "Bearer nope", http.StatusUnauthorized},
		{"write with token", true, http.MethodPost, "/procagent.v1.ProcAgentService/Send", "Bearer s3cret", http.StatusOK},
		{"scheme in lower case", true, http.MethodPost, "/procagent.v1.ProcAgentService/Stop", "bearer s3cret", http.StatusOK},
		{"open read", true, http.MethodPost, "/procagent.v1.ProcAgentService/List", "", http.StatusOK},
		{"closed read", false, http.MethodPost, "/procagent.v1.ProcAgentService/List", "", http.StatusUnauthorized},
		{"closed read with token", false, http.MethodPost, "/procagent.v1.ProcAgentService/List", "Bearer s3cret", http.StatusOK},
		{"metrics open", true, http.MethodGet, "/metrics", "", http.StatusOK},
		{"metrics closed", false, http.MethodGet, "/metrics", "", http.StatusUnauthorized},
		{"pprof is a write", true, http.MethodGet, "/debug/pprof/heap", "", http.StatusUnauthorized},
		{"health open", true, http.MethodPost, "/grpc.health.v1.Health/Check", "", http.StatusOK},
		{"unknown path guarded", true, http.MethodGet, "/nope", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.path, http.NoBody)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		a.guard(tt.reads, ok).ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: HTTP %d, want %d", tt.name, rec.Code, tt.want)
		}
		if rec.Code == http.StatusUnauthorized && (rec.Header().Get("Connection") != "close" || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer")) {
			t.Errorf("%s: a 401 must close the connection and name the scheme: %v", tt.name, rec.Header())
		}
	}
	rec := httptest.NewRecorder()
	authConfig{}.guard(false, ok).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/procagent.v1.ProcAgentService/Send", http.NoBody))
	if rec.Code != http.StatusOK {
		t.Errorf("auth=none: HTTP %d", rec.Code)
	}
}

func TestTokenFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "procagent", "token")
	tok, created, err := loadOrCreateToken(path)
	if err != nil || !created || len(tok) < 40 {
		t.Fatalf("first start: %q %v %v", tok, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("token dir mode %v, %v; want 0700", di.Mode(), err)
	}
	again, created, err := loadOrCreateToken(path)
	if err != nil || created || again != tok {
		t.Fatalf("second start: %q %v %v; want the same token", again, created, err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateToken(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a group-readable token file: %v, want a refusal saying chmod 600", err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateToken(path); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("an empty token file: %v", err)
	}
}

// Agents starting together agree on one token.
func TestTokenFileRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	const n = 16
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, _, err := loadOrCreateToken(path)
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range toks {
		if tok != toks[0] {
			t.Fatalf("tokens differ: %q", toks)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".token-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}
