package web_test

import (
	"fmt"
	"net/http"
	"net/url"
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

	// Reset another social worker's password: the temporary password is
	// shown once, their session stops, the old password no longer signs
	// in, the temporary one does (issue 15).
	worker2 := e.NewPerson("周社工", domain.Scope{Role: domain.RoleSocialWorker})
	laptop := newClient(t, e)
	laptop.signInAs(worker2)
	b.open("/ui/admin/people/" + worker2.ID)
	b.submit("#reset-password")
	temp := b.text("#temporary")
	if len(temp) < 12 {
		t.Fatalf("the temporary password shown: %q", temp)
	}
	if _, body := laptop.get("/ui/today"); !strings.Contains(body, `name="password"`) {
		t.Fatalf("the session survives the password reset: %.300s", body)
	}
	if st, body, _ := newClient(t, e).post("/ui/signin", url.Values{"email": {worker2.Email}, "password": {worker2.Password}, "next": {"/ui/"}}); st == http.StatusOK && strings.Contains(body, "登出") {
		t.Fatal("the old password still signs in")
	}
	newClient(t, e).signInAs(testenv.Person{Staff: worker2.Staff, Password: temp})
	b.check("a03b-admin-person-password-reset")

	// Clear another admin's second factor.
	admin2 := e.NewPerson("林管理", domain.Scope{Role: domain.RoleAdmin})
	b.open("/ui/admin/people/" + admin2.ID)
	b.submit("#reset-totp")
	b.do(chromedp.WaitVisible(`//p[contains(., "已清除驗證器")]`))
	if p := e.Do("GET", "/v1/people/"+admin2.ID, adminTok, nil).JSON(t); p["totp_enrolled"] != false {
		t.Fatalf("second factor after the reset: %v", p["totp_enrolled"])
	}
	b.check("a03c-admin-person-totp-reset")

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
	b.submit("#run-retention")
	b.do(chromedp.WaitVisible(`//p[contains(., "已執行保存期限清除")]`))
	if got := b.text("main"); !strings.Contains(got, "應清除 0 人，已清除 0 人") {
		t.Fatalf("the retention run: %.300s", got)
	}
	b.check("a09b-admin-retention-run")

	b.open("/ui/admin/quarantine")
	if got := b.text("#qcount"); !strings.HasPrefix(got, "0 筆") {
		t.Fatalf("quarantined events: %q", got)
	}
	b.check("a10-admin-quarantine")

	// An event the read models refuse is quarantined, the next of its case
	// held; retried while the cause is there it stays; after the fix,
	// retrying all applies both (issue 15).
	school := e.Token(domain.RoleOriginSchool, "034501")
	r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral(testenv.NewNationalID()))
	if r.Status != http.StatusCreated {
		t.Fatalf("filing: %d %s", r.Status, r.Body)
	}
	poisoned := r.JSON(t)["id"].(string)
	if _, err := e.DB.Exec(`ALTER TABLE case_documents ADD CONSTRAINT test_poison CHECK (pages IS DISTINCT FROM 432)`); err != nil {
		t.Fatal(err)
	}
	for _, doc := range [][2]int{{4, 432}, {6, 2}} {
		if r := e.Do("PUT", fmt.Sprintf("/v1/referrals/%s/documents/%d", poisoned, doc[0]), school, map[string]any{"pages": doc[1]}); r.Status != http.StatusOK {
			t.Fatalf("document %d: %d %s", doc[0], r.Status, r.Body)
		}
	}
	waitPage(t, b, "/ui/admin/quarantine", "#qcount", "1 筆")
	if got := b.text("#quarantine"); !strings.Contains(got, poisoned) || !strings.Contains(got, "違反資料表限制") || !strings.Contains(got, "23514") {
		t.Fatalf("the quarantined event: %.500s", got)
	}
	b.check("a10b-admin-quarantine-listed")
	b.submit(`#quarantine form button`)
	b.do(chromedp.WaitVisible(`//p[contains(., "已要求重新套用")]`))
	b.check("a10c-admin-quarantine-retry-asked")
	waitPage(t, b, "/ui/admin/quarantine", "#quarantine", "最近重試")
	if _, err := e.DB.Exec(`ALTER TABLE case_documents DROP CONSTRAINT test_poison`); err != nil {
		t.Fatal(err)
	}
	b.submit("#retry-all")
	waitPage(t, b, "/ui/admin/quarantine", "main", "目前沒有隔離中的事件")
	b.check("a10d-admin-quarantine-retried")
}

// waitPage opens path until the text of sel holds want (10 s at most).
func waitPage(t *testing.T, b *browser, path, sel, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		b.open(path)
		if strings.Contains(b.text(sel), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s does not show %q: %.500s", path, sel, want, b.text("main"))
		}
	}
}
