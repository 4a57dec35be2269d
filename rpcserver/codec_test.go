package rpcserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/procagent/procagent/internal/testenv"
	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

// connectErrorBody is the JSON body of a Connect error.
type connectErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TestJSONUnknownEnum: over Connect's JSON, an enum name the schema does
// not know is InvalidArgument naming it, quoted short when it is long,
// while an unknown field is still ignored. It goes through Mount, which
// must register jsonCodecOptions.
func TestJSONUnknownEnum(t *testing.T) {
	h := newHarness(t, nil, nil)
	huge := strings.Repeat("X", 1<<20)
	tests := []struct {
		name, procedure, body, contentType string
		want                               []string // in the message; none: the call succeeds
	}{{
		name:      "unknown status",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","minStatus":"STATUS_BOGUS"}`,
		want:      []string{`minStatus: unknown procagent.v1.Status value "STATUS_BOGUS"`, "STATUS_RUNNING"},
	}, {
		name:        "unknown status, charset given",
		procedure:   "WaitRankStatus",
		body:        `{"id":"ghost","minStatus":"STATUS_BOGUS"}`,
		contentType: "application/json; charset=utf-8",
		want:        []string{`"STATUS_BOGUS"`},
	}, {
		name:      "unknown status under the proto name",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","min_status":"STATUS_BOGUS"}`,
		want:      []string{`min_status: unknown procagent.v1.Status value "STATUS_BOGUS"`},
	}, {
		name:      "unknown status beside an unknown field",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","bogusField":{"a":[1]},"minStatus":"STATUS_BOGUS"}`,
		want:      []string{`"STATUS_BOGUS"`},
	}, {
		name:      "unknown format",
		procedure: "PySpyProfile",
		body:      `{"pid":"1","format":"PROFILE_FORMAT_PNG"}`,
		want:      []string{`format: unknown procagent.v1.ProfileFormat value "PROFILE_FORMAT_PNG"`},
	}, {
		name:      "a huge unknown name is quoted short",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","minStatus":"` + huge + `"}`,
		want:      []string{`"` + strings.Repeat("X", 64) + `…" (1048576 bytes)`},
	}, {
		name:      "a huge bad value is not echoed whole",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","rank":"` + huge + `"}`,
		want:      []string{"rank", "bytes)"},
	}, {
		name:      "unknown fields are ignored",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","bogusField":{"a":[1]},"minStatus":"STATUS_RUNNING"}`,
	}, {
		name:      "known names",
		procedure: "WaitRankStatus",
		body:      `{"id":"ghost","rank":"3","minStatus":"STATUS_STOPPED"}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header http.Header
			if tt.contentType != "" {
				header = http.Header{"Content-Type": {tt.contentType}}
			}
			res, body := post(t, h, "/procagent.v1.ProcAgentService/"+tt.procedure, tt.body, header)
			if len(tt.want) == 0 {
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, body %s; want 200", res.StatusCode, body)
				}
				return
			}
			if len(body) > 2048 {
				t.Errorf("error body is %d bytes, want a bounded message", len(body))
			}
			var e connectErrorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("status %d, body %.200s: %v", res.StatusCode, body, err)
			}
			if res.StatusCode != http.StatusBadRequest || e.Code != "invalid_argument" {
				t.Errorf("status %d, code %q; want 400, invalid_argument", res.StatusCode, e.Code)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Message, w) {
					t.Errorf("message %.300q lacks %q", e.Message, w)
				}
			}
			if strings.Contains(e.Message, "UNSPECIFIED") {
				t.Errorf("message %.300q reports the unknown name as the zero value", e.Message)
			}
		})
	}
}

// TestJSONCodecOptions: the codec options serve both of connect-go's JSON
// names; the codec reads the request before the handler runs, here one of
// a server without a profiler.
func TestJSONCodecOptions(t *testing.T) {
	mux := http.NewServeMux()
	New(nil).Mount(mux, jsonCodecOptions()...)
	h := &harness{srv: testenv.NewH2CServer(t, mux)}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
		res, body := post(t, h, "/procagent.v1.ProcAgentService/PySpyProfile", `{"pid":"1","format":"PNG"}`, http.Header{"Content-Type": {ct}})
		var e connectErrorBody
		if err := json.Unmarshal(body, &e); err != nil || res.StatusCode != http.StatusBadRequest || e.Code != "invalid_argument" ||
			!strings.Contains(e.Message, `format: unknown procagent.v1.ProfileFormat value "PNG"`) {
			t.Errorf("%s: status %d, body %s; want invalid_argument naming PNG", ct, res.StatusCode, body)
		}
	}
}

// TestJSONCodecNested: the walk reaches enums in lists of nested messages
// and names the path to the bad one.
func TestJSONCodecNested(t *testing.T) {
	c := jsonCodec{name: "json"}
	var m procagentv1.GetRankStatusResponse
	err := c.Unmarshal([]byte(`{"overlay":{"runs":[{"start":"0","end":"1","status":"STATUS_RUNNING"},{"start":"1","end":"2","status":"NOPE"}]},"extra":1}`), &m)
	if err == nil || !strings.HasPrefix(err.Error(), `overlay.runs[1].status: unknown procagent.v1.Status value "NOPE"`) {
		t.Fatalf("Unmarshal = %v, want the path to NOPE", err)
	}
	err = c.Unmarshal([]byte(`{"overlay":{"runs":[{"start":"0","end":"1","status":"STATUS_RUNNING","later":true}]},"extra":1}`), &m)
	if err != nil {
		t.Fatalf("Unmarshal with unknown fields only: %v", err)
	}
	if got := m.GetOverlay().GetRuns()[0].GetStatus(); got != procagentv1.Status_STATUS_RUNNING {
		t.Errorf("status = %v, want RUNNING", got)
	}
	if err := c.Unmarshal(nil, &m); err == nil {
		t.Error("an empty payload was read")
	}
	b, err := c.Marshal(&m)
	if err != nil || !strings.Contains(string(b), "STATUS_RUNNING") {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}
