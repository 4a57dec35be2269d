// Package results holds the types the peer benchmarks write and the report
// reads. It imports no peer, so the report and its tests build without them.
package results

// Sample is one run of one workload on one runtime.
type Sample struct {
	Rep           int     `json:"rep"`
	NsPerOp       float64 `json:"ns_per_op"`
	BytesPerActor float64 `json:"bytes_per_actor,omitempty"`
}

// Series is every sample of one workload on one runtime.
type Series struct {
	Workload  string   `json:"workload"`
	Name      string   `json:"name"`
	Unit      string   `json:"unit"`
	Ops       int      `json:"ops"`
	Contender string   `json:"contender"`
	Samples   []Sample `json:"samples"`
}

// Runtimes is the file `peers runtimes` writes.
type Runtimes struct {
	Seed      uint64            `json:"seed"`
	Reps      int               `json:"reps"`
	Scale     float64           `json:"scale"`
	GoVersion string            `json:"go_version"`
	Versions  map[string]string `json:"versions"`
	Seconds   float64           `json:"seconds"`
	Series    []Series          `json:"series"`
}

// Point is every measurement of one exporter at one N.
type Point struct {
	Exporter string `json:"exporter"`
	N        int    `json:"n"`
	// IdleRSSBytes is sampled at the end of each idle window.
	IdleRSSBytes []float64 `json:"idle_rss_bytes"`
	// IdleCPUSeconds is the CPU of each idle window of WindowSeconds.
	IdleCPUSeconds []float64 `json:"idle_cpu_seconds"`
	WindowSeconds  float64   `json:"window_seconds"`
	// Per repetition: CPU per scrape, median latency, series and bytes.
	ScrapeCPUSeconds     []float64 `json:"scrape_cpu_seconds"`
	ScrapeLatencySeconds []float64 `json:"scrape_latency_seconds"`
	Series               []float64 `json:"series"`
	ScrapeBytes          []float64 `json:"scrape_bytes"`
	// RepublishCPUSeconds (the agent only) is the CPU of one memory
	// republish of all N workers, triggered by a spawn, per repetition, net
	// of the idle CPU over the same time.
	RepublishCPUSeconds []float64 `json:"republish_cpu_seconds,omitempty"`
}

// Exporters is the file `peers exporters` writes.
type Exporters struct {
	Token    string            `json:"token"`
	Versions map[string]string `json:"versions"`
	Points   []Point           `json:"points"`
	// Skipped lists the Ns left out, with why (not enough memory, say).
	Skipped       []string `json:"skipped,omitempty"`
	Seed          uint64   `json:"seed"`
	Reps          int      `json:"reps"`
	Scrapes       int      `json:"scrapes"`
	IdleSeconds   float64  `json:"idle_seconds"`
	Windows       int      `json:"windows"`
	Seconds       float64  `json:"seconds"`
	WorkerCommand string   `json:"worker_command"`
}
