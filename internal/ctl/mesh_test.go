package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/internal/testenv"
	"github.com/procagent/procagent/mesh"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// runMesh runs `agent ctl --protocol P mesh ARGS…` with env as the
// environment.
func runMesh(t *testing.T, protocol string, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), append([]string{"--protocol", protocol, "mesh"}, args...), &stdout, &stderr,
		func(k string) string { return env[k] })
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// writeInventory writes a file_sd YAML file listing addrs, one group, and
// returns its path.
func writeInventory(t *testing.T, addrs ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("- targets:\n")
	for _, a := range addrs {
		fmt.Fprintf(&b, "    - %s\n", a)
	}
	b.WriteString("  labels:\n    env: test\n")
	path := filepath.Join(t.TempDir(), "agents.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The mesh commands against real agents, over each protocol: two healthy
// ranks, a poisoned one and a closed port. Every command completes with
// every rank's status, exits 1 while some rank is below what it awaits,
// and writes nothing else on stderr than the one line saying why.
func TestMeshCommands(t *testing.T) {
	healthy := []*server{newServer(t), newServer(t)}
	poisoned := newServer(t)
	poisoned.failActor(t, "bad", "boom")
	down := testenv.FreeAddr(t)
	fleet := writeInventory(t, healthy[0].addr, healthy[1].addr, poisoned.addr, down)
	good := healthy[0].addr + "," + healthy[1].addr
	const (
		poison = `2 FAILED: proc is poisoned: actor "bad" failed: boom (1 failed)`
		gone   = "3 UNKNOWN: unreachable: connection refused"
	)
	for _, protocol := range protocols {
		t.Run(protocol, func(t *testing.T) {
			id := "w-" + protocol
			check := func(r result, code int, stdout, stderr string) {
				t.Helper()
				if r.code != code || !regexp.MustCompile(stdout).MatchString(r.stdout) || r.stderr != stderr {
					t.Errorf("exit %d, stdout %q, stderr %q;\nwant exit %d, stdout matching %q, stderr %q", r.code, r.stdout, r.stderr, code, stdout, stderr)
				}
			}
			check(runMesh(t, protocol, nil, "create", id, "echo", "--targets", fleet), exitError,
				`^ranks 0–1 (RUNNING|INITIALIZING) · `+regexp.QuoteMeta(poison+" · "+gone)+"\n$",
				"agent ctl: 2 of 4 ranks not created: 1 FAILED, 1 UNKNOWN\n")
			check(runMesh(t, protocol, nil, "wait", id, "--min", "RUNNING", "--targets", fleet), exitError,
				"^"+regexp.QuoteMeta("ranks 0–1 RUNNING · "+poison+" · "+gone+"\n")+"$",
				"agent ctl: 2 of 4 ranks below RUNNING: 1 FAILED, 1 UNKNOWN\n")
			check(runMesh(t, protocol, map[string]string{envTargets: good}, "wait", id, "--min", "running"), exitOK,
				"^ranks 0–1 RUNNING\n$", "")
			check(runMesh(t, protocol, nil, "status", id, "--targets", healthy[1].addr), exitOK, "^rank 0 RUNNING\n$", "")

			r := runMesh(t, protocol, nil, "-o", "json", "status", id, "--targets", fleet)
			var doc meshJSON
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != exitError ||
				r.stderr != "agent ctl: 2 of 4 ranks failed or did not answer: 1 FAILED, 1 UNKNOWN\n" {
				t.Fatalf("status -o json: exit %d, %v, stderr %q:\n%s", r.code, err, r.stderr, r.stdout)
			}
			want := meshJSON{Command: "status", ID: id, MinStatus: "STATUS_NOT_EXIST", Ranks: 4, Below: 2,
				Overlay: []meshRunJSON{{0, 2, "STATUS_RUNNING"}, {2, 3, "STATUS_FAILED"}, {3, 4, "STATUS_UNKNOWN"}},
				Detail: []meshRankJSON{
					{0, healthy[0].addr, "STATUS_RUNNING", ""}, {1, healthy[1].addr, "STATUS_RUNNING", ""},
					{2, poisoned.addr, "STATUS_FAILED", strings.TrimPrefix(poison, "2 FAILED: ")},
					{3, down, "STATUS_UNKNOWN", "unreachable: connection refused"},
				}}
			if diff := cmp.Diff(want, doc); diff != "" {
				t.Errorf("status -o json (-want +got):\n%s", diff)
			}

			r = runMesh(t, protocol, nil, "list", "--targets", fleet)
			for _, row := range []string{
				`bad\s+fail\s+0–1 NOT_EXIST · 2 FAILED · 3 UNKNOWN\n`,
				regexp.QuoteMeta(id) + `\s+echo\s+0–1 RUNNING · 2 FAILED · 3 UNKNOWN\n`,
				"did not answer: " + regexp.QuoteMeta("rank "+gone) + "\n$",
			} {
				if !regexp.MustCompile(row).MatchString(r.stdout) {
					t.Errorf("list lacks %q:\n%s", row, r.stdout)
				}
			}
			if r.code != exitError || r.stderr != "agent ctl: 1 of 4 ranks did not answer: 1 UNKNOWN\n" {
				t.Errorf("list: exit %d, stderr %q", r.code, r.stderr)
			}

			check(runMesh(t, protocol, nil, "stop", id, "--reason", "test", "--targets", good), exitOK,
				"^ranks 0–1 (STOPPING|STOPPED)\n$", "")
			check(runMesh(t, protocol, nil, "wait", id, "--min", "STOPPED", "--targets", good), exitOK,
				"^ranks 0–1 STOPPED\n$", "")
		})
	}
	check := runMesh(t, protocolConnect, nil, "stopall", "--targets", good+","+down)
	if want := "ranks 0–1 STOPPED: stopped 0 actors · " + strings.Replace(gone, "3", "2", 1) + "\n"; check.stdout != want || check.code != exitError ||
		check.stderr != "agent ctl: 1 of 3 ranks did not stop cleanly: 1 UNKNOWN\n" {
		t.Errorf("stopall: exit %d, stdout %q, stderr %q; want stdout %q", check.code, check.stdout, check.stderr, want)
	}
}

// A fleet token given with --token or PROCAGENT_TOKEN goes to every
// target.
func TestMeshToken(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	record := withMiddleware(func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Header.Get("Authorization"))
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	a, b := newServer(t, record), newServer(t, record)
	targets := a.addr + "," + b.addr
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag after", nil, []string{"status", "w", "--targets", targets, "--token", "s3cret"}},
		{"flag before", nil, []string{"--token", "s3cret", "status", "w", "--targets", targets}},
		{"env", map[string]string{envToken: "s3cret"}, []string{"status", "w", "--targets", targets}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			if r := runMesh(t, protocolConnect, tc.env, tc.args...); r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]string{"Bearer s3cret", "Bearer s3cret"}, seen); diff != "" {
				t.Errorf("Authorization headers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMeshUsage(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yml")
	if err := os.WriteFile(empty, []byte("[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const tg = "127.0.0.1:1"
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"no subcommand", nil, "missing argument"},
		{"unknown subcommand", []string{"launch", "--targets", tg}, `unknown mesh command "launch"`},
		{"create without type", []string{"create", "w", "--targets", tg}, "mesh create takes ID TYPE"},
		{"list with an id", []string{"list", "w", "--targets", tg}, "mesh list takes no arguments"},
		{"wait without --min", []string{"wait", "w", "--targets", tg}, "--min is required"},
		{"wait with a bad status", []string{"wait", "w", "--min", "DONE", "--targets", tg}, `status "DONE"`},
		{"--min on create", []string{"create", "w", "echo", "--min", "RUNNING", "--targets", tg}, "--min does not apply to mesh create"},
		{"--reason on status", []string{"status", "w", "--reason", "x", "--targets", tg}, "--reason does not apply to mesh status"},
		{"params not JSON", []string{"create", "w", "echo", "--params", "{", "--targets", tg}, "--params is not a JSON object"},
		{"no targets", []string{"status", "w"}, "--targets is required"},
		{"missing inventory", []string{"status", "w", "--targets", filepath.Join(dir, "agents.yml")}, "no such file"},
		{"empty inventory", []string{"status", "w", "--targets", empty}, "no targets"},
		{"duplicate target", []string{"status", "w", "--targets", tg + "," + tg}, "duplicate target"},
		{"no concurrency", []string{"status", "w", "--targets", tg, "--concurrency", "0"}, "concurrency 0"},
		{"no rank timeout", []string{"status", "w", "--targets", tg, "--rank-timeout", "0s"}, "rank timeout 0s"},
		{"bad scheme", []string{"status", "w", "--targets", tg, "--scheme", "ftp"}, `scheme "ftp"`},
		{"cert without key", []string{"status", "w", "--targets", tg, "--cert-file", empty}, "--cert-file and --key-file go together"},
		{"CA file without PEM", []string{"status", "w", "--targets", tg, "--ca-file", empty}, "no PEM certificate"},
		{"missing CA file", []string{"status", "w", "--targets", tg, "--ca-file", filepath.Join(dir, "ca.pem")}, "--ca-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runMesh(t, protocolConnect, nil, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.says) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d saying %q", r.code, r.stdout, r.stderr, exitUsage, tc.says)
			}
		})
	}
}

