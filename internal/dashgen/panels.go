package dashgen

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// vizKind is a panel's visualization.
type vizKind int

const (
	vizTimeseries vizKind = iota
	vizStat
	vizTable
	vizHeatmap
)

// target is one query of a panel. instant marks a table's query (evaluated at the end of
// the range); heatmap marks a query of histogram buckets drawn as a heatmap.
type target struct {
	expr, legend string
	instant      bool
	heatmap      bool
}

// panel is what a dashboard says about one panel; build turns it into the SDK's panel.
type panel struct {
	viz          vizKind
	title, desc  string
	unit         string
	w, h         uint32
	targets      []target
	red          *float64 // the value from which a stat or timeseries turns red
	bars, stack  bool
	alertedAbove *float64 // an alert's threshold, drawn as a dashed line
}

// row is a titled row of panels.
type row struct {
	title  string
	panels []panel
}

// datasourceRef is the templated data source every panel and target uses.
func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// queries builds a panel's targets with ref ids A, B, ….
func (p panel) queries() []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(p.targets))
	for i, t := range p.targets {
		q := prometheus.NewDataqueryBuilder().
			Datasource(datasourceRef()).
			RefId(string(rune('A' + i))).
			Expr(t.expr).
			LegendFormat(t.legend).
			EditorMode(prometheus.QueryEditorModeCode)
		switch {
		case t.instant:
			q = q.Instant().Format(prometheus.PromQueryFormatTable)
		case t.heatmap:
			q = q.Range().Format(prometheus.PromQueryFormatHeatmap)
		default:
			q = q.Range()
		}
		out = append(out, q)
	}
	return out
}

// thresholds is green below red, or plain green without it.
func thresholds(red *float64) cog.Builder[dashboard.ThresholdsConfig] {
	steps := []dashboard.Threshold{{Color: "green"}}
	if red != nil {
		steps = append(steps, dashboard.Threshold{Value: red, Color: "red"})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

// build turns the panel into the SDK's builder, with its id.
func (p panel) build(id uint32) (cog.Builder[dashboard.Panel], error) {
	if p.title == "" || p.desc == "" || p.unit == "" || len(p.targets) == 0 {
		return nil, fmt.Errorf("panel %d %q: a title, a description, a unit and a target are required", id, p.title)
	}
	switch p.viz {
	case vizTimeseries:
		return p.timeseries(id), nil
	case vizStat:
		return stat.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.desc).Unit(p.unit).
			Span(p.w).Height(p.h).
			Datasource(datasourceRef()).Targets(p.queries()).
			Thresholds(thresholds(p.red)).
			ColorMode(common.BigValueColorModeValue).
			GraphMode(common.BigValueGraphModeArea).
			Orientation(common.VizOrientationAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})), nil
	case vizTable:
		return table.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.desc).Unit(p.unit).
			Span(p.w).Height(p.h).
			Datasource(datasourceRef()).Targets(p.queries()).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
			// A table of labels: the time and the value (always 1) say nothing.
			WithTransformation(dashboard.DataTransformerConfig{
				Id:      "organize",
				Options: map[string]any{"excludeByName": map[string]any{"Time": true, "Value": true}},
			}), nil
	case vizHeatmap:
		return heatmap.NewPanelBuilder().
			Id(id).Title(p.title).Description(p.desc).Unit(p.unit).
			Span(p.w).Height(p.h).
			Datasource(datasourceRef()).Targets(p.queries()).
			Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit(p.unit)).
			Color(heatmap.NewHeatmapColorOptionsBuilder().
				Mode(heatmap.HeatmapColorModeScheme).
				Scheme("Oranges").
				Scale(heatmap.HeatmapColorScaleExponential).
				Exponent(0.5).
				Steps(64)).
			CellGap(1).
			Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
			ShowLegend(), nil
	default:
		return nil, fmt.Errorf("panel %d %q: unknown visualization %d", id, p.title, p.viz)
	}
}

// timeseries builds a time series panel: lines (or bars) with a table legend.
func (p panel) timeseries(id uint32) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().
		Id(id).Title(p.title).Description(p.desc).Unit(p.unit).
		Span(p.w).Height(p.h).
		Datasource(datasourceRef()).Targets(p.queries()).
		Min(0).
		FillOpacity(10).
		LineWidth(1).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	if p.bars {
		b = b.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
	}
	if p.stack {
		b = b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
	}
	switch {
	case p.alertedAbove != nil:
		b = b.Thresholds(thresholds(p.alertedAbove)).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
	case p.red != nil:
		b = b.Thresholds(thresholds(p.red))
	}
	return b
}

// Units the dashboards use, by their Grafana ids.
const (
	unitNone    = units.NoUnit
	unitSeconds = units.Seconds
	unitBytes   = units.BytesIEC
	unitRatio   = units.PercentUnit
	unitEvents  = units.EventsPerSecond
	unitMsgs    = units.MessagesPerSecond
	unitOps     = units.OpsPerSecond
	unitReqs    = units.RequestsPerSecond
	unitCounts  = units.CountsPerSecond
	unitBytesPS = units.BytesPerSecondIEC
)

// ptr returns a pointer to v.
func ptr(v float64) *float64 { return &v }
