package dashgen

import (
	"fmt"
	"strings"
)

// Matchers every query of the agent's metrics carries, and the collector's own: the chained
// job and instance variables of each dashboard.
const (
	agentMatchers     = `job=~"$job",instance=~"$instance"`
	collectorMatchers = `job=~"$otelcol_job",instance=~"$otelcol_instance"`
	// RateInterval is the range of every rate and increase: Grafana's $__rate_interval.
	RateInterval = "$__rate_interval"
)

// sel is a selector of one of the agent's metrics: the job and instance matchers, then extra.
func sel(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{agentMatchers}, extra...), ",") + "}"
}

// colSel is a selector of one of the collector's own metrics.
func colSel(metric string) string { return metric + "{" + collectorMatchers + "}" }

// rate is the per-second rate of a counter selector over $__rate_interval.
func rate(selector string) string { return "rate(" + selector + "[" + RateInterval + "])" }

// increase is the increase of a counter selector over $__rate_interval.
func increase(selector string) string {
	return "increase(" + selector + "[" + RateInterval + "])"
}

// agg applies an aggregation operator by labels ("" for none) to expr.
func agg(op, labels, expr string) string {
	if labels == "" {
		return op + "(" + expr + ")"
	}
	return op + " by (" + labels + ") (" + expr + ")"
}

// sumBy is agg("sum", …), maxBy agg("max", …).
func sumBy(labels, expr string) string { return agg("sum", labels, expr) }
func maxBy(labels, expr string) string { return agg("max", labels, expr) }

// quantile is the q-quantile of the histogram hist (its base name) by labels, from the
// rate of its buckets: histogram_quantile(q, sum by (le, labels) (rate(hist_bucket[…]))).
func quantile(q float64, hist, labels string) string {
	by := "le"
	if labels != "" {
		by += ", " + labels
	}
	return fmt.Sprintf("histogram_quantile(%g, %s)", q, sumBy(by, rate(sel(hist+"_bucket"))))
}

// orZero makes an error-rate expression answer 0 for every series of total that has no
// error series yet: errors or 0 * total. Counters labelled error="true" appear only at the
// first error, so without it a healthy series would show no line at all.
func orZero(errors, total string) string {
	return "(" + errors + ") or (0 * " + total + ")"
}
