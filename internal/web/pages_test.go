package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

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
