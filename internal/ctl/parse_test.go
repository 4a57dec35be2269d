package ctl

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    procagentv1.Status
		wantErr bool
	}{
		{in: "RUNNING", want: procagentv1.Status_STATUS_RUNNING},
		{in: "running", want: procagentv1.Status_STATUS_RUNNING},
		{in: "STATUS_RUNNING", want: procagentv1.Status_STATUS_RUNNING},
		{in: "status_stopped", want: procagentv1.Status_STATUS_STOPPED},
		{in: "not-exist", want: procagentv1.Status_STATUS_NOT_EXIST},
		{in: "NOT_EXIST", want: procagentv1.Status_STATUS_NOT_EXIST},
		{in: "unknown", want: procagentv1.Status_STATUS_UNKNOWN},
		{in: "unspecified", wantErr: true},
		{in: "STATUS_", wantErr: true},
		{in: "", wantErr: true},
		{in: "sleepy", wantErr: true},
		{in: "3", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatus(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStatus(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseStatus(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    any
		wantErr bool
	}{
		{in: `{"a": [1, "b"]}`, want: map[string]any{"a": []any{1.0, "b"}}},
		{in: `"text"`, want: "text"},
		{in: `-5`, want: -5.0},
		{in: `null`, want: nil},
		{in: `{bad`, wantErr: true},
		{in: `{} {}`, wantErr: true},
		{in: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseValue(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseValue(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got.AsInterface()); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}
