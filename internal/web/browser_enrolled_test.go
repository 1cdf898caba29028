package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// has reports whether the page has an element matching sel.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector(`+"`"+sel+"`"+`)`))
	if err != nil {
		b.t.Fatal(err)
	}
	return ok
}

// openUntil opens path until it shows sel (the read model catching up).
func (b *browser) openUntil(path, sel string) {
	b.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b.open(path)
		if b.has(sel) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %s: %.600s", path, sel, b.text("main"))
		}
	}
}

// TestBrowserEnrolledLife clicks through the enrolled life in Chromium
// (issue 15): the social worker opens a dropout episode (R-ORG-4); the
// school finds the report owed among its duties, files it and follows the
// episode up, as does the social worker; the grounds page shows ground (4)
// at 21 days absent and not at 20 (R-SUS-1); the social worker opens the
// 中止就讀 procedure, is refused the report before both visits (R-SUS-2),
// then visits and reports; the episode is found, returned and closed; the
// school registers the semester (R-ENR-2) and records its co-counselling
// visit (R-ORG-5). axe-core checks every page on the way.
func TestBrowserEnrolledLife(t *testing.T) {
	chromiumPath(t)
	e := testenv.New(t, testenv.Options{})
	shots := artefacts(t)
	id := enrolledCase(t, e, "034501")
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	schoolTok, swTok := e.Token(domain.RoleOriginSchool, "034501"), e.Token(domain.RoleSocialWorker, "")
	cs := "/ui/cases/" + id

	// The social worker opens the episode.
	sw := newBrowser(t, e.HTTP.URL, shots)
	sw.signIn(swTok)
	sw.open(cs)
	if got := sw.text("#h-enrolled + dl"); !strings.Contains(got, "0 次") {
		t.Fatalf("the case page's enrolled section: %q", got)
	}
	sw.check("e01-sw-case-enrolled")
	sw.submit(`a[href="` + cs + `/dropouts"]`)
	sw.do(
		chromedp.SetValue(chromedp.CSS("#fda"), "2026-03-02"),
		chromedp.Click(chromedp.CSS("#wh-unknown")),
		chromedp.SetValue(chromedp.CSS("#reason"), "family"),
		chromedp.SetValue(chromedp.CSS("#subreason"), "economic"),
		chromedp.SetValue(chromedp.CSS("#dnote"), "連續未到校，家長聯絡不上"),
	)
	sw.check("e02-sw-dropout-form")
	sw.submit(`#dropout-open button`)
	sw.do(chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if got := sw.text("#ep-1"); !strings.Contains(got, "民國 115 年 3 月 2 日") || !strings.Contains(got, "家庭經濟因素") || !strings.Contains(got, "未通報") {
		t.Fatalf("the opened episode: %q", got)
	}
	sw.check("e03-sw-dropout-opened")

	// The school: the report owed is among its duties, and links to its form.
	school := newBrowser(t, e.HTTP.URL, shots)
	school.signIn(schoolTok)
	school.openUntil("/ui/duties", `tr[data-kind="dropout_report"]`)
	school.check("e04-school-duties")
	school.submit(`tr[data-kind="dropout_report"] a[href*="/dropouts"]`)
	school.do(chromedp.SetValue(chromedp.CSS("#rep-on"), "2026-03-03"))
	school.submit(`#reported-1 button`)
	school.do(chromedp.WaitVisible(`//p[contains(., "中輟通報已登錄")]`))
	school.do(
		chromedp.Click(chromedp.CSS("#fu-search")),
		chromedp.SetValue(chromedp.CSS("#fu-on"), "2026-03-04"),
		chromedp.SetValue(chromedp.CSS("#fu-note"), "至學生常去處所協尋"),
	)
	school.submit(`#follow-up-1 button`)
	school.do(chromedp.WaitVisible(`//p[contains(., "追蹤紀錄已登錄")]`))
	if got := school.text("#ep-1"); !strings.Contains(got, "民國 115 年 3 月 3 日") || !strings.Contains(got, "1 次") {
		t.Fatalf("the school's episode after the report and a follow-up: %q", got)
	}
	if school.has(`#found-1`) || school.has(`#dropout-close-1`) {
		t.Fatal("the school is offered the social worker's forms")
	}
	school.check("e05-school-dropout-followed")

	// The social worker follows up too.
	sw.open(cs + "/dropouts")
	sw.do(chromedp.Click(chromedp.CSS("#fu-counsel")), chromedp.SetValue(chromedp.CSS("#fu-on"), "2026-03-05"))
	sw.submit(`#follow-up-1 button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "追蹤紀錄已登錄")]`))
	if got := sw.text("#ep-1"); !strings.Contains(got, "2 次") {
		t.Fatalf("the episode after both follow-ups: %q", got)
	}

	// Grounds by date: (4) from the 21st day absent (Mar 23), not on the 20th (R-SUS-1).
	sw.open("/ui/suspension-grounds?as_of=2026-03-22")
	if sw.has(`#g-` + id) {
		t.Fatalf("ground listed on the 20th day absent: %.600s", sw.text("main"))
	}
	if got := sw.text("main"); !strings.Contains(got, "民國 115 年 3 月 22 日") {
		t.Fatalf("the grounds page does not name its day: %.300s", got)
	}
	sw.do(chromedp.SetValue(chromedp.CSS("#as_of"), "2026-03-23"))
	sw.submit(`form[action="/ui/suspension-grounds"] button`)
	if !sw.has(`#g-` + id + ` li[data-ground="4"]`) {
		t.Fatalf("ground (4) not listed on the 21st day absent: %.600s", sw.text("main"))
	}
	if got := sw.text(`#g-` + id); !strings.Contains(got, "中輟三週以上仍未尋獲") {
		t.Fatalf("ground (4) in words: %q", got)
	}
	sw.check("e06-sw-grounds-by-date")

	// The 中止就讀 procedure.
	sw.submit(`#g-` + id + ` a`)
	if !sw.has(`.grounds li[data-ground="4"]`) {
		t.Fatalf("today's grounds on the suspension page: %.600s", sw.text("main"))
	}
	sw.check("e07-sw-suspension")
	sw.do(chromedp.Click(chromedp.CSS("#sg-4")))
	sw.submit(`#suspension-open button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "中止就讀程序已開始")]`))
	sw.do(chromedp.Click(chromedp.CSS("#sv-home")), chromedp.SetValue(chromedp.CSS("#sv-note"), "家訪：與祖母晤談"))
	sw.submit(`#suspension-visit button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "訪視已登錄")]`))
	sw.submit(`#suspension-report button`) // the origin school not yet visited
	if got := sw.text(`#suspension-report .problem`); !strings.Contains(got, "R-SUS-2") {
		t.Fatalf("the report before both visits: %q", got)
	}
	sw.check("e08-sw-report-refused")
	sw.do(chromedp.Click(chromedp.CSS("#sv-school")))
	sw.submit(`#suspension-visit button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "訪視已登錄")]`))
	sw.do(chromedp.SetValue(chromedp.CSS("#sr-report"), "評估：建議中止就讀"))
	sw.submit(`#suspension-report button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "評估報告已送出")]`))
	if got := sw.text("#proc-status"); !strings.Contains(got, "待複審會議") {
		t.Fatalf("the procedure after the report: %q", got)
	}
	sw.do(chromedp.Click(chromedp.CSS("#am-continue")), chromedp.SetValue(chromedp.CSS("#am-notes"), "住宿適應尚可"))
	sw.submit(`#adaptation button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "就讀輔導會議已登錄")]`))
	sw.check("e09-sw-suspension-reported")

	// The episode: found, returned, closed.
	sw.open(cs + "/dropouts")
	sw.submit(`#found-1 button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "尋獲日期已登錄")]`))
	sw.submit(`#returned-1 button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "復學日期已登錄")]`))
	sw.do(chromedp.SetValue(chromedp.CSS("#close-outcome"), "returned"))
	sw.submit(`#dropout-close-1 button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "中輟已結案")]`))
	if got := sw.text("#ep-1"); !strings.Contains(got, "復學") || sw.has(`#ep-1[data-open]`) || !sw.has(`#dropout-open`) {
		t.Fatalf("the closed episode: %q", got)
	}
	sw.check("e10-sw-dropout-closed")

	// The school registers the semester and records its co-counselling.
	school.open(cs + "/duties")
	school.check("e11-school-case-duties")
	school.submit(`#registration button`)
	school.do(chromedp.WaitVisible(`//p[contains(., "註冊已登錄")]`))
	if got := school.text("#h-reg + p"); !strings.Contains(got, "114-2") {
		t.Fatalf("the registration: %q", got)
	}
	school.open("/ui/co-counselling")
	school.do(chromedp.Click(chromedp.CSS("#cc-"+id)), chromedp.SetValue(chromedp.CSS("#ccn-"+id), "與導師討論學習狀況"))
	school.check("e12-school-co-counselling")
	school.submit(`#visit button`)
	school.do(chromedp.WaitVisible(`//p[contains(., "協同輔導已登錄")]`))
}
