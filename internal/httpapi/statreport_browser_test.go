package httpapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// chromiumPath finds a headless browser: $CHROMIUM, /usr/bin/chromium or
// one on PATH; "" when there is none.
func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artefactDir is where a test leaves files for people to look at:
// $CIHUI_ARTEFACTS, or the test's temporary directory.
func artefactDir(t *testing.T) string {
	if d := os.Getenv("CIHUI_ARTEFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Issue 11: a printed report (中輟學生統計) opened in headless Chromium:
// the page renders its headings, ROC dates and the national table's
// column headings, and a screenshot is kept for a person to look at. It
// skips without Chromium unless CI is set.
func TestR_STAT_2_ReportPageInChromium(t *testing.T) {
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but no Chromium is installed (set $CHROMIUM or install /usr/bin/chromium)")
		}
		t.Skip("no Chromium on this machine (set $CHROMIUM); CI runs this test")
	}
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	ids := enrolledCases(t, e, a, 3)
	mustStatus(t, e.Do("PUT", "/v1/referrals/"+ids[0]+"/categories", a.sw, map[string]any{"family_background": "single_parent", "identity": []string{"indigenous"}}), 200)
	e.Clock.Set(time.Date(2026, 8, 5, 9, 0, 0, 0, domain.Taipei))
	mustStatus(t, e.Do("POST", "/v1/referrals/"+ids[0]+"/dropouts", a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family"}), 201)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+ids[1]+"/dropouts", a.sw, map[string]any{"first_day_absent": "2026-05-04", "whereabouts": "known", "reason": "school"}), 201)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+ids[1]+"/dropouts/1/returned", a.sw, map[string]any{"returned_on": "2026-05-20"}), 200)
	// Wait for the read models once, through the API.
	mustStatus(t, e.Do("GET", "/v1/statistics/dropouts?academic_year=114", a.sw, nil, "X-Min-Position", strconv.FormatUint(lastPos(t, e), 10)), 200)

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	url := e.HTTP.URL + "/v1/statistics/dropouts/reports/dropouts?academic_year=114&as_of=2026-08-05"
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + a.sw}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return s
	}
	h1, h2, heads, total := text("h1"), text("h2"), text("thead"), text("tr.total")
	// Quality 100 gives a PNG (below it, a JPEG).
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := artefactDir(t)
	shot := filepath.Join(dir, "report-dropouts-114.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	if fi, err := os.Stat("/work/notes/screens"); err == nil && fi.IsDir() {
		_ = os.WriteFile(filepath.Join("/work/notes/screens", "report-dropouts-114.png"), png, 0o644)
	}
	if h1 != "114 學年度中輟學生統計" {
		t.Errorf("h1 %q", h1)
	}
	if !strings.Contains(h2, "民國114年8月1日至民國115年7月31日") {
		t.Errorf("h2 %q", h2)
	}
	for _, want := range []string{"性別", "在學學生總數", "該學年度輟學人數", "非該學年度輟學人數", "總再輟率", "列印日未復學生數"} {
		if !strings.Contains(heads, want) {
			t.Errorf("the headings lack %s: %q", want, heads)
		}
	}
	// AA 3; A 2 (both episodes in the period); B 0; C 1; P 1.
	if f := strings.Fields(total); len(f) < 6 || f[0] != "合計" || f[1] != "3" || f[2] != "2" || f[3] != "0" || f[4] != "1" {
		t.Errorf("total row %q", total)
	}
	if len(png) < 10_000 {
		t.Errorf("screenshot of %d bytes", len(png))
	}
}
