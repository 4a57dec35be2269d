package report

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// peerColors are the runtimes' and exporters' colours, by position.
var peerColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// ratioBars draws one bar per workload for one runtime on a log axis, from
// 1 (the baseline) to its ratio: up when slower than raw Go, down when
// faster.
type ratioBars struct {
	ratios []float64
	offset vg.Length
	width  vg.Length
	color  color.Color
}

func (b ratioBars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for i, r := range b.ratios {
		if !(r > 0) {
			continue
		}
		x := tx(float64(i)) + b.offset
		y0, y1 := ty(1), ty(r)
		c.FillPolygon(b.color, c.ClipPolygonXY(box(x-b.width/2, min(y0, y1), x+b.width/2, max(y0, y1))))
	}
}

func (b ratioBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = 1, 1
	for _, r := range b.ratios {
		if r > 0 {
			ymin, ymax = math.Min(ymin, r), math.Max(ymax, r)
		}
	}
	// Room above the tallest bar and below the lowest, on the log scale.
	return -0.5, float64(len(b.ratios)) - 0.5, ymin / 1.15, ymax * 1.15
}

// ratioTicks labels a log axis at 1, 2 and 5 times powers of ten, each
// label followed by unit.
type ratioTicks struct{ unit string }

func (t ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)) - 1; e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v >= lo*0.999 && v <= hi*1.001 {
				ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%g%s", v, t.unit)})
			}
		}
	}
	if len(ts) < 2 { // a narrow range: label its ends
		ts = append(ts, plot.Tick{Value: lo, Label: fmt.Sprintf("%.3g%s", lo, t.unit)},
			plot.Tick{Value: hi, Label: fmt.Sprintf("%.3g%s", hi, t.unit)})
	}
	return ts
}

// RuntimeChart writes a PNG of each runtime's ratio to raw Go per workload.
func RuntimeChart(rows []RuntimeRow, path string) error {
	p := plot.New()
	p.Title.Text = "Time per operation ÷ raw Go (log scale; 1 = raw Go, lower is better)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = ratioTicks{unit: "×"}
	p.Y.Label.Text = "ratio to raw Go"
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.ID + " " + r.Name
	}
	p.NominalX(names...)
	w := vg.Points(16)
	for i, peer := range Peers {
		rs := make([]float64, len(rows))
		for j, r := range rows {
			rs[j] = r.Cells[peer].Ratio
		}
		bars := ratioBars{ratios: rs, offset: w * vg.Length(i-1), width: w, color: peerColors[i]}
		p.Add(bars)
		p.Legend.Add(peer, legendSwatch{peerColors[i]})
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color = color.Black
	p.Add(one)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Millimeter * 3
	p.Legend.YOffs = -vg.Millimeter * 3
	p.Add(plotter.NewGrid())
	return p.Save(22*vg.Centimeter, 12*vg.Centimeter, path)
}

// legendSwatch is a filled square for the legend.
type legendSwatch struct{ c color.Color }

func (s legendSwatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, box(c.Min.X, c.Min.Y, c.Max.X, c.Max.Y))
}

// box is the rectangle between two corners, as a polygon.
func box(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// exporterPanel is one figure of the exporter chart.
type exporterPanel struct {
	title string
	value func(ExporterFigures) float64
	log   bool // a log y axis: the exporters differ by orders of magnitude
}

// ExporterChart writes a PNG of each exporter's costs against N, one panel
// per figure.
func ExporterChart(figs []ExporterFigures, names []string, path string) error {
	panels := []exporterPanel{
		{"idle RSS (MiB)", func(f ExporterFigures) float64 { return f.IdleRSS / (1 << 20) }, false},
		{"idle CPU per 60 s (ms)", func(f ExporterFigures) float64 { return f.IdleCPU60 * 1e3 }, false},
		{"CPU per scrape (ms, log)", func(f ExporterFigures) float64 { return f.ScrapeCPU * 1e3 }, true},
		{"scrape latency (ms, log)", func(f ExporterFigures) float64 { return f.ScrapeLatency * 1e3 }, true},
		{"series per scrape (log)", func(f ExporterFigures) float64 { return f.Series }, true},
		{"CPU per worker per refresh (µs, log)", func(f ExporterFigures) float64 { return f.PerWorker * 1e6 }, true},
	}
	const rows, cols = 2, 3
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for k, pan := range panels {
		p := plot.New()
		p.Title.Text = pan.title
		p.X.Label.Text = "workers (N)"
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		if pan.log {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = ratioTicks{unit: ""}
		}
		for i, name := range names {
			var xys plotter.XYs
			for _, f := range figs {
				if v := pan.value(f); f.Exporter == name && !math.IsNaN(v) && (!pan.log || v > 0) {
					xys = append(xys, plotter.XY{X: float64(f.N), Y: pan.value(f)})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			l.Color, s.Color = peerColors[i%len(peerColors)], peerColors[i%len(peerColors)]
			p.Add(l, s)
			if k == 0 {
				p.Legend.Add(name, l, s)
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		plots[k/cols][k%cols] = p
	}
	img := vgimg.NewWith(vgimg.UseWH(30*vg.Centimeter, 18*vg.Centimeter), vgimg.UseDPI(110))
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, dc)
	for i := range rows {
		for j := range cols {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path) //nolint:gosec // G304: the chart path the caller chose
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
