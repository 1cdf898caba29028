package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/session"
	"cihui/internal/testenv"
	"cihui/internal/web"
)

// client is a browser without JavaScript: cookies, form posts, redirects.
// Every form it posts carries the CSRF token of the last page it read, as
// the page's own form would.
type client struct {
	t    *testing.T
	e    *testenv.Env
	base string
	http *http.Client
	csrf string
	// person is who signed in.
	person testenv.Person
}

// httpsJar keeps cookies as a browser on HTTPS would: the test server is
// plain HTTP, and the session cookie is Secure (__Host-).
type httpsJar struct{ *cookiejar.Jar }

func secure(u *url.URL) *url.URL { v := *u; v.Scheme = "https"; return &v }

func (j httpsJar) SetCookies(u *url.URL, cs []*http.Cookie) { j.Jar.SetCookies(secure(u), cs) }
func (j httpsJar) Cookies(u *url.URL) []*http.Cookie        { return j.Jar.Cookies(secure(u)) }

func newClient(t *testing.T, e *testenv.Env) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, e: e, base: e.HTTP.URL, http: &http.Client{Jar: httpsJar{jar}}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) read(res *http.Response) string {
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return string(b)
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	res, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	return res.StatusCode, c.read(res)
}

// post posts a form with the CSRF token of the last page read.
func (c *client) post(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	if _, ok := form["csrf_token"]; !ok && c.csrf != "" {
		f := url.Values{"csrf_token": {c.csrf}}
		for k, v := range form {
			f[k] = v
		}
		form = f
	}
	return c.postAsIs(path, form)
}

// postAsIs posts a form as it is (no token added).
func (c *client) postAsIs(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	res, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	return res.StatusCode, c.read(res), res.Request.URL.Path
}

// signIn signs in as the person a token is issued to (testenv.PersonOfToken).
func (c *client) signIn(token string) { c.t.Helper(); c.signInAs(c.e.PersonOfToken(token)) }

// signInAs signs in with the sign-in page's form.
func (c *client) signInAs(p testenv.Person) {
	c.t.Helper()
	c.person = p
	c.get("/ui/signin")
	form := url.Values{"email": {p.Email}, "password": {p.Password}, "next": {"/ui/"}}
	if code := p.Code(); code != "" {
		form.Set("code", code)
	}
	if st, body, _ := c.post("/ui/signin", form); st != http.StatusOK || !strings.Contains(body, "登出") {
		c.t.Fatalf("sign-in: %d %.500s", st, body)
	}
}

func referralForm(nationalID string) url.Values {
	return url.Values{
		"route": {"mid_year"}, "channel": {"direct"}, "grade": {"8"},
		"student.name": {"林小華"}, "student.sex": {"F"}, "student.birth_date": {"2012-05-01"}, "student.national_id": {nationalID},
		"guardian.name": {"林大山"}, "guardian.relationship": {"父"}, "grounds": {"family_dysfunction"}, "crisis_type": {"single_parent"},
		"guardian_consent": {"on"}, "student_willing": {"on"}, "reason": {"家庭變故，需要住宿照顧"}, "idempotency_key": {"k-" + nationalID},
	}
}

