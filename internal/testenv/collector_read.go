package testenv

import (
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"
)

// ReadMetrics returns every data point the collector has written so far, in file order;
// none before its first flush. Data still buffered in the collector (at most 100 ms) is not
// there yet: poll with WaitForMetric.
func (c *Collector) ReadMetrics(t testing.TB) []Point {
	t.Helper()
	data := readIfExists(t, c.metricsPath)
	points, err := parseMetrics(data)
	if err != nil {
		t.Fatalf("read collector metrics: %v", err)
	}
	return points
}

// ReadSpans returns every span the collector has written so far, in file order.
func (c *Collector) ReadSpans(t testing.TB) []Span {
	t.Helper()
	data := readIfExists(t, c.tracesPath)
	spans, err := parseSpans(data)
	if err != nil {
		t.Fatalf("read collector spans: %v", err)
	}
	return spans
}

// WaitForMetric polls the metrics file every 100 ms until a point named name satisfies cond
// (nil accepts any), and returns the last such point; the test fails after timeout, listing
// the points of that name seen last.
func (c *Collector) WaitForMetric(t testing.TB, name string, cond func(Point) bool, timeout time.Duration) Point {
	t.Helper()
	var named []Point
	for deadline := time.Now().Add(timeout); ; {
		named = named[:0]
		for _, p := range c.ReadMetrics(t) {
			if p.Name == name {
				named = append(named, p)
			}
		}
		for i := len(named) - 1; i >= 0; i-- {
			if cond == nil || cond(named[i]) {
				return named[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector: no point of %q satisfied the condition after %v; %d points of that name, the newest: %+v", name, timeout, len(named), lastN(named, 5))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitForSpan polls the traces file every 100 ms until a span named name satisfies cond (nil
// accepts any), and returns the last such span; the test fails after timeout.
func (c *Collector) WaitForSpan(t testing.TB, name string, cond func(Span) bool, timeout time.Duration) Span {
	t.Helper()
	var named []Span
	for deadline := time.Now().Add(timeout); ; {
		named = named[:0]
		for _, s := range c.ReadSpans(t) {
			if s.Name == name {
				named = append(named, s)
			}
		}
		for i := len(named) - 1; i >= 0; i-- {
			if cond == nil || cond(named[i]) {
				return named[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector: no span %q satisfied the condition after %v; %d spans of that name, the newest: %+v", name, timeout, len(named), lastN(named, 5))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readIfExists reads path; a file not written yet reads as empty.
func readIfExists(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path) //nolint:gosec // G304: the path is the collector's output file, chosen by this package
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// lastN returns the last n of xs, for failure messages that stay readable.
func lastN[T any](xs []T, n int) []T {
	if len(xs) > n {
		return xs[len(xs)-n:]
	}
	return xs
}
