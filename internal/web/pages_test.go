package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// client is a browser without JavaScript: cookies, form posts, redirects.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, e *testenv.Env) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: e.HTTP.URL, http: &http.Client{Jar: jar}}
}

func (c *client) get(path string) (int, string) {
	c.t.Helper()
	res, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (c *client) post(path string, form url.Values) (int, string, string) {
	c.t.Helper()
	res, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Request.URL.Path
}

func (c *client) signIn(token string) {
	c.t.Helper()
	if st, body, _ := c.post("/ui/signin", url.Values{"token": {token}, "next": {"/ui/"}}); st != http.StatusOK {
		c.t.Fatalf("sign-in: %d %s", st, body)
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

// The sign-in refuses a token the API refuses, and every page needs it.
func TestSignInTakesOnlyATokenTheAPIAccepts(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	c := newClient(t, e)
	if _, body := c.get("/ui/students"); !strings.Contains(body, `name="token"`) {
		t.Fatalf("an anonymous visit is not sent to the sign-in page: %.300s", body)
	}
	if st, body, _ := c.post("/ui/signin", url.Values{"token": {"not-a-token"}}); st != http.StatusUnauthorized || !strings.Contains(body, "憑證無效") {
		t.Fatalf("a bad token: %d %.300s", st, body)
	}
	c.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	if st, body := c.get("/ui/students"); st != http.StatusOK || !strings.Contains(body, "我的學生") || !strings.Contains(body, `lang="zh-Hant-TW"`) {
		t.Fatalf("signed in: %d %.300s", st, body)
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
