package web_test

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// TestBrowserBureau clicks through the bureau's pages in Chromium (issue
// 15): the statistics table, a drill-down into one figure, each of the
// five reports, the trend chart, the filed list and the award evidence;
// axe-core checks every page and a screenshot of each is kept.
func TestBrowserBureau(t *testing.T) {
	chromiumPath(t)
	e := testenv.New(t, testenv.Options{})
	shots := artefacts(t)
	dropped, token := bureauYear(t, e)

	b := newBrowser(t, e.HTTP.URL, shots)
	b.signIn(token)
	b.open("/ui/statistics?academic_year=114&as_of=2026-04-01")
	if got := b.text("#fig-A"); !strings.Contains(got, "2") {
		t.Fatalf("figure A: %q", got)
	}
	b.check("b01-bureau-statistics")

	b.submit(`#fig-A a`)
	b.do(chromedp.WaitVisible(chromedp.CSS("#explain")))
	got := b.text("#explain")
	for _, id := range dropped {
		if !strings.Contains(got, domain.Alias(id)) {
			t.Errorf("the drill-down into A does not name %s: %q", domain.Alias(id), got)
		}
	}
	b.check("b02-bureau-drilldown-A")

	for i, r := range []struct{ code, title string }{
		{"dropouts", "中輟學生統計"}, {"background", "家庭背景統計"}, {"indigenous", "原住民統計"},
		{"returns", "復學就讀統計"}, {"reasons", "輟學原因統計"},
	} {
		b.open("/ui/statistics?academic_year=114&as_of=2026-04-01")
		b.submit(`a[href^="/ui/statistics/reports/` + r.code + `?"]`)
		if got := b.text("#h-report"); !strings.Contains(got, r.title) {
			t.Errorf("report %s: heading %q", r.code, got)
		}
		if got := b.text(".report-table tr.total"); !strings.Contains(got, "合計") {
			t.Errorf("report %s: no total row: %q", r.code, got)
		}
		b.check("b03-bureau-report-" + string(rune('1'+i)) + "-" + r.code)
	}
	// Printed: the report on A4 landscape (its print stylesheet), every
	// page; the screenshot at the width of A4 landscape less its margins.
	b.do(chromedp.EmulateViewport(1047, 740))
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	b.shot("b03-bureau-report-5-reasons-print")
	if over, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`document.querySelector(".report-table").getBoundingClientRect().right - 1047`)); err != nil || over > 0 {
		t.Errorf("the printed report is %vpx wider than A4 landscape (%v)", over, err)
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.EmulateViewport(1280, 900))
	pdf, err := chromedp.Call(b.ctx, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(shots, "b03-bureau-report-5-reasons.pdf"), pdf.Data, 0o644)
	boxes := mediaBox.FindAllStringSubmatch(string(pdf.Data), -1)
	if len(boxes) == 0 {
		t.Fatal("the printed report has no pages")
	}
	for _, m := range boxes {
		if w, h := atof(m[1]), atof(m[2]); math.Abs(w-841.89) > 1 || math.Abs(h-595.28) > 1 {
			t.Errorf("a printed page of the report is %s × %s pt, not A4 landscape (842 × 595)", m[1], m[2])
		}
	}

	b.open("/ui/statistics/trend?from=110&to=114")
	b.do(chromedp.WaitVisible(chromedp.CSS("svg.chart-svg")))
	if got := b.text(".trend-table"); !strings.Contains(got, "66.67%") {
		t.Errorf("the trend's table: %q", got)
	}
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart-svg circle").length`))
	if err != nil || n != 1 {
		t.Errorf("the chart has %d points (%v), want 1: only 114 has students", n, err)
	}
	b.check("b04-bureau-trend")
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	b.shot("b04-bureau-trend-print")
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}

	b.open("/ui/filings?academic_year=114")
	b.check("b05-bureau-filings")
	b.submit(`form[method=post][action="/ui/filings"] button[type=submit]`)
	b.do(chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.check("b06-bureau-filed")
	b.open("/ui/award?academic_year=114")
	b.check("b07-bureau-award")
	b.open("/ui/capacity")
	b.check("b08-bureau-capacity")
}

var mediaBox = regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`)

func atof(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }

func ptr[T any](v T) *T { return &v }

// shot saves a screenshot only (the print view, where axe-core has nothing
// new to check).
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
