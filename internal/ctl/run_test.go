package ctl

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestTokenAndEnv checks that the bearer token and the address come from
// flags or the environment.
func TestTokenAndEnv(t *testing.T) {
	t.Parallel()
	const token = "s3cret"
	s := newServer(t, withMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}))
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
	}{
		{"token flag", []string{"--addr", s.addr, "--token", token, "list"}, nil, exitOK},
		{"token flag after command", []string{"list", "--addr", s.addr, "--token", token}, nil, exitOK},
		{"token and addr from env", []string{"list"}, map[string]string{envAddr: "http://" + s.addr, envToken: token}, exitOK},
		{"flag beats env", []string{"--token", token, "list"}, map[string]string{envAddr: s.addr, envToken: "wrong"}, exitOK},
		{"no token", []string{"--addr", s.addr, "list"}, nil, exitError},
		{"wrong token", []string{"--addr", s.addr, "--token", "wrong", "list"}, nil, exitError},
	}
	for _, tt := range tests {
		for _, protocol := range protocols {
			t.Run(tt.name+"/"+protocol, func(t *testing.T) {
				t.Parallel()
				var stdout, stderr bytes.Buffer
				args := append([]string{"--protocol", protocol}, tt.args...)
				code := Run(t.Context(), args, &stdout, &stderr, env(tt.env))
				if code != tt.wantCode {
					t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
				}
				if tt.wantCode == exitError && !strings.Contains(stderr.String(), "error: unauthenticated: ") {
					t.Errorf("stderr %q, want an unauthenticated error", stderr.String())
				}
			})
		}
	}
}

// TestHelp checks the help output and its exit codes.
func TestHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{"help", []string{"help"}, exitOK, commandNames(), ""},
		{"-h", []string{"-h"}, exitOK, commandNames(), ""},
		{"--help", []string{"--help"}, exitOK, []string{"usage: agent ctl", "-addr", "-timeout"}, ""},
		{"help command", []string{"help", "wait"}, exitOK, []string{"usage: agent ctl wait ID --min STATUS", "-min", "-addr"}, ""},
		{"command -h", []string{"create", "-h"}, exitOK, []string{"usage: agent ctl create ID TYPE", "-params", "-rank"}, ""},
		{"no command", nil, exitUsage, nil, "missing command"},
		{"help unknown command", []string{"help", "nope"}, exitUsage, nil, `unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := Run(t.Context(), tt.args, &stdout, &stderr, noEnv)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d", code, tt.wantCode)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// commandNames lists the command names as the usage shows them.
func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, "  "+c.name+" ")
	}
	return names
}
