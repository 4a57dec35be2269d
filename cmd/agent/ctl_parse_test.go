package main

import (
	"flag"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	procagentv1 "github.com/procagent/procagent/proto/procagent/v1"
)

func TestCtlBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		want    string
		wantErr bool
	}{
		{addr: "127.0.0.1:9464", want: "http://127.0.0.1:9464"},
		{addr: "http://127.0.0.1:9464", want: "http://127.0.0.1:9464"},
		{addr: "http://127.0.0.1:9464/", want: "http://127.0.0.1:9464"},
		{addr: "https://agent.example:443", want: "https://agent.example:443"},
		{addr: "localhost:1", want: "http://localhost:1"},
		{addr: ":9464", want: "http://127.0.0.1:9464"},
		{addr: "0.0.0.0:9464", want: "http://127.0.0.1:9464"},
		{addr: "[::]:9464", want: "http://[::1]:9464"},
		{addr: "[::1]:9464", want: "http://[::1]:9464"},
		{addr: " 10.0.0.1:80 ", want: "http://10.0.0.1:80"},
		{addr: "", wantErr: true},
		{addr: "ftp://host:21", wantErr: true},
		{addr: "http://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			got, err := ctlBaseURL(tt.addr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ctlBaseURL(%q) error %v, want error %v", tt.addr, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ctlBaseURL(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestCtlParseStatus(t *testing.T) {
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
			got, err := ctlParseStatus(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ctlParseStatus(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ctlParseStatus(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCtlParseInterleaved(t *testing.T) {
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
			pos, err := ctlParseInterleaved(fs, tt.args)
			if err != nil {
				t.Fatalf("ctlParseInterleaved: %v", err)
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

func TestCtlParseValue(t *testing.T) {
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
			got, err := ctlParseValue(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ctlParseValue(%q) error %v, want error %v", tt.in, err, tt.wantErr)
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

func TestCtlFormatHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, want string
	}{
		{"bytes small", ctlBytes(512), "512 B"},
		{"bytes KiB", ctlBytes(2048), "2048 (2.0 KiB)"},
		{"bytes MiB", ctlBytes(15552512), "15552512 (14.8 MiB)"},
		{"age ms", ctlAge(13), "13ms"},
		{"age s", ctlAge(1500), "1.5s"},
		{"cell empty", ctlCell(""), "-"},
		{"cell multiline", ctlCell("a\tb\nc"), "a b c"},
		{"status", ctlStatus(procagentv1.Status_STATUS_NOT_EXIST), "NOT_EXIST"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
