package web

import (
	"testing"
)

func pct(v float64) *float64 { return &v }

// The trend chart puts each year's point where the scale says: four years
// over the plot area from x = 64 to 624 stand at 64 + (i+½)·140, and on a
// scale of 0–5 % (the round top above the largest value, 4.5 %) over
// y = 272 (0 %) to 40 (5 %), a value v stands at 272 − v/5·232. An
// undefined year has no point: the line breaks there and "—" is printed.
func TestLineChartPointsForAKnownSeries(t *testing.T) {
	c := lineChart("t", "d", []chartPoint{
		{Label: "111", Value: pct(2.5)},
		{Label: "112", Value: pct(4.5)},
		{Label: "113", Value: nil},
		{Label: "114", Value: pct(0)},
	})
	want := []chartMark{
		{X: 134, Y: 156, LabelY: 146, Label: "2.50%"},
		{X: 274, Y: 63.2, LabelY: 53.2, Label: "4.50%"},
		{X: 554, Y: 272, LabelY: 262, Label: "0.00%"},
	}
	if len(c.Points) != len(want) {
		t.Fatalf("points %+v", c.Points)
	}
	for i, p := range c.Points {
		if p != want[i] {
			t.Errorf("point %d: %+v, want %+v", i, p, want[i])
		}
	}
	if len(c.Lines) != 1 || c.Lines[0] != "134,156 274,63.2" {
		t.Errorf("lines %q: want one segment before the undefined year", c.Lines)
	}
	if len(c.Missing) != 1 || c.Missing[0].X != 414 || c.Missing[0].Label != "—" {
		t.Errorf("missing %+v", c.Missing)
	}
	var ticks []string
	for _, tk := range c.YTicks {
		ticks = append(ticks, tk.Label)
	}
	if got := len(ticks); got != 6 || ticks[0] != "0%" || ticks[5] != "5%" || c.YTicks[5].Y != 40 || c.YTicks[0].Y != 272 {
		t.Errorf("y ticks %+v", c.YTicks)
	}
	if c.XTicks[3].X != 554 || c.XTicks[3].Label != "114" {
		t.Errorf("x ticks %+v", c.XTicks)
	}
}

// A series of zeros or of undefined years still has a scale (0–1 %), and
// small rates get decimals on the axis.
func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ max, top, step float64 }{
		{0, 1, 0.2}, {4.5, 5, 1}, {0.37, 0.4, 0.1}, {66.67, 80, 20}, {100, 100, 20}, {12, 15, 5},
	} {
		top, step := niceScale(c.max)
		if abs(top-c.top) > 1e-9 || abs(step-c.step) > 1e-9 {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", c.max, top, step, c.top, c.step)
		}
	}
	if decimalsFor(0.1) != 1 || decimalsFor(0.2) != 1 || decimalsFor(0.05) != 2 || decimalsFor(5) != 0 {
		t.Error("decimals of tick labels")
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
