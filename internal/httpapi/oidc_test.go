package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/oidcauth"
	"cihui/internal/testenv"
)

// validatedOIDC is oidcSignIn with each of our answers checked against
// the contract.
func validatedOIDC(t *testing.T, router routers.Router, covered map[string]bool, b *testenv.Browser, want int) {
	t.Helper()
	r := validated(t, router, covered, "GET", "/auth/oidc/login", 302, b.Do("GET", "/auth/oidc/login", nil))
	r = b.Do("GET", r.Header.Get("Location"), nil)
	loc := strings.TrimPrefix(r.Header.Get("Location"), b.Base())
	validated(t, router, covered, "GET", loc, want, b.Do("GET", loc, nil))
}

// oidcSignIn walks a browser through the provider: our redirect, the
// provider's answer, our callback; it returns the callback's response.
func oidcSignIn(t *testing.T, b *testenv.Browser) testenv.Response {
	t.Helper()
	r := b.Do("GET", "/auth/oidc/login", nil)
	if r.Status != 302 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	r = b.Do("GET", r.Header.Get("Location"), nil)
	if r.Status != 302 {
		t.Fatalf("provider: %d %s", r.Status, r.Body)
	}
	return b.Do("GET", r.Header.Get("Location"), nil)
}

func withOIDC(t *testing.T, e *testenv.Env, claim string) *testenv.OIDCProvider {
	t.Helper()
	op := testenv.NewOIDCProvider(t, "cihui-api", "s3cret")
	c, err := oidcauth.New(oidcauth.Config{Issuer: op.URL, ClientID: "cihui-api", ClientSecret: "s3cret",
		RedirectURL: e.HTTP.URL + "/auth/oidc/callback", Claim: claim})
	if err != nil {
		t.Fatal(err)
	}
	e.API.UseOIDC(c)
	return op
}

// Issue 14 acceptance: sign in through the in-process OpenID provider.
// The subject claim names an invited person; the session cookie carries
// the flags; an account not invited, a suspended person and a callback
// whose state does not match are refused.
func TestSignIn_OpenIDConnect(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	op := withOIDC(t, e, "sub")
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}
	p, err := e.People.Invite(context.Background(), admin, domain.Staff{Name: "簡老師", Email: "chien@example.edu.tw",
		Subject: "edu-cloud-7f3a", Roles: []domain.Scope{{Role: domain.RoleOriginSchool, School: "034501"}}})
	if err != nil {
		t.Fatal(err)
	}
	op.SignInAs("edu-cloud-7f3a", "", false)
	b := e.NewBrowser()
	r := oidcSignIn(t, b)
	if r.Status != 303 {
		t.Fatalf("callback: %d %s", r.Status, r.Body)
	}
	var setCookie string
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "__Host-cihui_session=") {
			setCookie = v
		}
	}
	for _, flag := range []string{"Secure", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(setCookie, flag) {
			t.Errorf("the session cookie lacks %s: %s", flag, setCookie)
		}
	}
	me := mustStatus(t, b.Do("GET", "/v1/me", nil), 200).JSON(t)
	if me["person"].(map[string]any)["id"] != p.ID || me["acting"].(map[string]any)["school"] != "034501" {
		t.Fatalf("/v1/me: %v", me)
	}
	if s := mustStatus(t, b.Do("GET", "/v1/sessions", nil), 200).JSON(t)["items"].([]any); s[0].(map[string]any)["method"] != "oidc" {
		t.Fatalf("sessions: %v", s)
	}

	// With a provider, password sign-in is off.
	if r := signIn(e.NewBrowser(), p.Email, goodPassword, ""); r.Status != 404 {
		t.Fatalf("password sign-in beside a provider: %d", r.Status)
	}
	// Not invited: refused, no session.
	op.SignInAs("edu-cloud-stranger", "", false)
	stranger := e.NewBrowser()
	if r := oidcSignIn(t, stranger); r.Status != 403 || stranger.Cookies["__Host-cihui_session"] != nil {
		t.Fatalf("a stranger: %d %s", r.Status, r.Body)
	}
	// Suspended: signed out at once and refused at the next sign-in.
	if _, err := e.People.SetStatus(context.Background(), admin, p.ID, domain.PersonSuspended); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, b.Do("GET", "/v1/me", nil), 401)
	op.SignInAs("edu-cloud-7f3a", "", false)
	if r := oidcSignIn(t, e.NewBrowser()); r.Status != 403 {
		t.Fatalf("a suspended person: %d", r.Status)
	}
	// Both routes answer as the contract says.
	spec, _, err := httpapi.Spec()
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	validatedOIDC(t, router, covered, e.NewBrowser(), 403) // still suspended
	op.SignInAs("", "", false)
	validatedOIDC(t, router, covered, e.NewBrowser(), 401) // no subject claim
	if !covered["GET /auth/oidc/login"] || !covered["GET /auth/oidc/callback"] {
		t.Fatalf("covered: %v", covered)
	}
	op.SignInAs("edu-cloud-7f3a", "", false)
	// A callback without the flow's cookie (a forged or replayed one).
	if _, err := e.People.SetStatus(context.Background(), admin, p.ID, domain.PersonActive); err != nil {
		t.Fatal(err)
	}
	forger := e.NewBrowser()
	r = forger.Do("GET", "/auth/oidc/login", nil)
	r = forger.Do("GET", r.Header.Get("Location"), nil)
	delete(forger.Cookies, "__Host-cihui_oidc")
	if r := forger.Do("GET", r.Header.Get("Location"), nil); r.Status != 401 {
		t.Fatalf("a callback without the flow: %d", r.Status)
	}
}

// Issue 14: with the claim "email", a verified e-mail address names the
// invited person; an unverified one does not.
func TestSignIn_OpenIDConnectByVerifiedEmail(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	op := withOIDC(t, e, "email")
	p, err := e.People.Invite(context.Background(), events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}, domain.Staff{Name: "許社工", Email: "hsu@example.edu.tw",
		Roles: []domain.Scope{{Role: domain.RoleSocialWorker}}})
	if err != nil {
		t.Fatal(err)
	}
	op.SignInAs("whatever", "HSU@example.edu.tw", false)
	if r := oidcSignIn(t, e.NewBrowser()); r.Status != 401 {
		t.Fatalf("an unverified address: %d", r.Status)
	}
	op.SignInAs("whatever", "HSU@example.edu.tw", true)
	b := e.NewBrowser()
	mustStatus(t, oidcSignIn(t, b), 303)
	if me := mustStatus(t, b.Do("GET", "/v1/me", nil), 200).JSON(t); me["person"].(map[string]any)["id"] != p.ID {
		t.Fatalf("/v1/me: %v", me)
	}
}
