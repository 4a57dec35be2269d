package ctl

import "testing"

func TestBaseURL(t *testing.T) {
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
			got, err := baseURL(tt.addr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("baseURL(%q) error %v, want error %v", tt.addr, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("baseURL(%q) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}
