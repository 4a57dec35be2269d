package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"connectrpc.com/connect"
)

// TestCtlErrors checks the exit codes and messages of failed calls and bad
// command lines.
func TestCtlErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"unknown query ref", []string{"query", "nobody"}, ctlExitError, "error: not_found: "},
		{"bad id", []string{"get", "Bad"}, ctlExitError, "error: invalid_argument: "},
		{"bad id on create", []string{"create", "Bad", "echo"}, ctlExitError, "error: invalid_argument: "},
		{"send to unknown id", []string{"send", "nobody", "1"}, ctlExitError, "error: not_found: "},
		{"negative ttl", []string{"keepalive", "w1", "--ttl", "-1s"}, ctlExitError, "error: invalid_argument: "},
		{"bad payload json", []string{"send", "w1", "{bad"}, ctlExitUsage, "payload is not valid JSON"},
		{"bad params json", []string{"create", "w2", "echo", "--params", "[1]"}, ctlExitUsage, "--params is not a JSON object"},
		{"unknown command", []string{"frobnicate"}, ctlExitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"get", "w1", "--bogus"}, ctlExitUsage, "flag provided but not defined: -bogus"},
		{"unknown global flag", []string{"--bogus", "get", "w1"}, ctlExitUsage, "flag provided but not defined: -bogus"},
		{"bad flag value", []string{"create", "w2", "echo", "--rank", "minus"}, ctlExitUsage, `invalid value "minus"`},
		{"missing argument", []string{"create", "w2"}, ctlExitUsage, "missing argument"},
		{"extra argument", []string{"get", "w1", "w2"}, ctlExitUsage, `unexpected argument "w2"`},
		{"wait without min", []string{"wait", "w1"}, ctlExitUsage, "--min is required"},
		{"wait bad status", []string{"wait", "w1", "--min", "sleepy"}, ctlExitUsage, `status "sleepy": want one of NOT_EXIST, `},
		{"bad output", []string{"-o", "yaml", "list"}, ctlExitUsage, `-o "yaml"`},
		{"bad protocol after command", []string{"list", "--protocol", "carrier-pigeon"}, ctlExitUsage, `--protocol "carrier-pigeon"`},
		{"wait deadline", []string{"--timeout", "100ms", "wait", "w1", "--min", "stopped"}, ctlExitError, "error: deadline_exceeded: "},
	}
	for _, protocol := range ctlProtocols {
		s := newCtlServer(t, nil)
		s.mustRun(t, protocol, "create", "w1", "echo")
		for _, tt := range tests {
			t.Run(tt.name+"/"+protocol, func(t *testing.T) {
				t.Parallel()
				r := s.run(t.Context(), protocol, tt.args...)
				if r.code != tt.wantCode {
					t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, tt.wantCode, r.stderr)
				}
				if !strings.Contains(r.stderr, tt.wantStderr) {
					t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.wantStderr)
				}
				if tt.wantCode == ctlExitUsage && !strings.Contains(r.stderr, "usage: agent ctl") {
					t.Errorf("stderr %q, want the usage", r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
			})
		}
	}
}

// TestCtlUnreachable checks that an agent that is not there is an
// unavailable error.
func TestCtlUnreachable(t *testing.T) {
	t.Parallel()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var stdout, stderr bytes.Buffer
	code := runCtlEnv(t.Context(), []string{"--addr", addr, "list"}, &stdout, &stderr, ctlNoEnv)
	if code != ctlExitError || !strings.HasPrefix(stderr.String(), "error: unavailable: ") {
		t.Errorf("exit %d, stderr %q; want 1 and an unavailable error", code, stderr.String())
	}
}

// TestCtlTokenAndEnv checks that the bearer token and the address come from
// flags or the environment.
func TestCtlTokenAndEnv(t *testing.T) {
	t.Parallel()
	const token = "s3cret"
	s := newCtlServer(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
	}{
		{"token flag", []string{"--addr", s.addr, "--token", token, "list"}, nil, ctlExitOK},
		{"token flag after command", []string{"list", "--addr", s.addr, "--token", token}, nil, ctlExitOK},
		{"token and addr from env", []string{"list"}, map[string]string{ctlEnvAddr: "http://" + s.addr, ctlEnvToken: token}, ctlExitOK},
		{"flag beats env", []string{"--token", token, "list"}, map[string]string{ctlEnvAddr: s.addr, ctlEnvToken: "wrong"}, ctlExitOK},
		{"no token", []string{"--addr", s.addr, "list"}, nil, ctlExitError},
		{"wrong token", []string{"--addr", s.addr, "--token", "wrong", "list"}, nil, ctlExitError},
	}
	for _, tt := range tests {
		for _, protocol := range ctlProtocols {
			t.Run(tt.name+"/"+protocol, func(t *testing.T) {
				t.Parallel()
				var stdout, stderr bytes.Buffer
				args := append([]string{"--protocol", protocol}, tt.args...)
				code := runCtlEnv(t.Context(), args, &stdout, &stderr, env(tt.env))
				if code != tt.wantCode {
					t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
				}
				if tt.wantCode == ctlExitError && !strings.Contains(stderr.String(), "error: unauthenticated: ") {
					t.Errorf("stderr %q, want an unauthenticated error", stderr.String())
				}
			})
		}
	}
}

// TestCtlHelp checks the help output and its exit codes.
func TestCtlHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{"help", []string{"help"}, ctlExitOK, ctlCommandNames(), ""},
		{"-h", []string{"-h"}, ctlExitOK, ctlCommandNames(), ""},
		{"--help", []string{"--help"}, ctlExitOK, []string{"usage: agent ctl", "-addr", "-timeout"}, ""},
		{"help command", []string{"help", "wait"}, ctlExitOK, []string{"usage: agent ctl wait ID --min STATUS", "-min", "-addr"}, ""},
		{"command -h", []string{"create", "-h"}, ctlExitOK, []string{"usage: agent ctl create ID TYPE", "-params", "-rank"}, ""},
		{"no command", nil, ctlExitUsage, nil, "missing command"},
		{"help unknown command", []string{"help", "nope"}, ctlExitUsage, nil, `unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runCtl(t.Context(), tt.args, &stdout, &stderr)
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

// ctlCommandNames lists the command names as the usage shows them.
func ctlCommandNames() []string {
	var names []string
	for _, c := range ctlCommands {
		names = append(names, "  "+c.name+" ")
	}
	return names
}

// TestCtlAgentWentAway checks which stopall failures count as the agent
// exiting after the call.
func TestCtlAgentWentAway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"eof", connect.NewError(connect.CodeUnavailable, io.EOF), true},
		{"unexpected eof", connect.NewError(connect.CodeUnavailable, fmt.Errorf("read body: %w", io.ErrUnexpectedEOF)), true},
		{"reset", connect.NewError(connect.CodeUnavailable, syscall.ECONNRESET), true},
		{"refused", connect.NewError(connect.CodeUnavailable, fmt.Errorf("dial: %w: %w", io.EOF, syscall.ECONNREFUSED)), false},
		{"other code", connect.NewError(connect.CodeInternal, io.EOF), false},
		{"other cause", connect.NewError(connect.CodeUnavailable, errors.New("no route")), false},
	}
	for _, tt := range tests {
		if got := ctlAgentWentAway(tt.err); got != tt.want {
			t.Errorf("%s: ctlAgentWentAway(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