// The sign-in takes a person's e-mail and password through the API's own
// sign-in (its answer, its lock-out), and every page needs it.
func TestSignInWithPassword(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := e.NewPerson("林老師", domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	c := newClient(t, e)
	if _, body := c.get("/ui/students"); !strings.Contains(body, `name="password"`) || !strings.Contains(body, `name="csrf_token"`) {
		t.Fatalf("an anonymous visit is not sent to the sign-in page: %.300s", body)
	}
	if st, body, _ := c.post("/ui/signin", url.Values{"email": {p.Email}, "password": {"wrong password 123"}}); st != http.StatusUnauthorized || !strings.Contains(body, "密碼或驗證碼不正確") {
		t.Fatalf("a wrong password: %d %.300s", st, body)
	}
	if st, body, _ := c.postAsIs("/ui/signin", url.Values{"email": {p.Email}, "password": {p.Password}}); st != http.StatusForbidden || !strings.Contains(body, "防偽驗證碼") {
		t.Fatalf("a sign-in without the form's token: %d %.300s", st, body)
	}
	c.signInAs(p)
	if st, body := c.get("/ui/students"); st != http.StatusOK || !strings.Contains(body, "我的學生") || !strings.Contains(body, `lang="zh-Hant-TW"`) {
		t.Fatalf("signed in: %d %.300s", st, body)
	}
	// The same lock-out as the API: five wrong passwords in a row lock
	// the person out, even with the right one after.
	d := newClient(t, e)
	d.get("/ui/signin")
	for range 5 {
		d.post("/ui/signin", url.Values{"email": {p.Email}, "password": {"wrong password 123"}})
	}
	if st, body, _ := d.post("/ui/signin", url.Values{"email": {p.Email}, "password": {p.Password}}); st != http.StatusTooManyRequests || !strings.Contains(body, "鎖定") {
		t.Fatalf("after five wrong passwords: %d %.300s", st, body)
	}
}

// A POST under /ui/ without the session's CSRF token is refused 403 with
// a Chinese page, and changes nothing.
func TestFormWithoutCSRFTokenIsRefused(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	c := newClient(t, e)
	c.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	for _, token := range []string{"", "forged-token"} {
		form := referralForm(testenv.NewNationalID())
		if token != "" {
			form.Set("csrf_token", token)
		}
		st, body, _ := c.postAsIs("/ui/referrals/new", form)
		if st != http.StatusForbidden || !strings.Contains(body, "防偽驗證碼") {
			t.Fatalf("a post with token %q: %d %.300s", token, st, body)
		}
	}
	if st, _, _ := c.postAsIs("/ui/signout", url.Values{}); st != http.StatusForbidden {
		t.Fatalf("a sign-out without the token: %d", st)
	}
	if _, list := c.get("/ui/students"); strings.Contains(list, "/ui/cases/") {
		t.Fatal("a post without the CSRF token filed a case")
	}
	// With the page's token the same form files.
	if st, _, path := c.post("/ui/referrals/new", referralForm(testenv.NewNationalID())); st != http.StatusOK || !strings.HasPrefix(path, "/ui/cases/") {
		t.Fatalf("with the token: %d %s", st, path)
	}
}

// Signing out ends the session on the server: the cookie no longer opens
// a page, even when a copy of it is sent again.
func TestSignOutEndsTheSession(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	c := newClient(t, e)
	c.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	u, _ := url.Parse(c.base)
	var value string
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == session.CookieName {
			value = ck.Value
		}
	}
	if value == "" {
		t.Fatal("no session cookie after sign-in")
	}
	if st, body, path := c.post("/ui/signout", url.Values{}); st != http.StatusOK || path != "/ui/signin" || !strings.Contains(body, `name="password"`) {
		t.Fatalf("sign-out: %d %s %.300s", st, path, body)
	}
	replay := newClient(t, e)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: session.CookieName, Value: value, Path: "/"}})
	if _, body := replay.get("/ui/students"); !strings.Contains(body, `name="password"`) || strings.Contains(body, "我的學生") {
		t.Fatalf("the ended session's cookie still opens a page: %.300s", body)
	}
}

// A suspended person's session stops working at once; reinstated, they
// sign in again.
func TestSuspendedPersonsSessionStops(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := e.NewPerson("王社工", domain.Scope{Role: domain.RoleSocialWorker})
	c := newClient(t, e)
	c.signInAs(p)
	if st, body := c.get("/ui/today"); st != http.StatusOK || !strings.Contains(body, "今日工作") {
		t.Fatalf("signed in: %d %.300s", st, body)
	}
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_admin"}
	if _, err := e.People.SetStatus(context.Background(), admin, p.ID, domain.PersonSuspended); err != nil {
		t.Fatal(err)
	}
	if _, body := c.get("/ui/today"); !strings.Contains(body, `name="password"`) || strings.Contains(body, "今日工作") {
		t.Fatalf("a suspended person's session still opens a page: %.300s", body)
	}
}

