package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cihui/internal/auth"
)

// In development mode (`make run`) the person behind each dev token can
// sign in with the address and password written to dev-people.json (the
// admin with its second factor), and a signed-in session reads /v1.
func TestDevPeopleSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system")
	}
	dir := atRestDataDir(t)
	sys := startAtRestSystem(t, dir)
	b, err := os.ReadFile(filepath.Join(dir, "dev-people.json"))
	if err != nil {
		t.Fatal(err)
	}
	var people map[string]devPerson
	if err := json.Unmarshal(b, &people); err != nil {
		t.Fatal(err)
	}
	if len(people) != 5 {
		t.Fatalf("dev people for %d roles, want 5", len(people))
	}
	for _, role := range []string{"social_worker", "admin"} {
		p := people[role]
		code := ""
		if role == "admin" {
			if p.TOTPSecret == "" {
				t.Fatal("the dev admin has no second factor")
			}
			if code, err = auth.TOTPCode(p.TOTPSecret, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		session := devSignIn(t, sys.api, p.Email, p.Password, code)
		req, _ := http.NewRequest("GET", sys.api+"/v1/me", nil)
		req.AddCookie(session)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), role) {
			t.Fatalf("%s: GET /v1/me with the session = %d %s", role, res.StatusCode, body)
		}
	}
	if devSignInStatus(t, sys.api, people["social_worker"].Email, "not the password at all", "") != http.StatusUnauthorized {
		t.Fatal("a wrong password signed in")
	}
}

// devSignIn signs in through POST /auth/password (with the anonymous
// anti-forgery cookie and token) and returns the session cookie.
func devSignIn(t *testing.T, base, email, password, code string) *http.Cookie {
	t.Helper()
	res, cookies := devPostSignIn(t, base, email, password, code)
	if res != http.StatusSeeOther && res != http.StatusOK {
		t.Fatalf("sign-in as %s: %d", email, res)
	}
	for _, c := range cookies {
		if c.Name == "__Host-cihui_session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in as %s set no session cookie", email)
	return nil
}

func devSignInStatus(t *testing.T, base, email, password, code string) int {
	t.Helper()
	res, _ := devPostSignIn(t, base, email, password, code)
	return res
}

func devPostSignIn(t *testing.T, base, email, password, code string) (int, []*http.Cookie) {
	t.Helper()
	res, err := http.Get(base + "/auth/csrf")
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Token string `json:"csrf_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {tok.Token}}
	if code != "" {
		form.Set("code", code)
	}
	req, _ := http.NewRequest("POST", base+"/auth/password", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range res.Cookies() {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Cookies()
}
