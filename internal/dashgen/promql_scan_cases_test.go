package dashgen

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The scanner finds selectors, matchers, ranges and the calls around them.
func TestScanPromQL(t *testing.T) {
	type found struct {
		Metric   string
		Matchers []string
		Range    string
		Calls    []string
	}
	tests := []struct {
		name string
		expr string
		want []found
	}{
		{"bare", `up`, []found{{Metric: "up"}}},
		{"matchers", `up{job=~"$job",instance!="a,b}"}`, []found{{Metric: "up", Matchers: []string{`job=~$job`, `instance!=a,b}`}}}},
		{"rate in sum by", `sum by (le, actor_type) (rate(x_bucket{a="1"}[$__rate_interval]))`, []found{{
			Metric: "x_bucket", Matchers: []string{"a=1"}, Range: "$__rate_interval",
			Calls: []string{"sum by [le actor_type]", "rate"}}}},
		{"sum by after", `sum(rate(x_total[5m])) by (job)`, []found{{Metric: "x_total", Range: "5m", Calls: []string{"sum by [job]", "rate"}}}},
		{"quantile", `histogram_quantile(0.99, sum by (le) (rate(h_bucket[1m])))`, []found{{
			Metric: "h_bucket", Range: "1m", Calls: []string{"histogram_quantile", "sum by [le]", "rate"}}}},
		{"binary and or", `(a or 0 * b) / on (job) group_left c offset 10m`, []found{
			{Metric: "a", Calls: []string{""}}, {Metric: "b", Calls: []string{""}}, {Metric: "c"}}},
		{"label_replace strings", `label_replace(max by (actor) (m{x=""}), "actor", "(agent)", "actor", "")`, []found{{
			Metric: "m", Matchers: []string{"x="}, Calls: []string{"label_replace", "max by [actor]"}}}},
		{"topk with number", `topk(10, g)`, []found{{Metric: "g", Calls: []string{"topk"}}}},
		{"name matcher", `{__name__="n", job="j"}`, []found{{Metric: "n", Matchers: []string{"__name__=n", "job=j"}}}},
		{"numbers", `predict_linear(m[1h], 4 * 3600) > 2.5e+08`, []found{{Metric: "m", Range: "1h", Calls: []string{"predict_linear"}}}},
		{"recording rule name", `procagent:ratio:rate5m > 0.05`, []found{{Metric: "procagent:ratio:rate5m"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sels, err := scanPromQL(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			var got []found
			for _, s := range sels {
				f := found{Metric: s.metric, Range: s.rng}
				for _, m := range s.matchers {
					f.Matchers = append(f.Matchers, m.name+m.op+m.value)
				}
				for _, c := range s.calls {
					name := c.name
					if len(c.by) > 0 {
						name += " by " + fmtList(c.by)
					}
					f.Calls = append(f.Calls, name)
				}
				got = append(got, f)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scanPromQL(%s) (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

func fmtList(xs []string) string {
	out := "["
	for i, x := range xs {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// Malformed expressions are errors, not silently empty scans.
func TestScanPromQLErrors(t *testing.T) {
	for _, expr := range []string{`sum(rate(x[5m])`, `x{a=}`, `x{a="1"`, `rate(x[5m]))`, `sum by (a) x`, `x[5m`, `"open`} {
		if _, err := scanPromQL(expr); err == nil {
			t.Errorf("scanPromQL(%s): no error", expr)
		}
	}
}
