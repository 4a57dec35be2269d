package dashgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Dir is where the dashboards are committed, relative to the module root.
const Dir = "dashboards/grafana"

// Tag is the tag of every procagent dashboard; the dashboards link to each other by it.
const Tag = "procagent"

// Stable uids: links, bookmarks and provisioning keep pointing at the same dashboards.
const (
	FleetUID = "procagent-fleet"
	ProcUID  = "procagent-proc"
)

// Output is one generated dashboard: its file name under Dir and its JSON.
type Output struct {
	File string
	JSON []byte
}

// spec is one dashboard before the SDK builds it.
type spec struct {
	file, uid, title, desc string
	collector              bool // adds the collector's job and instance variables
	rows                   []row
}

// Generate builds every dashboard from the names table fams (whose help texts the panel
// descriptions quote) and renders each as indented JSON with a final newline. The output
// depends on nothing else, so the same names table gives the same bytes.
func Generate(fams []Family) ([]Output, error) {
	h := helpTexts{fams: fams}
	specs := []spec{fleet(&h), proc(&h)}
	if err := h.err(); err != nil {
		return nil, fmt.Errorf("generate dashboards: %w", err)
	}
	out := make([]Output, 0, len(specs))
	for _, s := range specs {
		d, err := s.build()
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", s.file, err)
		}
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", s.file, err)
		}
		out = append(out, Output{File: s.file, JSON: append(b, '\n')})
	}
	return out, nil
}

// WriteAll reads the names table under the module root and writes every dashboard into
// dir.
func WriteAll(root, dir string) error {
	fams, err := LoadFamilies(root)
	if err != nil {
		return err
	}
	outs, err := Generate(fams)
	if err != nil {
		return err
	}
	for _, o := range outs {
		if err := os.WriteFile(filepath.Join(dir, o.File), o.JSON, 0o644); err != nil { //nolint:gosec // G306: dashboards are committed, world-readable files
			return fmt.Errorf("write dashboards: %w", err)
		}
	}
	return nil
}

// grafanaDashboard is the classic dashboard JSON model (schemaVersion 42): what every Grafana
// imports and file provisioning loads. The SDK deprecates it in favour of the v2 resource,
// which only Grafana 12's new dashboard API reads.
type grafanaDashboard = dashboard.Dashboard //nolint:staticcheck // SA1019: the classic model is the importable one (see above)

// newDashboardBuilder starts a classic dashboard.
func newDashboardBuilder(title string) *dashboard.DashboardBuilder { //nolint:staticcheck // SA1019: the classic model is the importable one (grafanaDashboard)
	return dashboard.NewDashboardBuilder(title) //nolint:staticcheck // SA1019: as above
}

// build makes the SDK's dashboard: variables, links, then rows of panels numbered from 1.
func (s spec) build() (grafanaDashboard, error) {
	b := newDashboardBuilder(s.title).
		Uid(s.uid).
		Description(s.desc).
		Tags([]string{Tag}).
		Readonly().
		Timezone(common.TimeZoneBrowser).
		Time("now-1h", "now").
		Refresh("30s").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("procagent dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true))
	for _, v := range variables(s.collector) {
		b = b.WithVariable(v)
	}
	id := uint32(0)
	for _, r := range s.rows {
		id++
		b = b.WithRow(dashboard.NewRowBuilder(r.title).Id(id))
		for _, p := range r.panels {
			id++
			pb, err := p.build(id)
			if err != nil {
				return grafanaDashboard{}, err
			}
			b = b.WithPanel(pb)
		}
	}
	d, err := b.Build()
	if err != nil {
		return grafanaDashboard{}, err
	}
	return d, nil
}

// variables are the data source and the chained job and instance variables, and the
// collector's pair when asked for.
func variables(collector bool) []cog.Builder[dashboard.VariableModel] {
	vars := []cog.Builder[dashboard.VariableModel]{
		dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus"),
		queryVariable("job", "Job", `label_values(procagent_build_info, job)`),
		queryVariable("instance", "Instance", `label_values(procagent_build_info{job=~"$job"}, instance)`),
	}
	if collector {
		vars = append(vars,
			queryVariable("otelcol_job", "Collector job", `label_values(otelcol_process_uptime, job)`),
			queryVariable("otelcol_instance", "Collector instance", `label_values(otelcol_process_uptime{job=~"$otelcol_job"}, instance)`),
		)
	}
	return vars
}

// queryVariable is a multi-value query variable with All (matching ".+"), refreshed when
// the time range changes.
func queryVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".+")
}

// helpTexts looks help texts up in the names table and remembers the first family it
// could not find, so a dashboard is written in one go and checked once.
type helpTexts struct {
	fams    []Family
	missing []error
}

// of returns the help text of the family prom, quoted with its name.
func (h *helpTexts) of(prom string) string {
	help, err := helpOf(h.fams, prom)
	if err != nil {
		h.missing = append(h.missing, err)
		return ""
	}
	return "`" + prom + "`: " + help
}

func (h *helpTexts) err() error { return errors.Join(h.missing...) }
