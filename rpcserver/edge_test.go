package rpcserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/grpcreflect"
)

// response is what post read of an HTTP response.
type response struct {
	StatusCode int
	Header     http.Header
}

// post calls a procedure with the Connect protocol's JSON form, as curl
// would, and returns the response.
func post(t *testing.T, h *harness, procedure, body string, header http.Header) (response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, h.srv.URL+procedure, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	// A bare transport: no transparent gzip, so Content-Encoding is visible.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{StatusCode: res.StatusCode, Header: res.Header}, b
}

func TestHealthAndReflection(t *testing.T) {
	h := newHarness(t, nil, nil)
	res, body := post(t, h, "/grpc.health.v1.Health/Check", `{"service":"procagent.v1.ProcAgentService"}`, nil)
	var health struct{ Status string }
	if err := json.Unmarshal(body, &health); err != nil || res.StatusCode != http.StatusOK || health.Status != "SERVING_STATUS_SERVING" {
		t.Fatalf("health = %d %s", res.StatusCode, body)
	}

	rc := grpcreflect.NewClient(h.srv.Client, h.srv.URL)
	stream := rc.NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, string(n))
	}
	if !slices.Contains(got, "procagent.v1.ProcAgentService") || !slices.Contains(got, "grpc.health.v1.Health") {
		t.Fatalf("reflection lists %v", got)
	}
}

func TestCompressionAboveOneKiB(t *testing.T) {
	h := newHarness(t, nil, nil)
	gzip := http.Header{"Accept-Encoding": {"gzip"}}
	res, small := post(t, h, "/procagent.v1.ProcAgentService/GetState", `{"id":"ghost"}`, gzip)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" || len(small) >= compressMinBytes {
		t.Fatalf("small response: %d, encoding %q, %d bytes", res.StatusCode, res.Header.Get("Content-Encoding"), len(small))
	}
	res, _ = post(t, h, "/procagent.v1.ProcAgentService/ConfigDump", `{}`, gzip)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("large response: %d, encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	res, plain := post(t, h, "/procagent.v1.ProcAgentService/ConfigDump", `{}`, nil)
	if res.Header.Get("Content-Encoding") != "" || len(plain) < compressMinBytes {
		t.Fatalf("ConfigDump should be over 1 KiB uncompressed: %d bytes, encoding %q", len(plain), res.Header.Get("Content-Encoding"))
	}
}

func TestProfilingUnimplementedWithoutHandler(t *testing.T) {
	h := newHarness(t, nil, nil)
	res, body := post(t, h, "/procagent.v1.ProcAgentService/GoProfile", `{"name":"heap"}`, nil)
	if res.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "profiling is not enabled") {
		t.Fatalf("GoProfile without profiling = %d %s", res.StatusCode, body)
	}
}
