package ctl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"

	"connectrpc.com/connect"
)

// TestErrors checks the exit codes and messages of failed calls and bad
// command lines.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"unknown query ref", []string{"query", "nobody"}, exitError, "error: not_found: "},
		{"bad id", []string{"get", "Bad"}, exitError, "error: invalid_argument: "},
		{"bad id on create", []string{"create", "Bad", "echo"}, exitError, "error: invalid_argument: "},
		{"send to unknown id", []string{"send", "nobody", "1"}, exitError, "error: not_found: "},
		{"negative ttl", []string{"keepalive", "w1", "--ttl", "-1s"}, exitError, "error: invalid_argument: "},
		{"bad payload json", []string{"send", "w1", "{bad"}, exitUsage, "payload is not valid JSON"},
		{"bad params json", []string{"create", "w2", "echo", "--params", "[1]"}, exitUsage, "--params is not a JSON object"},
		{"unknown command", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"get", "w1", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{"unknown global flag", []string{"--bogus", "get", "w1"}, exitUsage, "flag provided but not defined: -bogus"},
		{"bad flag value", []string{"create", "w2", "echo", "--rank", "minus"}, exitUsage, `invalid value "minus"`},
		{"missing argument", []string{"create", "w2"}, exitUsage, "missing argument"},
		{"extra argument", []string{"get", "w1", "w2"}, exitUsage, `unexpected argument "w2"`},
		{"wait without min", []string{"wait", "w1"}, exitUsage, "--min is required"},
		{"wait bad status", []string{"wait", "w1", "--min", "sleepy"}, exitUsage, `status "sleepy": want one of NOT_EXIST, `},
		{"bad output", []string{"-o", "yaml", "list"}, exitUsage, `-o "yaml"`},
		{"bad protocol after command", []string{"list", "--protocol", "carrier-pigeon"}, exitUsage, `--protocol "carrier-pigeon"`},
		{"wait deadline", []string{"--timeout", "100ms", "wait", "w1", "--min", "stopped"}, exitError, "error: deadline_exceeded: "},
		{"wait deadline names the flag", []string{"--timeout", "100ms", "wait", "w1", "--min", "stopped"}, exitError, "--timeout D sets another"},
	}
	for _, protocol := range protocols {
		s := newServer(t)
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
				if tt.wantCode == exitUsage && !strings.Contains(r.stderr, "usage: agent ctl") {
					t.Errorf("stderr %q, want the usage", r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
			})
		}
	}
}

// TestUnreachable checks that an agent that is not there is an
// unavailable error.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"--addr", addr, "list"}, &stdout, &stderr, noEnv)
	if code != exitError || !strings.HasPrefix(stderr.String(), "error: unavailable: ") {
		t.Errorf("exit %d, stderr %q; want 1 and an unavailable error", code, stderr.String())
	}
}

// TestAgentWentAway checks which stopall failures count as the agent
// exiting after the call.
func TestAgentWentAway(t *testing.T) {
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
		if got := agentWentAway(tt.err); got != tt.want {
			t.Errorf("%s: agentWentAway(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
