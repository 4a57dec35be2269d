package report

import (
	"strings"
	"testing"
)

func TestParsePaired(t *testing.T) {
	in := `goos: linux
BenchmarkG1_Mailbox/paired-2   11465968   211.3 ns/op   142.6 actor-ns/msg   1.540 actor/baseline-ratio   94.03 baseline-ns/msg   0 B/op   0 allocs/op
BenchmarkG1_Mailbox/actor-2    7277709    159.9 ns/op   0 B/op   0 allocs/op
BenchmarkG1_Mailbox/paired-2   9398072    252.7 ns/op   145.4 actor-ns/msg   1.400 actor/baseline-ratio   93.72 baseline-ns/msg   0 B/op   0 allocs/op
BenchmarkG2_FanIn/paired-2     18076462   153.0 ns/op   88.14 actor-ns/msg   1.300 actor/baseline-ratio   53.85 baseline-ns/msg   0 B/op   0 allocs/op
PASS
`
	got := ParsePaired(strings.NewReader(in))
	if len(got) != 2 || got[0].ID != "G1" || got[1].ID != "G2" {
		t.Fatalf("ParsePaired = %+v", got)
	}
	if got[0].Runs != 2 || got[0].Ratio != 1.47 || got[0].RatioLo != 1.4 || got[0].ActorNs != 144 {
		t.Fatalf("G1 = %+v", got[0])
	}
}
