package osproc

import (
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets of the /proc parsers; `make fuzz` runs each for a few
// seconds, with the seeds below and those under testdata/fuzz.

// parseStatm accepts a line exactly when it starts with two decimals, and
// reads back what was written.
func FuzzParseStatm(f *testing.F) {
	for _, s := range []string{"1234 567 89 10 0 300 0\n", "1 2", "", "18446744073709551616 1\n", " 1 2\n", "1  2\n", "1 2x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		size, rss, err := parseStatm([]byte(line))
		if err != nil {
			return
		}
		f := strings.SplitN(strings.SplitN(line, "\n", 2)[0], " ", 3)
		if len(f) < 2 {
			t.Fatalf("parseStatm(%q) accepted fewer than two fields", line)
		}
		wantSize, err1 := strconv.ParseUint(f[0], 10, 64)
		wantRSS, err2 := strconv.ParseUint(f[1], 10, 64)
		if err1 != nil || err2 != nil || wantSize != size || wantRSS != rss {
			t.Fatalf("parseStatm(%q) = %d, %d: not what the line says", line, size, rss)
		}
	})
}

func FuzzParseChildren(f *testing.F) {
	for _, s := range []string{"12 34 56 ", "", "0 -1 x 9999999999999999999", "1\n2\t3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b string) {
		for _, p := range parseChildren([]byte(b)) {
			if p <= 0 {
				t.Fatalf("parseChildren(%q) returned pid %d", b, p)
			}
		}
	})
}
