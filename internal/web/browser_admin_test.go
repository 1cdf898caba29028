package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// TestBrowserAdminPath clicks through the admin's pages in Chromium
// (issue 15): people (add, a role added, suspend, whose session then
// stops), a branch's settings, the office calendar import, the access
// log, retention and quarantined events. axe-core checks every page.
func TestBrowserAdminPath(t *testing.T) {
	chromiumPath(t)
	e := testenv.New(t, testenv.Options{})
	shots := artefacts(t)
	adminTok := e.Token(domain.RoleAdmin, "")

	// A case a social worker reads: the access log has a record of it.
	caseID := e.RecommendedCase("034501", domain.OutcomeRecommend)
	swTok := e.TokenIn(e.Branch.Code, domain.RoleSocialWorker, "")
	if r := e.Do("GET", "/v1/referrals/"+caseID+"?min_position=1", swTok, nil); r.Status != http.StatusOK {
		t.Fatalf("reading the case: %d", r.Status)
	}
	// A social worker signed in elsewhere, to be suspended.
	worker := e.NewPerson("黃社工", domain.Scope{Role: domain.RoleSocialWorker})
	phone := newClient(t, e)
	phone.signInAs(worker)

	b := newBrowser(t, e.HTTP.URL, shots)
	b.signInAs(e.PersonOfToken(adminTok))
	if got := b.text("h1"); got != "人員" {
		t.Fatalf("the admin lands on %q, want the people page", got)
	}
	if got := b.text("main table"); !strings.Contains(got, worker.Email) {
		t.Fatalf("the people list does not show %s: %.500s", worker.Email, got)
	}
	b.check("a01-admin-people")

	// Add a person, with a role; then give them a second role.
	b.do(
		chromedp.SetValue(chromedp.CSS("#pname"), "陳委員"),
		chromedp.SetValue(chromedp.CSS("#pemail"), "chen@example.edu.tw"),
		chromedp.SetValue(chromedp.CSS("#new_role"), "origin_school"),
		chromedp.SetValue(chromedp.CSS("#new_role_school"), "034501"),
	)
	b.submit(`form[action="/ui/admin/people"] button`)
	b.do(chromedp.WaitVisible(chromedp.CSS(".flash")))
	b.do(
		chromedp.SetValue(chromedp.CSS("#add_role"), "committee"),
		chromedp.SetValue(chromedp.CSS("#add_role_branch"), e.Branch.Code),
	)
	b.submit(`form[action$="/roles"] button`)
	b.do(chromedp.WaitVisible(`//p[contains(., "身分已更新")]`))
	if got := b.text(`form[action$="/roles"] fieldset`); !strings.Contains(got, "原就讀學校") || !strings.Contains(got, "審議委員會") {
		t.Fatalf("the person's roles: %q", got)
	}
	b.check("a02-admin-person")

	// Suspend the signed-in social worker: their session stops at once.
	b.open("/ui/admin/people/" + worker.ID)
	b.submit("#suspend")
	b.do(chromedp.WaitVisible(`//p[contains(., "已停權")]`))
	if got := b.text("#pstatus"); got != "停權" {
		t.Fatalf("status after suspending: %q", got)
	}
	if _, body := phone.get("/ui/today"); !strings.Contains(body, `name="password"`) {
		t.Fatalf("the suspended person's session still opens a page: %.300s", body)
	}
	b.check("a03-admin-person-suspended")

	// A branch's settings.
	b.open("/ui/admin/branches")
	b.check("a04-admin-branches")
	b.open("/ui/admin/branches/" + e.Branch.Code)
	b.do(chromedp.SetValue(chromedp.CSS("#bcap"), "5000"))
	b.submit(`form[action^="/ui/admin/branches/"] button`)
	if got := b.text(".ferr"); got == "" {
		t.Fatal("a cap of 5000 (above the most, R-CAP-1) shows no error beside the field")
	}
	b.check("a05-admin-branch-refused")
	b.do(chromedp.SetValue(chromedp.CSS("#bcap"), "140"))
	b.submit(`form[action^="/ui/admin/branches/"] button`)
	b.do(chromedp.WaitVisible(`//p[contains(., "分班設定已儲存")]`))
	if got := e.Do("GET", "/v1/branches/"+e.Branch.Code, adminTok, nil).JSON(t)["cap"]; got != float64(140) {
		t.Fatalf("the branch's cap after saving 140: %v", got)
	}
	b.check("a06-admin-branch-saved")

	// The office calendar, uploaded as published.
	b.open("/ui/admin/calendar")
	b.check("a07-admin-calendar")
	file, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", "tw-office-calendar-provisional", "116-transcribed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err == nil {
		b.do(chromedp.SetValue(chromedp.CSS("#cyear"), "2027"), chromedp.SetUploadFiles(chromedp.CSS("#cfile"), []string{file}))
		b.submit(`form[action="/ui/admin/calendar"] button`)
		b.do(chromedp.WaitVisible(`//p[contains(., "行事曆已匯入")]`))
		b.check("a07b-admin-calendar-imported")
		r := e.Do("GET", "/v1/calendar/workdays?from=2027-01-04&to=2027-01-08", adminTok, nil)
		if !strings.Contains(string(r.Body), "official") {
			t.Fatalf("after the import, 2027 is not official: %d %s", r.Status, r.Body)
		}
	} else {
		t.Logf("%s is not here: the upload is not tried", file)
	}

	// The access log, filtered by the case.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b.open("/ui/admin/access-log?case=" + caseID)
		if strings.Contains(b.text("main"), "GET /v1/referrals/:id") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the access log does not show the read of the case: %.500s", b.text("main"))
		}
	}
	b.check("a08-admin-access-log")

	b.open("/ui/admin/retention")
	if got := b.text("main"); !strings.Contains(got, "目前沒有逾保存期限的個案") {
		t.Fatalf("retention: %.300s", got)
	}
	b.check("a09-admin-retention")
	b.open("/ui/admin/quarantine")
	if got := b.text("#qcount"); !strings.HasPrefix(got, "0 筆") {
		t.Fatalf("quarantined events: %q", got)
	}
	b.check("a10-admin-quarantine")
}
