package web_test

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// axeSource is axe-core, vendored from the npm registry (see
// testdata/axe-core/VERSION for the version and checksum).
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// browser is one person's headless Chromium (own cookies and storage).
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

// chromiumPath finds Chromium; without it the browser tests skip unless CI
// is set, where they must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CIHUI_CHROMIUM"), "/usr/bin/chromium"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but chromium was not found (install Debian's chromium or set CIHUI_CHROMIUM)")
	}
	t.Skip("chromium not found: browser tests skipped (set CI=true to require them)")
	return ""
}

// artefacts is where screenshots go: $CIHUI_ARTEFACTS, else a temp dir
// whose path is logged.
func artefacts(t *testing.T) string {
	dir := os.Getenv("CIHUI_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "screens")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

func newAllocator(t *testing.T) context.Context {
	path := chromiumPath(t)
	ctx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// Every person's page renders though several are open at once.
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancel)
	root, cancelRoot := chromedp.NewContext(ctx)
	t.Cleanup(cancelRoot)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return root
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

func (b *browser) open(path string) { b.t.Helper(); b.do(chromedp.Navigate(b.base + path)) }

// submit clicks a form's button and waits for the next page to load.
func (b *browser) submit(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		pctx, pcancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer pcancel()
		loc, _ := chromedp.Run(pctx, chromedp.Location())
		body, _ := chromedp.Run(pctx, chromedp.Evaluate[string](`document.body.innerText`))
		b.t.Fatalf("submitting %s: %v (page %s: %.600s)", sel, err, loc, body)
	}
}

// check saves a screenshot and runs axe-core on the page: no serious or
// critical violation may be found.
func (b *browser) check(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if fi, err := os.Stat("/work/notes/screens"); err == nil && fi.IsDir() {
		_ = os.WriteFile(filepath.Join("/work/notes/screens", name+".png"), png, 0o644)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		b.t.Fatalf("loading axe-core: %v", err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Passes int      `json:"passes"`
		Found  []string `json:"found"`
	}](`axe.run(document).then(r => ({passes: r.passes.length, found:
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	if res.Passes == 0 {
		b.t.Fatalf("axe-core on %s checked nothing", name)
	}
	for _, v := range res.Found {
		b.t.Errorf("axe-core, page %s: %s", name, v)
	}
	size, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.outerHTML.length`))
	if err == nil && size > 150<<10 {
		b.t.Errorf("page %s weighs %d bytes, more than 150 KB", name, size)
	}
}

// signIn signs in as the person a token is issued to
// (testenv.PersonOfToken gives them an e-mail address and a password),
// with the sign-in page's form.
func (b *browser) signIn(token string) {
	b.t.Helper()
	e := testenv.Running(b.base)
	if e == nil {
		b.t.Fatalf("no test environment serves %s", b.base)
	}
	b.signInAs(e.PersonOfToken(token))
}

// signInAs signs in as a person (testenv.NewPerson) with the sign-in
// page's form: e-mail, password and, with a second factor, the code.
func (b *browser) signInAs(p testenv.Person) {
	b.t.Helper()
	b.open("/ui/signin")
	b.do(chromedp.SetValue(chromedp.CSS("#email"), p.Email), chromedp.SetValue(chromedp.CSS("#password"), p.Password))
	if code := p.Code(); code != "" {
		b.do(chromedp.SetValue(chromedp.CSS("#code"), code))
	}
	b.submit(`form[action="/ui/signin"] button`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`form[action="/ui/signout"]`)))
}

// newBrowser starts one person's own Chromium (own profile: own cookies
// and device storage). A process each: with several browser contexts in
// one headless Chromium, going back to an earlier one hangs.
func newBrowser(t *testing.T, base, shots string) *browser {
	return &browser{t: t, ctx: newAllocator(t), base: base, shots: shots}
}

