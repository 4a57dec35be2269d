package report

import (
	"math"
	"testing"

	"github.com/procagent/procagent/bench/internal/results"
)

func TestSummarizeRuntimesPairsRepetitions(t *testing.T) {
	series := []results.Series{
		{Workload: "G1", Contender: "go", Samples: []results.Sample{{Rep: 0, NsPerOp: 100}, {Rep: 1, NsPerOp: 200}, {Rep: 2, NsPerOp: 100}}},
		{Workload: "G1", Contender: "procagent", Samples: []results.Sample{{Rep: 0, NsPerOp: 150}, {Rep: 1, NsPerOp: 220}, {Rep: 2, NsPerOp: 120}}},
	}
	rows := SummarizeRuntimes(series)
	if len(rows) != 1 {
		t.Fatalf("rows = %d", len(rows))
	}
	c := rows[0].Cells["procagent"]
	// Per-repetition ratios 1.5, 1.1, 1.2: the median is 1.2, not 150/100.
	if math.Abs(c.Ratio-1.2) > 1e-9 || c.NsPerOp != 150 || c.RatioLo != 1.1 || c.RatioHi != 1.5 {
		t.Fatalf("cell = %+v", c)
	}
	if b := rows[0].Cells["go"]; b.Ratio != 1 {
		t.Fatalf("baseline ratio = %v", b.Ratio)
	}
}

func TestSummarizeExporters(t *testing.T) {
	pts := []results.Point{
		{Exporter: "procagent", N: 10, IdleCPUSeconds: []float64{0.01, 0.02, 0.03}, WindowSeconds: 10,
			ScrapeCPUSeconds: []float64{0.002}, RepublishCPUSeconds: []float64{0.001, 0.003, 0.002}},
		{Exporter: "procagent", N: 110, ScrapeCPUSeconds: []float64{0.004}, RepublishCPUSeconds: []float64{0.012}},
		{Exporter: "node-exporter", N: 10, ScrapeCPUSeconds: []float64{0.02}},
	}
	figs := SummarizeExporters(pts)
	if got := figs[0].IdleCPU60; math.Abs(got-0.12) > 1e-9 {
		t.Errorf("IdleCPU60 = %v, want 0.12", got)
	}
	if got := figs[0].PerWorker; math.Abs(got-0.0002) > 1e-12 {
		t.Errorf("agent PerWorker = %v, want the republish over N", got)
	}
	if got := figs[2].PerWorker; math.Abs(got-0.002) > 1e-12 {
		t.Errorf("exporter PerWorker = %v, want the scrape over N", got)
	}
	if got := Marginal(figs, "procagent", func(f ExporterFigures) float64 { return f.Republish }); math.Abs(got-0.0001) > 1e-12 {
		t.Errorf("Marginal = %v", got)
	}
	if got := Marginal(figs, "node-exporter", func(f ExporterFigures) float64 { return f.ScrapeCPU }); !math.IsNaN(got) {
		t.Errorf("Marginal of one N = %v, want NaN", got)
	}
}
