package procagent

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"short", "STATUS_BOGUS", `"STATUS_BOGUS"`},
		{"escaped", "a\nb\"c", `"a\nb\"c"`},
		{"exactly 64 bytes", strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`},
		{"65 bytes", strings.Repeat("a", 65), `"` + strings.Repeat("a", 64) + `…" (65 bytes)`},
		{"a megabyte", strings.Repeat("abc", 1<<20/3+1), `"` + strings.Repeat("abc", 21) + `a…" (1048578 bytes)`},
		// The cut never splits a character: "é" is 2 bytes, so 64 bytes
		// end inside the 33rd and the prefix keeps 32.
		{"cut at a character", strings.Repeat("é", 40), `"` + strings.Repeat("é", 32) + `…" (80 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.want {
				t.Errorf("Quote(%.20q…) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
