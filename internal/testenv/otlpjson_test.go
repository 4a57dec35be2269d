package testenv

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Lines as the collector's file exporter writes them: OTLP JSON, ids in hex, 64-bit integers
// as strings, enums as numbers.
const (
	metricsLine = `{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}},{"key":"process.pid","value":{"intValue":"42"}}]},"scopeMetrics":[{"scope":{"name":"procagent"},"metrics":[` +
		`{"name":"process.memory.usage","unit":"By","gauge":{"dataPoints":[{"attributes":[{"key":"actor","value":{"stringValue":"a1"}}],"timeUnixNano":"1700000000000000000","asInt":"4096"}]}},` +
		`{"name":"queue.depth","sum":{"aggregationTemporality":2,"isMonotonic":false,"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":1.5}]}},` +
		`{"name":"handler.duration","unit":"s","histogram":{"aggregationTemporality":2,"dataPoints":[{"attributes":[{"key":"ok","value":{"boolValue":true}}],"timeUnixNano":"1700000000000000000","count":"3","sum":0.25,"bucketCounts":["1","2"],"explicitBounds":[0.1]}]}}` +
		`]}]}]}`
	tracesLine = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},"scopeSpans":[{"scope":{"name":"procagent"},"spans":[` +
		`{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","name":"spawn","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000",` +
		`"attributes":[{"key":"ids","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"2"}]}}}],` +
		`"events":[{"timeUnixNano":"1700000000500000000","name":"supervision","attributes":[{"key":"process.exit.code","value":{"intValue":"3"}}]}],` +
		`"status":{"message":"exited","code":2}}` +
		`]}]}]}`
)

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	ts := time.Unix(1700000000, 0)
	res := map[string]string{"service.name": "agent", "process.pid": "42"}
	all := []Point{
		{Name: "process.memory.usage", Kind: "gauge", Unit: "By", Resource: res, Scope: "procagent", Attributes: map[string]string{"actor": "a1"}, Value: 4096, Time: ts},
		{Name: "queue.depth", Kind: "sum", Resource: res, Scope: "procagent", Attributes: map[string]string{}, Value: 1.5, Time: ts},
		{Name: "handler.duration", Kind: "histogram", Unit: "s", Resource: res, Scope: "procagent", Attributes: map[string]string{"ok": "true"}, Value: 0.25, Count: 3, Time: ts},
	}
	tests := []struct {
		name string
		data string
		want []Point
	}{
		{name: "empty", data: "", want: nil},
		{name: "one line", data: metricsLine + "\n", want: all},
		{name: "two lines", data: metricsLine + "\n" + metricsLine + "\n", want: append(append([]Point{}, all...), all...)},
		{name: "partial last line dropped", data: metricsLine + "\n" + metricsLine[:40], want: all},
		{name: "no complete line", data: metricsLine, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseMetrics([]byte(tt.data))
			if err != nil {
				t.Fatalf("parseMetrics: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseMetrics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMetricsError(t *testing.T) {
	t.Parallel()
	if _, err := parseMetrics([]byte("{not json\n")); err == nil {
		t.Error("parseMetrics: no error for a malformed line")
	}
}

func TestParseSpans(t *testing.T) {
	t.Parallel()
	want := []Span{{
		Name:       "spawn",
		TraceID:    "0af7651916cd43dd8448eb211c80319c",
		SpanID:     "b7ad6b7169203331",
		Kind:       "SPAN_KIND_SERVER",
		Resource:   map[string]string{"service.name": "agent"},
		Scope:      "procagent",
		Attributes: map[string]string{"ids": "[a,2]"},
		Events: []Event{{
			Name:       "supervision",
			Time:       time.Unix(1700000000, 500000000),
			Attributes: map[string]string{"process.exit.code": "3"},
		}},
		Status: Status{Code: "Error", Message: "exited"},
		Start:  time.Unix(1700000000, 0),
		End:    time.Unix(1700000001, 0),
	}}
	got, err := parseSpans([]byte(tracesLine + "\n"))
	if err != nil {
		t.Fatalf("parseSpans: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseSpans (-want +got):\n%s", diff)
	}
}
