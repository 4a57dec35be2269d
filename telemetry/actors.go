package telemetry

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/procagent/procagent/runtime"
)

// actorDepth is one actor's queue depth.
type actorDepth struct {
	name, typ string
	depth     int64
}

// depthPool recycles the sample buffers of collections.
var depthPool = sync.Pool{New: func() any { return new([]actorDepth) }}

// sampleDepths reads every live actor's queue depth and calls f with at
// most limit of them, the deepest first (ties by name, so an idle proc
// keeps the same series), and how many were left out. Under the cap the
// series come in no particular order. f may reorder series but must not
// keep them.
func sampleDepths(proc ProcSource, limit int, f func(series []actorDepth, omitted int)) {
	bp := depthPool.Get().(*[]actorDepth)
	all := (*bp)[:0]
	proc.Sample(func(s runtime.ActorSample) {
		all = append(all, actorDepth{name: s.Name, typ: s.Type, depth: s.QueueDepth})
	})
	series, omitted := all, 0
	if len(all) > limit {
		slices.SortFunc(all, deeperFirst)
		series, omitted = all[:limit], len(all)-limit
	}
	f(series, omitted)
	clear(all) // keep no names alive in the pool
	*bp = all[:0]
	depthPool.Put(bp)
}

func deeperFirst(a, b actorDepth) int {
	if c := cmp.Compare(b.depth, a.depth); c != 0 {
		return c
	}
	return strings.Compare(a.name, b.name)
}

// actorLabelCache keeps each live actor's label pairs between scrapes, as
// a GaugeVec keeps its children's.
type actorLabelCache struct {
	desc *prometheus.Desc

	mu    sync.Mutex
	gen   uint64
	cache map[string]*actorLabels // actor name → its label pairs
}

// actorLabels are one actor's label pairs, and the scrape that last saw it.
type actorLabels struct {
	typ   string
	pairs []*dto.LabelPair
	seen  uint64
}

func newActorLabelCache(desc *prometheus.Desc) *actorLabelCache {
	return &actorLabelCache{desc: desc, cache: make(map[string]*actorLabels)}
}

// metrics turns the series into metrics, sorted by actor so that the
// registry's own sort has nothing to do, and forgets the actors no longer
// sampled. Names that are not valid UTF-8 are left out.
func (c *actorLabelCache) metrics(series []actorDepth) []gaugeMetric {
	slices.SortFunc(series, func(a, b actorDepth) int { return strings.Compare(a.name, b.name) })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	out := make([]gaugeMetric, 0, len(series))
	for _, s := range series {
		l := c.cache[s.name]
		if l == nil || l.typ != s.typ {
			if !utf8.ValidString(s.name) || !utf8.ValidString(s.typ) {
				continue
			}
			l = &actorLabels{typ: s.typ, pairs: prometheus.MakeLabelPairs(c.desc, []string{s.name, s.typ})}
			c.cache[s.name] = l
		}
		l.seen = c.gen
		out = append(out, gaugeMetric{desc: c.desc, labels: l.pairs, value: float64(s.depth)})
	}
	if len(c.cache) > len(out) {
		for name, l := range c.cache {
			if l.seen != c.gen {
				delete(c.cache, name)
			}
		}
	}
	return out
}

// gaugeMetric is a gauge sample with label pairs made once.
type gaugeMetric struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	value  float64
}

// Desc implements prometheus.Metric.
func (m *gaugeMetric) Desc() *prometheus.Desc { return m.desc }

// Write implements prometheus.Metric.
func (m *gaugeMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	out.Gauge = &dto.Gauge{Value: &m.value}
	return nil
}
