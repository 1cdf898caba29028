package web

import (
	"math"
	"strconv"
	"strings"
)

// A chart drawn on the server as inline SVG: no script, no library. It is
// black on white with its values printed beside the points, so it reads
// on a black-and-white printout, and the page puts the same figures in a
// table for screen readers.

// chartPoint is one value of the series: nil when undefined (a rate with
// a zero denominator), drawn as no point at all.
type chartPoint struct {
	Label string
	Value *float64
}

// chart is what the template draws; every coordinate is in the SVG's
// user units (its viewBox).
type chart struct {
	Title, Desc   string
	Width, Height float64
	// The plot area.
	Left, Right, Top, Bottom float64
	YTicks                   []chartTick
	XTicks                   []chartTick
	Points                   []chartMark
	// Lines are the series' polylines ("x,y x,y …"), broken where a
	// value is undefined.
	Lines []string
	// Missing marks the years without a value, on the baseline.
	Missing []chartTick
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartMark struct {
	X, Y  float64
	Label string // the value as printed
	// LabelY is where the value is printed: above the point.
	LabelY float64
}

// Chart geometry.
const (
	chartW, chartH                         = 640.0, 320.0
	chartLeft, chartRight                  = 64.0, 624.0
	chartTop, chartBottom                  = 40.0, 272.0
	chartLabelRise                         = 10.0
	chartMinTop                            = 1.0 // percent: the scale of an all-zero series
	chartTargetTicks                       = 5
	chartPercentDecimals, chartTickDecimal = 2, 1
)

// lineChart draws a series of percentages (values 0–100) over evenly
// spaced labels: point i of n stands at x = left + (i+½)·w/n, and a value v
// at y = bottom − v/top·h, where top is the scale's upper end, a round
// number at or above the largest value.
func lineChart(title, desc string, pts []chartPoint) chart {
	c := chart{Title: title, Desc: desc, Width: chartW, Height: chartH,
		Left: chartLeft, Right: chartRight, Top: chartTop, Bottom: chartBottom}
	max := 0.0
	for _, p := range pts {
		if p.Value != nil && *p.Value > max {
			max = *p.Value
		}
	}
	top, step := niceScale(max)
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, chartTick{X: chartLeft, Y: c.y(v, top),
			Label: strconv.FormatFloat(v, 'f', decimalsFor(step), 64) + "%"})
	}
	n := float64(len(pts))
	var line []string
	flush := func() {
		if len(line) > 1 {
			c.Lines = append(c.Lines, strings.Join(line, " "))
		}
		line = nil
	}
	for i, p := range pts {
		x := round1(chartLeft + (float64(i)+0.5)*(chartRight-chartLeft)/n)
		c.XTicks = append(c.XTicks, chartTick{X: x, Y: chartBottom, Label: p.Label})
		if p.Value == nil {
			flush()
			c.Missing = append(c.Missing, chartTick{X: x, Y: chartBottom, Label: "—"})
			continue
		}
		y := c.y(*p.Value, top)
		c.Points = append(c.Points, chartMark{X: x, Y: y, LabelY: round1(y - chartLabelRise),
			Label: strconv.FormatFloat(*p.Value, 'f', chartPercentDecimals, 64) + "%"})
		line = append(line, strconv.FormatFloat(x, 'f', -1, 64)+","+strconv.FormatFloat(y, 'f', -1, 64))
	}
	flush()
	return c
}

func (c chart) y(v, top float64) float64 {
	return round1(c.Bottom - v/top*(c.Bottom-c.Top))
}

// niceScale returns the upper end of the scale, a multiple of a round
// step (1, 2 or 5 times a power of ten) at or above max, and that step.
func niceScale(max float64) (top, step float64) {
	if max <= 0 {
		return chartMinTop, chartMinTop / chartTargetTicks
	}
	raw := max / chartTargetTicks
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * pow
		if step >= raw {
			break
		}
	}
	top = math.Ceil(max/step-1e-9) * step
	return top, step
}

// decimalsFor is how many decimals a tick label of this step needs.
func decimalsFor(step float64) int {
	d := 0
	for step < 1-1e-9 && d < 4 {
		step *= 10
		d++
	}
	return d
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
