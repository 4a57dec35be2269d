package report

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/procagent/procagent/bench/internal/stats"
)

// Paired is the in-process G1/G2 comparison of `go test -bench
// 'G[12]_.*/paired' ./runtime/`: the runtime's mailbox against a raw chan in
// alternating rounds of one benchmark, so both sides share the machine's
// moment.
type Paired struct {
	ID                      string
	Runs                    int
	ActorNs, BaselineNs     float64 // medians over runs
	Ratio, RatioLo, RatioHi float64
}

// ParsePaired reads the benchmark lines of the runtime's paired G1/G2
// benchmarks; other lines are ignored.
func ParsePaired(r io.Reader) []Paired {
	type acc struct{ a, b, r []float64 }
	byID := map[string]*acc{}
	var order []string
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkG") || !strings.Contains(f[0], "/paired") {
			continue
		}
		id := strings.TrimPrefix(f[0][:strings.IndexByte(f[0], '_')], "Benchmark")
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				m[f[i+1]] = v
			}
		}
		ratio, ok := m["actor/baseline-ratio"]
		if !ok {
			continue
		}
		if byID[id] == nil {
			byID[id] = &acc{}
			order = append(order, id)
		}
		x := byID[id]
		x.a = append(x.a, m["actor-ns/msg"])
		x.b = append(x.b, m["baseline-ns/msg"])
		x.r = append(x.r, ratio)
	}
	out := make([]Paired, 0, len(order))
	for _, id := range order {
		x := byID[id]
		lo, hi := stats.Spread(x.r)
		out = append(out, Paired{ID: id, Runs: len(x.r), ActorNs: stats.Median(x.a), BaselineNs: stats.Median(x.b),
			Ratio: stats.Median(x.r), RatioLo: lo, RatioHi: hi})
	}
	return out
}