func TestMeshFormatSpans(t *testing.T) {
	span := func(first, last uint64, s procagentv1.Status, reason string) mesh.Span {
		return mesh.Span{First: first, Last: last, Status: s, Reason: reason}
	}
	for _, tc := range []struct {
		name  string
		spans []mesh.Span
		want  []string
	}{
		{"one rank", []mesh.Span{span(4, 4, procagentv1.Status_STATUS_RUNNING, "")}, []string{"rank 4 RUNNING"}},
		{"the issue's example", []mesh.Span{
			span(0, 997, procagentv1.Status_STATUS_RUNNING, ""),
			span(998, 998, procagentv1.Status_STATUS_FAILED, "exit status 3"),
			span(999, 999, procagentv1.Status_STATUS_TIMEOUT, ""),
		}, []string{"ranks 0–997 RUNNING · 998 FAILED: exit status 3 · 999 TIMEOUT"}},
		{"a reason on many lines", []mesh.Span{span(0, 1, procagentv1.Status_STATUS_FAILED, "line one\n  line two")},
			[]string{"ranks 0–1 FAILED: line one line two"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, formatSpans(tc.spans)); diff != "" {
				t.Errorf("formatSpans (-want +got):\n%s", diff)
			}
		})
	}
	var many []mesh.Span
	for i := range uint64(meshOneLine + 1) {
		s := procagentv1.Status_STATUS_RUNNING
		if i%2 == 1 {
			s = procagentv1.Status_STATUS_FAILED
		}
		many = append(many, span(i, i, s, ""))
	}
	got := formatSpans(many)
	if len(got) != meshOneLine+2 || got[0] != "ranks:" || got[1] != "  0 RUNNING" || got[2] != "  1 FAILED" {
		t.Errorf("formatSpans of %d spans = %q, want one per line", len(many), got)
	}
}

// The bar is drawn only on a terminal: a buffer gets none, and its text
// counts the ranks.
func TestMeshProgress(t *testing.T) {
	var buf bytes.Buffer
	if p := newMeshProgress(&buf, "mesh create"); p != nil {
		p.stop()
		t.Fatal("a progress bar on a buffer")
	}
	if got, want := progressLine("mesh create", 512, 1024), "mesh create [##########··········] 512/1024 ranks"; got != want {
		t.Errorf("progressLine = %q, want %q", got, want)
	}
}