// TestBrowserEveryRolesMainPath clicks through each role's main path in
// Chromium (issue 15): the school files a referral and hands in
// documents; the social worker checks them, logs the visit on a phone
// (once, though the first answer was lost on the network) and
// recommends; the committee resolves and closes; the school sees the
// admission letter. axe-core checks every page on the way.
func TestBrowserEveryRolesMainPath(t *testing.T) {
	chromiumPath(t)
	e := testenv.New(t, testenv.Options{})
	shots := artefacts(t)
	schoolTok := e.Token(domain.RoleOriginSchool, "034501")
	swTok := e.TokenIn(e.Branch.Code, domain.RoleSocialWorker, "")
	committeeTok := e.TokenIn(e.Branch.Code, domain.RoleCommittee, "")

	// The origin school.
	school := newBrowser(t, e.HTTP.URL, shots)
	school.open("/ui/signin")
	school.check("01-signin")
	school.signIn(schoolTok)
	school.open("/ui/referrals/new")
	school.do(
		chromedp.SetValue(chromedp.CSS("#grade"), "8"),
		chromedp.SetValue(chromedp.CSS("#sname"), "林小華"),
		chromedp.SetValue(chromedp.CSS("#sex"), "F"),
		chromedp.SetValue(chromedp.CSS("#birth"), "2012-05-01"),
		chromedp.SetValue(chromedp.CSS("#nid"), "A123456780"), // wrong check digit
		chromedp.SetValue(chromedp.CSS("#gname"), "林大山"),
		chromedp.SetValue(chromedp.CSS("#grel"), "父"),
		chromedp.SetValue(chromedp.CSS("#crisis"), "single_parent"),
		chromedp.SetValue(chromedp.CSS("#reason"), "家庭變故，需要住宿照顧"),
		chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS("#willing")),
	)
	school.check("02-referral-form")
	school.submit(`form[action="/ui/referrals/new"] button[type=submit]`)
	if got := school.text(".ferr"); !strings.Contains(got, "national ID") {
		t.Fatalf("the API's field error is not beside the field: %q", got)
	}
	school.check("03-referral-refused")
	school.do(chromedp.SetValue(chromedp.CSS("#nid"), testenv.NewNationalID()))
	school.submit(`form[action="/ui/referrals/new"] button[type=submit]`)
	school.do(chromedp.WaitVisible(chromedp.CSS(".flash")))
	caseURL, err := chromedp.Run(school.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	caseID := strings.TrimPrefix(strings.SplitN(caseURL, "?", 2)[0], e.HTTP.URL+"/ui/cases/")
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10} {
		steps := []chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.CSS(fmt.Sprintf("#pages-%d", item)), "2")}
		if item == 5 {
			steps = append(steps, chromedp.SetValue(chromedp.CSS("#issued-5"), "2026-02-11"))
		}
		school.do(steps...)
		school.submit(fmt.Sprintf("#doc-%d form button", item))
		school.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf("#doc-%d[data-submitted]", item))))
	}
	school.check("04-school-case-documents")
	school.open("/ui/students")
	school.check("05-school-students")

	// The social worker.
	sw := newBrowser(t, e.HTTP.URL, shots)
	sw.signIn(swTok)
	sw.check("06-sw-today")
	sw.open("/ui/cases/" + caseID)
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10} {
		sw.do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#c-%d-y", item))))
		sw.submit(fmt.Sprintf("#doc-%d form button", item))
		sw.do(chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#doc-%d[data-conforms="yes"]`, item))))
	}
	sw.check("07-sw-case-checked")

	// On a phone: the visit, whose first answer is lost on the network.
	sw.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
	sw.open("/ui/cases/" + caseID + "/visit")
	sw.do(
		chromedp.Click(chromedp.CSS("#k-visit")),
		chromedp.SetValue(chromedp.CSS("#on"), "2026-02-11"),
		chromedp.SetValue(chromedp.CSS("#vnote"), "家訪：與母親晤談"),
	)
	sw.check("08-sw-visit-phone")
	lostOnce(t, sw)
	// The server recorded it though the browser never heard so.
	for deadline := time.Now().Add(5 * time.Second); visitsOfKind(t, e, swTok, caseID, domain.VisitHome) != 1; {
		if time.Now().After(deadline) {
			t.Fatal("the first submission of the visit was not recorded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	sw.open("/ui/cases/" + caseID + "/visit") // the draft comes back from the device, with its key
	sw.submit(`form[data-draft] button[type=submit]`)
	sw.do(chromedp.WaitVisible(chromedp.CSS(".flash")))
	if n := visitsOfKind(t, e, swTok, caseID, domain.VisitHome); n != 1 {
		t.Fatalf("after a lost answer and a retry, %d home visits are recorded, want 1", n)
	}
	for _, kind := range []string{"interview", "report"} {
		sw.open("/ui/cases/" + caseID + "/visit")
		sw.do(chromedp.Click(chromedp.CSS("#k-"+kind)), chromedp.SetValue(chromedp.CSS("#on"), "2026-02-11"))
		sw.submit(`form[data-draft] button[type=submit]`)
		sw.do(chromedp.WaitVisible(chromedp.CSS(".flash")))
	}
	sw.check("09-sw-case-visited-phone")
	sw.do(chromedp.EmulateViewport(1280, 900))
	sw.open("/ui/cases/" + caseID)
	sw.do(chromedp.Click(chromedp.CSS("#o-r")))
	sw.submit(`form[action$="/review"] button`)
	sw.do(chromedp.WaitVisible(`//p[contains(., "初審結果已送出")]`))
	sw.check("10-sw-reviewed")
	sw.open("/ui/capacity?on=2026-03-01")
	if got := sw.text("main"); !strings.Contains(got, "135") || !strings.Contains(got, "民國 115 年 3 月 1 日") {
		t.Fatalf("the capacity page: %.300s", got)
	}
	sw.check("10b-sw-capacity")

	// The committee.
	cm := newBrowser(t, e.HTTP.URL, shots)
	cm.signIn(committeeTok)
	cm.do(
		chromedp.SetValue(chromedp.CSS("#ay"), "114"),
		chromedp.SetValue(chromedp.CSS("#kind"), "march"),
		chromedp.SetValue(chromedp.CSS("#mdate"), "2026-03-23"),
		chromedp.SetValue(chromedp.CSS("#mtitle"), "114 學年度第 3 次複審會議"),
	)
	cm.check("11-committee-meetings")
	cm.submit(`form[action="/ui/meetings"] button`)
	cm.submit(`form[action$="/open"] button`)
	cm.do(chromedp.WaitVisible(chromedp.CSS("#case-" + caseID)))
	cm.do(chromedp.Click(chromedp.CSS("#r-" + caseID + "-a")))
	cm.submit("#case-" + caseID + " form button")
	cm.do(chromedp.WaitVisible(`//p[contains(., "決議已記錄")]`))
	if got := cm.text(".preview"); !strings.Contains(got, "錄取") {
		t.Fatalf("the close preview does not show the admission: %q", got)
	}
	cm.check("12-committee-docket-preview")
	cm.do(chromedp.SetValue(chromedp.CSS("#rdate"), "2026-04-07"))
	cm.submit(`form[action$="/close"] button`)
	cm.do(chromedp.WaitVisible(`//p[contains(., "會議已結束")]`))
	cm.check("13-committee-closed")

	// The school sees the admission letter.
	school.open("/ui/letters")
	if got := school.text("main"); !strings.Contains(got, "入學報到通知") {
		t.Fatalf("the school does not see the admission letter: %.500s", got)
	}
	school.check("14-school-letters")
	school.open("/ui/students")
	if got := school.text("main"); !strings.Contains(got, "已錄取") {
		t.Fatalf("the school's list does not show the admission: %.500s", got)
	}
}

// lostOnce submits the visit form while the browser loses the server's
// answer: the server records the visit, the browser sees a network error.
func lostOnce(t *testing.T, b *browser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/visit", RequestStage: fetch.RequestStageResponse}}}); err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	go func() {
		for ev, err := range paused {
			if err != nil {
				failed <- err
				return
			}
			if ev.Request.Method == "POST" {
				_, err := chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
				failed <- err
				return
			}
			_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[data-draft] button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the visit form's answer was never intercepted")
	}
	if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// visitsOfKind counts the case's visit-log entries of a kind, as the API
// shows them to the social worker.
func visitsOfKind(t *testing.T, e *testenv.Env, token, caseID, kind string) int {
	var v struct {
		Visit struct {
			Log []struct {
				Kind string `json:"kind"`
			} `json:"log"`
		} `json:"visit"`
	}
	r := e.Do("GET", "/v1/referrals/"+caseID+"?min_position=1", token, nil)
	r.Decode(t, &v)
	n := 0
	for _, l := range v.Visit.Log {
		if l.Kind == kind {
			n++
		}
	}
	return n
}