// A refused filing shows the API's own field error beside the field and
// records nothing; a good one lands on the case page, in ROC dates.
func TestFilingShowsTheAPIsProblemBesideTheField(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	c := newClient(t, e)
	c.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	bad := referralForm("A123456780") // check digit wrong
	st, body, _ := c.post("/ui/referrals/new", bad)
	if st != http.StatusBadRequest || !strings.Contains(body, "not a valid national ID") || !strings.Contains(body, `value="林小華"`) {
		t.Fatalf("bad national ID: %d %.2000s", st, body)
	}
	st, body, path := c.post("/ui/referrals/new", referralForm(testenv.NewNationalID()))
	if st != http.StatusOK || !strings.HasPrefix(path, "/ui/cases/") || !strings.Contains(body, "收件審查中") || !strings.Contains(body, "民國 115 年 2 月 11 日") {
		t.Fatalf("filing: %d %s %.2000s", st, path, body)
	}
	if _, list := c.get("/ui/students"); strings.Count(list, "/ui/cases/") != 1 {
		t.Fatalf("the list should hold exactly the one filed case: %.2000s", list)
	}
}

// A form posted from another site is refused (CSRF) and changes nothing.
func TestCrossSiteFormPostIsRefused(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	c := newClient(t, e)
	c.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	req, _ := http.NewRequest(http.MethodPost, e.HTTP.URL+"/ui/referrals/new", strings.NewReader(referralForm(testenv.NewNationalID()).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://elsewhere.example")
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", res.StatusCode)
	}
	if _, list := c.get("/ui/students"); strings.Contains(list, "/ui/cases/") {
		t.Fatal("a refused cross-site post filed a case")
	}
}

// A page shows no more than the API shows the same person: another
// school's case is not found for this school, as GET /v1/referrals/{id}
// answers it.
func TestCasePageKeepsTheAPIsScope(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	ownTok := e.Token(domain.RoleOriginSchool, "034501")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := e.Do("GET", "/v1/referrals/"+id, ownTok, nil)
		if r.Status == http.StatusOK && r.JSON(t)["stage"] == "recommended" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the case was never projected")
		}
	}
	other := newClient(t, e)
	other.signIn(e.Token(domain.RoleOriginSchool, "999999"))
	api := e.Do("GET", "/v1/referrals/"+id, e.Token(domain.RoleOriginSchool, "999999"), nil)
	st, body := other.get("/ui/cases/" + id)
	if st != api.Status || st != http.StatusNotFound || strings.Contains(body, "測試") {
		t.Fatalf("another school's case page: %d (API %d) %.500s", st, api.Status, body)
	}
	own := newClient(t, e)
	own.signIn(ownTok)
	if st, body := own.get("/ui/cases/" + id); st != http.StatusOK || !strings.Contains(body, "初審建議就讀") {
		t.Fatalf("own case page: %d %.500s", st, body)
	}
}

// The visit form posted twice with its one Idempotency-Key (a retry after
// a lost answer) records one visit.
func TestVisitFormPostedTwiceRecordsOneVisit(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	res := e.Do("POST", "/v1/referrals", e.Token(domain.RoleOriginSchool, "034501"), testenv.ValidReferral(testenv.NewNationalID()))
	id, _ := res.JSON(t)["id"].(string)
	sw := newClient(t, e)
	swTok := e.TokenIn(e.Branch.Code, domain.RoleSocialWorker, "")
	sw.signIn(swTok)
	form := url.Values{"kind": {"visit"}, "on": {"2026-02-11"}, "note": {"家訪"}, "idempotency_key": {"visit-key-1"}}
	for i := range 2 {
		if st, body, _ := sw.post("/ui/cases/"+id+"/visit", form); st != http.StatusOK || !strings.Contains(body, "訪視紀錄已登錄") {
			t.Fatalf("post %d: %d %.500s", i+1, st, body)
		}
	}
	var v struct {
		Visit struct {
			Log []struct{ Kind string } `json:"log"`
		} `json:"visit"`
	}
	e.Do("GET", "/v1/referrals/"+id, swTok, nil).Decode(t, &v)
	if len(v.Visit.Log) != 1 {
		t.Fatalf("two posts of one visit form recorded %d visits, want 1", len(v.Visit.Log))
	}
}

