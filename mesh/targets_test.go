package mesh

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fiveTargets is what testdata/agents.yml and agents.json list.
var fiveTargets = []Target{
	{Rank: 0, Addr: "10.0.0.1:9464", Labels: map[string]string{"env": "prod"}},
	{Rank: 1, Addr: "10.0.0.2:9464", Labels: map[string]string{"env": "prod"}},
	{Rank: 2, Addr: "[::1]:9464"},
	{Rank: 3, Addr: "worker-3.example:9464"},
	{Rank: 7, Addr: "10.0.0.9:9464", Labels: map[string]string{SchemeLabel: "https"}},
}

func TestLoadTargetsFiles(t *testing.T) {
	for _, name := range []string{"agents.yml", "agents.json"} {
		t.Run(name, func(t *testing.T) {
			got, err := LoadTargets(t.Context(), filepath.Join("testdata", name), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fiveTargets, got); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadTargetsPrometheusFile reads the file_sd file the README shows for
// Prometheus: the mesh commands read the same inventory.
func TestLoadTargetsPrometheusFile(t *testing.T) {
	got, err := LoadTargets(t.Context(), filepath.Join("..", "dashboards", "prometheus", "targets", "agents.yml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{Rank: 0, Addr: "127.0.0.1:9464", Labels: map[string]string{"env": "dev"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestLoadTargetsList(t *testing.T) {
	got, err := LoadTargets(t.Context(), " 127.0.0.1:9001, localhost:9002 ,[::1]:9003", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{Rank: 0, Addr: "127.0.0.1:9001"}, {Rank: 1, Addr: "localhost:9002"}, {Rank: 2, Addr: "[::1]:9003"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestLoadTargetsHTTPSD(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "agents.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sd":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		case "/empty":
			_, _ = w.Write([]byte("[]"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	got, err := LoadTargets(t.Context(), srv.URL+"/sd", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fiveTargets, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if _, err := LoadTargets(t.Context(), srv.URL+"/missing", srv.Client()); !errors.Is(err, ErrInventory) || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404: got %v, want ErrInventory naming 404", err)
	}
	if _, err := LoadTargets(t.Context(), srv.URL+"/empty", srv.Client()); !errors.Is(err, ErrNoTargets) {
		t.Errorf("an empty answer: got %v, want ErrNoTargets", err)
	}
	srv.CloseClientConnections()
}

func TestLoadTargetsErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		spec string
		want error
		says string
	}{
		{"empty spec", "  ", ErrNoTargets, "empty"},
		{"empty file", file("empty.yml", "# nothing\n"), ErrNoTargets, "no targets"},
		{"empty list of groups", file("none.json", "[]"), ErrNoTargets, "no targets"},
		{"groups without targets", file("bare.yml", "- labels: {env: x}\n"), ErrNoTargets, "no targets"},
		{"missing file", filepath.Join(dir, "agents.yml"), ErrInvalidTarget, "no such file"},
		{"list with an empty entry", "127.0.0.1:1,,127.0.0.1:2", ErrInvalidTarget, "entry 1"},
		{"list entry without port", "127.0.0.1:1,host", ErrInvalidTarget, `"host"`},
		{"URL in a list", "127.0.0.1:1,http://h:2", ErrInvalidTarget, "http://h:2"},
		{"port out of range", "h:70000", ErrInvalidTarget, "70000"},
		{"no host", ":9464", ErrInvalidTarget, "no host"},
		{"bad address in a file", file("bad.yml", "- targets: [a:1, 'b c:2']\n"), ErrInvalidTarget, "b c:2"},
		{"duplicate rank by label", file("duprank.yml", "- targets: [a:1, b:1]\n- targets: [c:1]\n  labels: {rank: 1}\n"), ErrDuplicateTarget, "rank 1"},
		{"duplicate address", "a:1,b:1,a:1", ErrDuplicateTarget, "a:1"},
		{"rank label on many targets", file("many.yml", "- targets: [a:1, b:1]\n  labels: {rank: 4}\n"), ErrInvalidTarget, "2 targets"},
		{"rank label not a number", file("nan.yml", "- targets: [a:1]\n  labels: {rank: first}\n"), ErrInvalidTarget, `"first"`},
		{"rank label negative", file("neg.json", `[{"targets":["a:1"],"labels":{"rank":"-1"}}]`), ErrInvalidTarget, `"-1"`},
		{"rank label too large", file("max.yml", "- targets: [a:1]\n  labels: {rank: 18446744073709551615}\n"), ErrInvalidTarget, "not a rank"},
		{"bad scheme", file("scheme.yml", "- targets: [a:1]\n  labels: {__scheme__: ftp}\n"), ErrInvalidTarget, "ftp"},
		{"unknown field", file("field.yml", "- targets: [a:1]\n  label: {env: x}\n"), ErrInventory, "label"},
		{"not YAML", file("junk.yaml", "targets: [\n"), ErrInventory, "YAML"},
		{"not JSON", file("junk.json", "{"), ErrInventory, "JSON"},
		{"a directory", dir, ErrInventory, "directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadTargets(t.Context(), tc.spec, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("LoadTargets(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}
