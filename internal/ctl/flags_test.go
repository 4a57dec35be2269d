package ctl

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantRank uint64
		wantWait bool
	}{
		{"flags last", []string{"w1", "echo", "--rank", "3"}, []string{"w1", "echo"}, 3, false},
		{"flags first", []string{"--rank=3", "w1", "echo"}, []string{"w1", "echo"}, 3, false},
		{"flags between", []string{"w1", "-rank", "3", "echo", "--wait"}, []string{"w1", "echo"}, 3, true},
		{"no flags", []string{"w1"}, []string{"w1"}, 0, false},
		{"nothing", nil, nil, 0, false},
		{"dash dash", []string{"w1", "--wait", "--", "-5", "--rank"}, []string{"w1", "-5", "--rank"}, 0, true},
		{"lone dash is positional", []string{"-", "--rank", "1"}, []string{"-"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			rank := fs.Uint64("rank", 0, "")
			wait := fs.Bool("wait", false, "")
			pos, err := parseInterleaved(fs, tt.args)
			if err != nil {
				t.Fatalf("parseInterleaved: %v", err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
				t.Errorf("positionals (-want +got):\n%s", diff)
			}
			if *rank != tt.wantRank || *wait != tt.wantWait {
				t.Errorf("rank %d wait %v, want %d %v", *rank, *wait, tt.wantRank, tt.wantWait)
			}
		})
	}
}

func TestTokenPickup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "procagent", "token")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		addr    string
		want    string
		wantErr string
	}{
		{"runtime dir", map[string]string{"XDG_RUNTIME_DIR": dir}, "127.0.0.1:9464", "tok", ""},
		{"localhost", map[string]string{"XDG_RUNTIME_DIR": dir}, "http://localhost:1", "tok", ""},
		{"never sent away", map[string]string{"XDG_RUNTIME_DIR": dir}, "10.0.0.1:9464", "", ""},
		{"token file variable", map[string]string{envTokenFile: file}, "[::1]:9464", "tok", ""},
		{"environment wins", map[string]string{"XDG_RUNTIME_DIR": dir, envToken: "env"}, "127.0.0.1:9464", "env", ""},
		{"no file", map[string]string{"XDG_RUNTIME_DIR": t.TempDir()}, "127.0.0.1:9464", "", ""},
		{"no home", map[string]string{}, "127.0.0.1:9464", "", ""},
		{"state dir", map[string]string{"XDG_STATE_HOME": dir}, "127.0.0.1:9464", "tok", ""},
	}
	for _, tt := range tests {
		g := newGlobalFlags(env(tt.env))
		g.addr = tt.addr
		err := g.finish(env(tt.env))
		if err != nil || g.token != tt.want {
			t.Errorf("%s: token %q, err %v; want %q", tt.name, g.token, err, tt.want)
		}
	}
	open := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(open, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	g := newGlobalFlags(env(nil))
	if err := g.finish(env(map[string]string{envTokenFile: open})); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable token file: %v, want a refusal", err)
	}
}

func TestDefaultTokenFile(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1", "HOME": "/h"}, "/run/user/1/procagent/token"},
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/procagent/token"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/procagent/token"},
		{map[string]string{"XDG_RUNTIME_DIR": "relative", "HOME": "/h"}, "/h/.local/state/procagent/token"},
	} {
		got, err := DefaultTokenFile(env(tt.env))
		if err != nil || got != tt.want {
			t.Errorf("DefaultTokenFile(%v) = %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
	if _, err := DefaultTokenFile(env(nil)); err == nil {
		t.Error("no home: want an error")
	}
}
