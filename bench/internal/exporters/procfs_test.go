package exporters

import (
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	line := []byte("123 (a b) c) S 1 123 123 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1000 10\n")
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Fatalf("parseStatCPU = %v, want %v", got, want)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Fatal("parseStatCPU(garbage) succeeded")
	}
}

func TestParseStatmRSS(t *testing.T) {
	got, err := parseStatmRSS([]byte("1000 250 100 1 0 50 0\n"), 4096)
	if err != nil || got != 250*4096 {
		t.Fatalf("parseStatmRSS = %d, %v", got, err)
	}
}
