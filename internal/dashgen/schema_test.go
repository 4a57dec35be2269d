package dashgen

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// buildErrors turns the SDK's error into its list: strict decoding and Validate return a
// typed-nil cog.BuildErrors on valid input, so the length is what tells.
func buildErrors(err error) cog.BuildErrors {
	if err == nil {
		return nil
	}
	var be cog.BuildErrors
	if errors.As(err, &be) {
		return be
	}
	return cog.BuildErrors{{Path: "", Message: err.Error()}}
}

// panelVariants are the panel types the dashboards use. The SDK decodes the options and
// field config of a registered type strictly, and of any other leniently: so the schema
// test registers these (not the SDK's whole plugin set, some forty packages more to
// compile) and fails on a panel of another type, which must be added here.
var panelVariants = []variants.PanelcfgConfig{
	timeseries.VariantConfig(), stat.VariantConfig(), table.VariantConfig(), heatmap.VariantConfig(),
}

// registerVariants registers panelVariants and the Prometheus query with the SDK's runtime
// (a process-wide registry; registering twice is harmless).
func registerVariants() {
	rt := cog.NewRuntime()
	for _, v := range panelVariants {
		rt.RegisterPanelcfgVariant(v)
	}
	rt.RegisterDataqueryVariant(prometheus.VariantConfig())
}

// strictDecode decodes a dashboard the way the SDK does when it is strict: unknown fields,
// wrong types and missing required fields are errors; then Validate checks the constraints.
func strictDecode(raw []byte) cog.BuildErrors {
	registerVariants()
	var d grafanaDashboard
	if errs := buildErrors(d.UnmarshalJSONStrict(raw)); len(errs) > 0 {
		return errs
	}
	return buildErrors(d.Validate())
}

// Every committed dashboard is valid by Grafana's schema as the Foundation SDK encodes it.
func TestDashboardsSchema(t *testing.T) {
	for _, file := range committedDashboards(t) {
		t.Run(file, func(t *testing.T) {
			if errs := strictDecode(readFile(t, filepath.Join(Dir, file))); len(errs) > 0 {
				t.Fatalf("%d schema errors:\n%v", len(errs), errs)
			}
			for _, p := range loadDashboard(t, file).queryPanels() {
				if _, ok := cog.NewRuntime().ConfigForPanelcfgVariant(p.Type); !ok {
					t.Errorf("panel %q is a %s, which the schema test does not decode strictly: add it to panelVariants", p.Title, p.Type)
				}
			}
		})
	}
}

// The strict decoder does reject what Grafana's schema does not know: an unknown field
// of a panel, and a wrong type.
func TestDashboardsSchemaRejects(t *testing.T) {
	raw := string(readFile(t, filepath.Join(Dir, committedDashboards(t)[0])))
	tests := map[string]string{
		"unknown panel field": strings.Replace(raw, `"title": "Agents up",`, `"title": "Agents up", "bogus": 1,`, 1),
		"wrong type":          strings.Replace(raw, `"editable": false`, `"editable": "no"`, 1),
		"unknown option":      strings.Replace(raw, `"graphMode": "area",`, `"graphMode": "area", "bogus": 1,`, 1),
		"unknown query field": strings.Replace(raw, `"editorMode": "code",`, `"editorMode": "code", "bogus": 1,`, 1),
	}
	for name, broken := range tests {
		t.Run(name, func(t *testing.T) {
			if broken == raw {
				t.Fatal("the fixture did not change the dashboard")
			}
			if errs := strictDecode([]byte(broken)); len(errs) == 0 {
				t.Fatal("no schema error")
			}
		})
	}
}
