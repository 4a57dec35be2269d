package ctl

import (
	"flag"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseInterleaved(t *testing.T) {
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
			pos, err := parseInterleaved(fs, tt.args)
			if err != nil {
				t.Fatalf("parseInterleaved: %v", err)
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
