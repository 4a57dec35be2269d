package testenv

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseQueryResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    []Sample
		wantErr bool
	}{
		{
			name: "vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[` +
				`{"metric":{"__name__":"up","instance":"127.0.0.1:9090","job":"procagent"},"value":[1700000000.25,"1"]},` +
				`{"metric":{"job":"procagent"},"value":[1700000000.25,"NaN"]}]}}`,
			want: []Sample{
				{Labels: map[string]string{"__name__": "up", "instance": "127.0.0.1:9090", "job": "procagent"}, Value: 1, Time: time.Unix(1700000000, 250000000)},
				{Labels: map[string]string{"job": "procagent"}, Value: math.NaN(), Time: time.Unix(1700000000, 250000000)},
			},
		},
		{
			name: "empty vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
			want: []Sample{},
		},
		{
			name: "scalar",
			body: `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"+Inf"]}}`,
			want: []Sample{{Labels: map[string]string{}, Value: math.Inf(1), Time: time.Unix(1700000000, 0)}},
		},
		{
			name:    "error",
			body:    `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}`,
			wantErr: true,
		},
		{
			name:    "matrix",
			body:    `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
			wantErr: true,
		},
		{
			name:    "not json",
			body:    `<html>`,
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseQueryResponse([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseQueryResponse: err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("parseQueryResponse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrometheusYAML(t *testing.T) {
	t.Parallel()
	want := `global:
  scrape_interval: 1500ms
  scrape_timeout: 1500ms
  evaluation_interval: 1500ms
scrape_configs:
  - job_name: procagent
    static_configs:
      - targets: ["127.0.0.1:1", "127.0.0.1:2"]
`
	got := string(prometheusYAML([]string{"127.0.0.1:1", "127.0.0.1:2"}, 1500*time.Millisecond))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prometheusYAML (-want +got):\n%s", diff)
	}
}
