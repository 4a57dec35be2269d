package ctl

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procagent/procagent/internal/testenv"
)

// testdata/top_metrics.prom is a real agent's /metrics (families other
// than procagent_*, process_*, target_info and one Go summary cut out) with
// three process-backed actors' memory and two queued sleep actors.
func TestTopParseMetrics(t *testing.T) {
	f, err := os.Open("testdata/top_metrics.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := parseMetrics(f)
	if err != nil {
		t.Fatal(err)
	}
	want := &agentMetrics{
		version: "dev",
		queue:   map[string]uint64{"p2": 0, "py1": 0, "s1": 0, "s2": 0, "s3": 3, "s4": 1, "s5": 0, "w1": 0},
		mem: map[string]procMemory{
			"":    {pid: 633, rss: 26226688, vm: 1771298816},
			"p2":  {pid: 683, rss: 1761280, vm: 2990080},
			"py1": {pid: 704, rss: 3264512, vm: 4464640},
		},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(agentMetrics{}, procMemory{})); diff != "" {
		t.Errorf("parseMetrics (-want +got):\n%s", diff)
	}
}

func TestTopParseMetricsEdges(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *agentMetrics
		wantErr bool
	}{
		{name: "empty", in: "", want: &agentMetrics{queue: map[string]uint64{}, mem: map[string]procMemory{}}},
		{name: "other series only", in: "# TYPE up gauge\nup 1\n", want: &agentMetrics{queue: map[string]uint64{}, mem: map[string]procMemory{}}},
		{
			name: "omitted, untyped, negative",
			in: "procagent_actor_queue_depth_omitted 7\n" +
				"# TYPE procagent_actor_queue_depth gauge\nprocagent_actor_queue_depth{actor=\"a\"} -1\nprocagent_actor_queue_depth{actor=\"b\"} 2\n",
			want: &agentMetrics{queue: map[string]uint64{"a": 0, "b": 2}, queueOmitted: 7, mem: map[string]procMemory{}},
		},
		{name: "not an exposition", in: "procagent_build_info{version=\"dev\" 1\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetrics(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseMetrics error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(agentMetrics{}, procMemory{})); diff != "" {
				t.Errorf("parseMetrics (-want +got):\n%s", diff)
			}
		})
	}
}

// The reader sends the token, reads a 200, and tells a 404 (no /metrics
// on this listener) from other failures.
func TestTopMetricsReader(t *testing.T) {
	exposition, err := os.ReadFile("testdata/top_metrics.prom")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sesame" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write(exposition)
	})
	srv := testenv.NewH2CServer(t, mux)
	transport := newTopTransport()
	t.Cleanup(transport.CloseIdleConnections)

	r := &metricsReader{client: tokenClient(transport, "sesame"), url: srv.URL + "/metrics"}
	m, err := r.read(t.Context())
	if err != nil || m.version != "dev" || m.queue["s3"] != 3 {
		t.Errorf("read = %+v, %v; want version dev and s3's queue 3", m, err)
	}
	r.client = tokenClient(transport, "")
	if _, err := r.read(t.Context()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("read without the token = %v, want HTTP 401", err)
	}
	r.url = srv.URL + "/elsewhere"
	if _, err := r.read(t.Context()); !errors.Is(err, errNoMetrics) {
		t.Errorf("read of a listener without /metrics = %v, want errNoMetrics", err)
	}
}