// The admin pages are the admin's: anyone else gets 403 and a form posted
// to them changes nothing.
func TestAdminPagesRefuseOthers(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	sw := newClient(t, e)
	sw.signIn(e.TokenIn(e.Branch.Code, domain.RoleSocialWorker, ""))
	for _, path := range []string{"/ui/admin/people", "/ui/admin/branches", "/ui/admin/calendar", "/ui/admin/access-log", "/ui/admin/retention", "/ui/admin/quarantine"} {
		if st, body := sw.get(path); st != http.StatusForbidden || !strings.Contains(body, "只有系統管理員") {
			t.Errorf("%s for a social worker: %d %.200s", path, st, body)
		}
	}
	if st, _, _ := sw.post("/ui/admin/people", url.Values{"name": {"冒名"}, "email": {"x@example.edu.tw"}, "new_role": {"admin"}}); st != http.StatusForbidden {
		t.Errorf("a social worker adding a person: %d", st)
	}
	if _, err := e.People.ByEmail(context.Background(), "x@example.edu.tw"); err == nil {
		t.Fatal("a social worker's post added a person")
	}
	admin := newClient(t, e)
	admin.signIn(e.Token(domain.RoleAdmin, ""))
	if st, body := admin.get("/ui/admin/people"); st != http.StatusOK || !strings.Contains(body, "新增人員") {
		t.Fatalf("the admin's people page: %d %.300s", st, body)
	}
}

// A person with several roles switches the role their session acts in,
// as /auth/role does; a role they do not hold is refused.
func TestSwitchRole(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := e.NewPerson("李老師", domain.Scope{Role: domain.RoleOriginSchool, School: "034501"}, domain.Scope{Role: domain.RoleCommittee})
	c := newClient(t, e)
	c.signInAs(p)
	if st, body := c.get("/ui/role"); st != http.StatusOK || !strings.Contains(body, "審議委員會") || !strings.Contains(body, "（目前）") {
		t.Fatalf("the role page: %d %.500s", st, body)
	}
	if st, body, _ := c.post("/ui/role", url.Values{"scope": {"admin||"}}); st != http.StatusForbidden {
		t.Fatalf("switching to a role not held: %d %.300s", st, body)
	}
	st, body, path := c.post("/ui/role", url.Values{"scope": {"committee||" + e.Branch.Code}})
	if st != http.StatusOK || path != "/ui/meetings" || !strings.Contains(body, "審議委員會") {
		t.Fatalf("after switching to the committee: %d %s %.300s", st, path, body)
	}
}

// With OpenID Connect configured, the sign-in page offers the school's
// account (the API's /auth/oidc/login) and no password form, as the API
// then turns password sign-in off.
func TestSignInPageWithOIDC(t *testing.T) {
	h := web.New(web.Config{OIDC: true})(http.NotFoundHandler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/signin", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `href="/auth/oidc/login"`) || !strings.Contains(body, "以學校帳號登入") || strings.Contains(body, `name="password"`) {
		t.Fatalf("the sign-in page with OIDC: %d %.500s", rec.Code, body)
	}
}

// An admin (who must give a TOTP code) signs in from two browsers at the
// same moment: each code is used once.
func TestAdminSignsInTwice(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	tok := e.Token(domain.RoleAdmin, "")
	for range 2 {
		c := newClient(t, e)
		c.signIn(tok)
		if st, body := c.get("/ui/admin/people"); st != http.StatusOK {
			t.Fatalf("the admin's people page: %d %.300s", st, body)
		}
	}
}

// The admin places a legal hold on a case from the retention page, and
// lifts it (POST and DELETE /v1/referrals/{id}/legal-hold).
func TestAdminLegalHold(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	admin := newClient(t, e)
	admin.signIn(e.Token(domain.RoleAdmin, ""))
	admin.get("/ui/admin/retention")
	st, body, path := admin.post("/ui/admin/retention/"+id+"/hold", url.Values{"reason": {"litigation"}, "note": {"訴訟中"}, "idempotency_key": {"h1"}})
	if st != http.StatusOK || path != "/ui/admin/retention" || !strings.Contains(body, "已設定法律保全") {
		t.Fatalf("placing a hold: %d %s %.300s", st, path, body)
	}
	if st, body, _ := admin.post("/ui/admin/retention/"+id+"/hold", url.Values{"reason": {"no-such-reason"}, "idempotency_key": {"h2"}}); st < 400 || !strings.Contains(body, "無法完成") {
		t.Fatalf("a hold with an unknown reason: %d %.300s", st, body)
	}
	if st, body, _ := admin.post("/ui/admin/retention/"+id+"/hold", url.Values{"action": {"lift"}, "idempotency_key": {"l1"}}); st != http.StatusOK || !strings.Contains(body, "已解除法律保全") {
		t.Fatalf("lifting the hold: %d %.300s", st, body)
	}
}
