package report

import (
	"math"

	"github.com/procagent/procagent/bench/internal/results"
	"github.com/procagent/procagent/bench/internal/stats"
)

// Baseline is the contender every runtime ratio is taken against.
const Baseline = "go"

// Peers are the runtimes compared with the baseline, in column order.
var Peers = []string{"procagent", "hollywood", "protoactor"}

// RuntimeCell is one workload on one runtime.
type RuntimeCell struct {
	NsPerOp       float64 // median over repetitions
	Ratio         float64 // median over repetitions of NsPerOp / the baseline's in the same one
	RatioLo       float64 // smallest and largest per-repetition ratio
	RatioHi       float64
	BytesPerActor float64 // G5 only, median
	Reps          int
}

// RuntimeRow is one workload on every runtime.
type RuntimeRow struct {
	ID, Name, Unit string
	Ops            int
	Cells          map[string]RuntimeCell // by contender, the baseline included
}

// SummarizeRuntimes pairs each contender's samples with the baseline's of
// the same repetition.
func SummarizeRuntimes(series []results.Series) []RuntimeRow {
	var rows []RuntimeRow
	byWorkload := map[string]map[string]results.Series{}
	for _, s := range series {
		if byWorkload[s.Workload] == nil {
			byWorkload[s.Workload] = map[string]results.Series{}
			rows = append(rows, RuntimeRow{ID: s.Workload, Name: s.Name, Unit: s.Unit, Ops: s.Ops, Cells: map[string]RuntimeCell{}})
		}
		byWorkload[s.Workload][s.Contender] = s
	}
	for i := range rows {
		r := &rows[i]
		base := byWorkload[r.ID][Baseline]
		baseByRep := map[int]float64{}
		for _, s := range base.Samples {
			baseByRep[s.Rep] = s.NsPerOp
		}
		for name, s := range byWorkload[r.ID] {
			var ns, ratios, bpa []float64
			for _, x := range s.Samples {
				ns = append(ns, x.NsPerOp)
				if x.BytesPerActor != 0 {
					bpa = append(bpa, x.BytesPerActor)
				}
				if b, ok := baseByRep[x.Rep]; ok && b > 0 {
					ratios = append(ratios, x.NsPerOp/b)
				}
			}
			lo, hi := stats.Spread(ratios)
			c := RuntimeCell{NsPerOp: stats.Median(ns), Ratio: stats.Median(ratios), RatioLo: lo, RatioHi: hi, Reps: len(ns)}
			if len(bpa) > 0 {
				c.BytesPerActor = stats.Median(bpa)
			}
			r.Cells[name] = c
		}
	}
	return rows
}

// ExporterFigures are the medians of one exporter at one N.
type ExporterFigures struct {
	Exporter string
	N        int
	// IdleRSS in bytes; IdleCPU60 in CPU seconds per 60 s of idle.
	IdleRSS, IdleCPU60 float64
	// ScrapeCPU and ScrapeLatency in seconds; Series and ScrapeBytes per scrape.
	ScrapeCPU, ScrapeLatency, Series, ScrapeBytes float64
	// Republish is the agent's CPU seconds per memory republish (NaN for
	// the exporters).
	Republish float64
	// PerWorker is the CPU seconds each worker costs one refresh of its
	// figures: the agent's republish, an exporter's scrape, divided by N.
	PerWorker float64
}

// SummarizeExporters takes the medians of each point.
func SummarizeExporters(points []results.Point) []ExporterFigures {
	out := make([]ExporterFigures, 0, len(points))
	for _, p := range points {
		f := ExporterFigures{
			Exporter:      p.Exporter,
			N:             p.N,
			IdleRSS:       stats.Median(p.IdleRSSBytes),
			ScrapeCPU:     stats.Median(p.ScrapeCPUSeconds),
			ScrapeLatency: stats.Median(p.ScrapeLatencySeconds),
			Series:        stats.Median(p.Series),
			ScrapeBytes:   stats.Median(p.ScrapeBytes),
			Republish:     math.NaN(),
		}
		if p.WindowSeconds > 0 {
			f.IdleCPU60 = stats.Median(p.IdleCPUSeconds) * 60 / p.WindowSeconds
		}
		refresh := f.ScrapeCPU
		if len(p.RepublishCPUSeconds) > 0 {
			f.Republish = stats.Median(p.RepublishCPUSeconds)
			refresh = f.Republish
		}
		f.PerWorker = refresh / float64(max(p.N, 1))
		out = append(out, f)
	}
	return out
}

// Marginal returns the growth of f per added worker between the smallest
// and the largest N measured for exporter, NaN with fewer than two Ns.
func Marginal(figs []ExporterFigures, exporter string, f func(ExporterFigures) float64) float64 {
	var lo, hi *ExporterFigures
	for i := range figs {
		x := &figs[i]
		if x.Exporter != exporter {
			continue
		}
		if lo == nil || x.N < lo.N {
			lo = x
		}
		if hi == nil || x.N > hi.N {
			hi = x
		}
	}
	if lo == nil || hi == nil || lo.N == hi.N {
		return math.NaN()
	}
	return (f(*hi) - f(*lo)) / float64(hi.N-lo.N)
}
