package rpcserver

import (
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// TestConfigDumpAltEnvVars: every entry lists the key's alternate
// environment variables beside its own, over every protocol.
func TestConfigDumpAltEnvVars(t *testing.T) {
	want := map[string][]string{
		"orphan_timeout":                 {"HYPERACTOR_MESH_ORPHAN_TIMEOUT"},
		"process_memory_metric_interval": {"HYPERACTOR_PROCESS_MEMORY_METRIC_INTERVAL"},
		"otlp_endpoint":                  {"OTEL_EXPORTER_OTLP_ENDPOINT"},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t, p.opts, nil)
			res, err := h.client.ConfigDump(t.Context(), connect.NewRequest(&procagentv1.ConfigDumpRequest{}))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, e := range res.Msg.GetEntries() {
				if e.GetEnvVar() == "" {
					t.Errorf("%s has no env var", e.GetName())
				}
				if alt := e.GetAltEnvVars(); len(alt) > 0 {
					got[e.GetName()] = alt
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alt env vars (-want +got):\n%s", diff)
			}
		})
	}
}
