package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/testenv"
)

const goodPassword = "correct horse battery 慈輝"

// withPassword invites a person holding roles and sets their password.
func withPassword(t *testing.T, e *testenv.Env, email string, roles ...domain.Scope) domain.Staff {
	t.Helper()
	ctx := context.Background()
	p, err := e.People.Invite(ctx, events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}, domain.Staff{Name: "測員", Email: email, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Logins.SetPassword(ctx, events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}, p.ID, goodPassword, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// enrolTOTP enrols a second factor for a person and returns its secret.
func enrolTOTP(t *testing.T, e *testenv.Env, p domain.Staff) string {
	t.Helper()
	ctx := context.Background()
	secret, url, err := e.Logins.BeginTOTP(ctx, p.ID)
	if err != nil || !strings.HasPrefix(url, "otpauth://totp/") || strings.Contains(url, "example.edu.tw") {
		t.Fatalf("begin: %q, %v (the URL names the person by id only)", url, err)
	}
	code, _ := auth.TOTPCode(secret, e.Clock.Now())
	if err := e.Logins.ConfirmTOTP(ctx, events.Actor{Role: domain.RoleAdmin, UserID: p.ID}, p.ID, code, e.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	return secret
}

func signIn(b *testenv.Browser, email, password, code string, extra ...string) testenv.Response {
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {b.CSRF()}}
	if code != "" {
		form.Set("code", code)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.Do("POST", "/auth/password", form)
}

// Issue 14 acceptance: sign in with a password and TOTP (required for an
// admin); the session cookie is Secure, HttpOnly, SameSite=Lax, Path=/,
// opaque; the session acts as the person in the chosen role, and can be
// switched to another role the person holds.
func TestSignIn_PasswordAndTOTP_CookieFlags(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := withPassword(t, e, "admin.lin@example.edu.tw", domain.Scope{Role: domain.RoleAdmin}, domain.Scope{Role: domain.RoleBureau})
	b := e.NewBrowser()
	// An admin without a second factor cannot sign in with a password.
	if r := signIn(b, p.Email, goodPassword, ""); r.Status != 401 {
		t.Fatalf("an admin without TOTP: %d %s", r.Status, r.Body)
	}
	secret := enrolTOTP(t, e, p)
	e.Clock.Set(e.Clock.Now().Add(30 * time.Second)) // the next code: the enrolment's is spent
	if r := signIn(b, p.Email, goodPassword, ""); r.Status != 401 {
		t.Fatalf("no code: %d", r.Status)
	}
	if r := signIn(b, p.Email, goodPassword, "000000"); r.Status != 401 {
		t.Fatalf("a wrong code: %d", r.Status)
	}
	code, _ := auth.TOTPCode(secret, e.Clock.Now())
	r := signIn(b, p.Email, goodPassword, code)
	if r.Status != 303 || r.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	var setCookie string
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "__Host-cihui_session=") {
			setCookie = v
		}
	}
	for _, flag := range []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, flag) {
			t.Errorf("the session cookie lacks %s: %s", flag, setCookie)
		}
	}
	if strings.Contains(setCookie, "Domain=") || strings.Contains(setCookie, p.ID) {
		t.Errorf("the session cookie is not opaque and host-only: %s", setCookie)
	}
	me := mustStatus(t, b.Do("GET", "/v1/me", nil), 200).JSON(t)
	if me["person"].(map[string]any)["id"] != p.ID || me["acting"].(map[string]any)["role"] != "admin" {
		t.Fatalf("/v1/me: %v", me)
	}
	// The same code again is a replay.
	if r := signIn(e.NewBrowser(), p.Email, goodPassword, code); r.Status != 401 {
		t.Fatalf("a replayed code: %d", r.Status)
	}
	// Switch to another role the person holds; not to one they do not.
	mustStatus(t, b.Do("POST", "/auth/role", url.Values{"role": {"bureau"}, "csrf_token": {b.CSRF()}}), 303)
	if me := mustStatus(t, b.Do("GET", "/v1/me", nil), 200).JSON(t); me["acting"].(map[string]any)["role"] != "bureau" {
		t.Fatalf("after switching: %v", me)
	}
	mustStatus(t, b.Do("POST", "/auth/role", url.Values{"role": {"committee"}, "csrf_token": {b.CSRF()}}), 403)
	// Sign out ends the session.
	mustStatus(t, b.Do("POST", "/auth/logout", url.Values{"csrf_token": {b.CSRF()}}), 303)
	mustStatus(t, b.Do("GET", "/v1/me", nil), 401)
}

// Issue 14: the password policy refuses short and common passwords,
// with messages that never repeat the password.
func TestPasswordPolicy_MinimumLengthAndCommonList(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}
	p, err := e.People.Invite(context.Background(), admin, domain.Staff{Name: "測員", Email: "pw@example.edu.tw", Roles: []domain.Scope{{Role: domain.RoleBureau}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"short1!", "Password2026!", "qwertyuiop123", "aaaaaaaaaaaaaaa", "1234567890123"} {
		err := e.Logins.SetPassword(context.Background(), admin, p.ID, pw, nil)
		if err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("%q: %v", pw, err)
		}
	}
	// Set through the API by the person, with a token: the current one is
	// then required to change it.
	tok := issue(t, e, e.Token(domain.RoleAdmin, ""), p.ID, map[string]any{"role": "bureau"})
	mustStatus(t, e.Do("PUT", "/v1/me/password", tok, map[string]any{"password": "Password2026!"}), 400)
	mustStatus(t, e.Do("PUT", "/v1/me/password", tok, map[string]any{"password": goodPassword}), 204)
	mustStatus(t, e.Do("PUT", "/v1/me/password", tok, map[string]any{"password": goodPassword + "2"}), 400)
	mustStatus(t, e.Do("PUT", "/v1/me/password", tok, map[string]any{"password": goodPassword + "2", "current": "wrong"}), 400)
	mustStatus(t, e.Do("PUT", "/v1/me/password", tok, map[string]any{"password": goodPassword + "2", "current": goodPassword}), 204)
	mustStatus(t, signIn(e.NewBrowser(), p.Email, goodPassword+"2", ""), 303)
}

// Issue 14 acceptance: after MaxFailures wrong attempts in a row the
// person is locked out — even the right password is refused (429) —
// until the lock-out has passed.
func TestSignIn_LockOutAfterRepeatedFailures(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := withPassword(t, e, "sw.chen@example.edu.tw", domain.Scope{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode})
	b := e.NewBrowser()
	for i := 1; i <= 4; i++ {
		if r := signIn(b, p.Email, "wrong password "+string(rune('a'+i)), ""); r.Status != 401 {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	if r := signIn(b, p.Email, "wrong password f", ""); r.Status != 429 {
		t.Fatalf("the fifth failure: %d, want 429", r.Status)
	}
	if r := signIn(b, p.Email, goodPassword, ""); r.Status != 429 {
		t.Fatalf("the right password while locked out: %d %s, want 429", r.Status, r.Body)
	}
	e.Clock.Set(e.Clock.Now().Add(16 * time.Minute))
	if r := signIn(b, p.Email, goodPassword, ""); r.Status != 303 {
		t.Fatalf("after the lock-out: %d %s", r.Status, r.Body)
	}
	// An unknown address gets the same answer as a wrong password, and
	// the answer names neither.
	r := signIn(e.NewBrowser(), "nobody@example.edu.tw", goodPassword, "")
	if r.Status != 401 || strings.Contains(string(r.Body), "nobody") {
		t.Fatalf("unknown address: %d %s", r.Status, r.Body)
	}
}

// Issue 14: sign-in attempts from one address are rate-limited.
func TestSignIn_AttemptsRateLimitedPerAddress(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	b := e.NewBrowser()
	csrf := b.CSRF()
	limited := false
	for i := 0; i < 12 && !limited; i++ {
		r := b.Do("POST", "/auth/password", url.Values{"email": {"x" + string(rune('a'+i)) + "@example.edu.tw"}, "password": {"whatever it is"}, "csrf_token": {csrf}})
		limited = r.Status == 429
		if !limited && r.Status != 401 {
			t.Fatalf("attempt %d: %d", i, r.Status)
		}
	}
	if !limited {
		t.Fatal("12 attempts in a row from one address were all answered")
	}
}

// Issue 14 acceptance: suspending a person signs them out at once.
func TestSignIn_SuspendedPersonSignedOutAtOnce(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := withPassword(t, e, "sw.wu@example.edu.tw", domain.Scope{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode})
	b := e.NewBrowser()
	mustStatus(t, signIn(b, p.Email, goodPassword, ""), 303)
	mustStatus(t, b.Do("GET", "/v1/capacity", nil), 200)
	admin := e.Token(domain.RoleAdmin, "")
	mustStatus(t, e.Do("POST", "/v1/people/"+p.ID+"/suspension", admin, nil), 200)
	mustStatus(t, b.Do("GET", "/v1/capacity", nil), 401)
	var n int
	if err := e.DB.Get(&n, `SELECT count(*) FROM sessions WHERE person_id = $1`, p.ID); err != nil || n != 0 {
		t.Fatalf("%d sessions left, %v", n, err)
	}
	// Nor can they sign in again until reinstated.
	mustStatus(t, signIn(e.NewBrowser(), p.Email, goodPassword, ""), 401)
	mustStatus(t, e.Do("DELETE", "/v1/people/"+p.ID+"/suspension", admin, nil), 200)
	mustStatus(t, signIn(e.NewBrowser(), p.Email, goodPassword, ""), 303)
}

// Issue 14 acceptance: a form post without the CSRF token is refused —
// the sign-in form, a signed-in form, and a JSON command sent with the
// session cookie — and changes nothing.
func TestCSRF_FormPostWithoutTokenRefused(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := withPassword(t, e, "sw.ho@example.edu.tw", domain.Scope{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode})
	b := e.NewBrowser()
	b.CSRF() // the anonymous cookie is there: only the form lacks it
	if r := b.Do("POST", "/auth/password", url.Values{"email": {p.Email}, "password": {goodPassword}}); r.Status != 403 {
		t.Fatalf("sign-in without the token: %d", r.Status)
	}
	if r := b.Do("POST", "/auth/password", url.Values{"email": {p.Email}, "password": {goodPassword}, "csrf_token": {strings.Repeat("A", 43)}}); r.Status != 403 {
		t.Fatalf("sign-in with another token: %d", r.Status)
	}
	// A forged cross-site post carries no cookie of ours at all.
	if r := e.NewBrowser().Do("POST", "/auth/password", url.Values{"email": {p.Email}, "password": {goodPassword}, "csrf_token": {"x"}}); r.Status != 403 {
		t.Fatalf("sign-in without the cookie: %d", r.Status)
	}
	mustStatus(t, signIn(b, p.Email, goodPassword, ""), 303)
	if r := b.Do("POST", "/auth/logout", url.Values{}); r.Status != 403 {
		t.Fatalf("sign-out without the token: %d", r.Status)
	}
	mustStatus(t, b.Do("GET", "/v1/me", nil), 200) // still signed in
	if r := b.Do("PUT", "/v1/me/password", map[string]any{"password": goodPassword + "x", "current": goodPassword}); r.Status != 403 {
		t.Fatalf("a JSON command with the cookie and no token: %d", r.Status)
	}
	mustStatus(t, b.Do("PUT", "/v1/me/password", map[string]any{"password": goodPassword + "x", "current": goodPassword}, "X-CSRF-Token", b.CSRF()), 204)
}

// Issue 14: a session ends after its idle timeout and at its absolute
// lifetime however much it is used; a person lists their sessions and
// ends one.
func TestSessions_IdleTimeoutLifetimeListAndEnd(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	p := withPassword(t, e, "sw.tsai@example.edu.tw", domain.Scope{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode})
	cfg := e.Sessions.Config()
	b := e.NewBrowser()
	mustStatus(t, signIn(b, p.Email, goodPassword, ""), 303)
	e.Clock.Set(e.Clock.Now().Add(cfg.IdleTimeout - time.Minute))
	mustStatus(t, b.Do("GET", "/v1/me", nil), 200)
	e.Clock.Set(e.Clock.Now().Add(cfg.IdleTimeout + time.Second))
	mustStatus(t, b.Do("GET", "/v1/me", nil), 401)

	mustStatus(t, signIn(b, p.Email, goodPassword, ""), 303)
	start := e.Clock.Now()
	for e.Clock.Now().Before(start.Add(cfg.Lifetime - cfg.IdleTimeout)) {
		e.Clock.Set(e.Clock.Now().Add(cfg.IdleTimeout / 2))
		mustStatus(t, b.Do("GET", "/v1/me", nil), 200)
	}
	e.Clock.Set(start.Add(cfg.Lifetime + time.Second))
	mustStatus(t, b.Do("GET", "/v1/me", nil), 401)

	other := e.NewBrowser()
	mustStatus(t, signIn(b, p.Email, goodPassword, ""), 303)
	mustStatus(t, signIn(other, p.Email, goodPassword, ""), 303)
	items := mustStatus(t, b.Do("GET", "/v1/sessions", nil), 200).JSON(t)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(items))
	}
	var otherID string
	for _, it := range items {
		if m := it.(map[string]any); m["current"] == false {
			otherID = m["id"].(string)
		}
	}
	mustStatus(t, b.Do("DELETE", "/v1/sessions/"+otherID, nil, "X-CSRF-Token", b.CSRF()), 204)
	mustStatus(t, other.Do("GET", "/v1/me", nil), 401)
	mustStatus(t, b.Do("GET", "/v1/me", nil), 200)
	// Nobody else's session can be ended.
	intruder := e.Token(domain.RoleBureau, "")
	mustStatus(t, e.Do("DELETE", "/v1/sessions/"+items[0].(map[string]any)["id"].(string), intruder, nil), 404)
}

// Every sign-in and session operation answers as the contract says.
func TestSignInRoutesMatchTheContract(t *testing.T) {
	spec, _, err := httpapi.Spec()
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := testenv.New(t, testenv.Options{})
	p := withPassword(t, e, "contract@example.edu.tw", domain.Scope{Role: domain.RoleBureau}, domain.Scope{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode})
	covered := map[string]bool{}
	b := e.NewBrowser()
	check := func(method, path string, body any, want int, headers ...string) testenv.Response {
		t.Helper()
		return validated(t, router, covered, method, path, want, b.Do(method, path, body, headers...))
	}
	check("GET", "/auth/csrf", nil, 200)
	check("POST", "/auth/password", url.Values{"email": {p.Email}, "password": {"wrong wrong wrong"}, "csrf_token": {b.CSRF()}}, 401)
	check("POST", "/auth/password", url.Values{"email": {p.Email}, "password": {goodPassword}}, 403)
	check("POST", "/auth/password", url.Values{"email": {p.Email}, "password": {goodPassword}, "csrf_token": {b.CSRF()}}, 303)
	check("POST", "/auth/role", url.Values{"role": {"social_worker"}, "csrf_token": {b.CSRF()}}, 303)
	check("POST", "/auth/role", url.Values{"role": {"admin"}, "csrf_token": {b.CSRF()}}, 403)
	items := check("GET", "/v1/sessions", nil, 200).JSON(t)["items"].([]any)
	check("PUT", "/v1/me/password", map[string]any{"password": "short"}, 403)
	check("PUT", "/v1/me/password", map[string]any{"password": "short", "current": goodPassword}, 400, "X-CSRF-Token", b.CSRF())
	check("PUT", "/v1/me/password", map[string]any{"password": goodPassword + "!", "current": goodPassword}, 204, "X-CSRF-Token", b.CSRF())
	check("POST", "/v1/me/totp", nil, 201, "X-CSRF-Token", b.CSRF())
	check("POST", "/v1/me/totp/confirmation", map[string]any{"code": "000000"}, 400, "X-CSRF-Token", b.CSRF())
	check("DELETE", "/v1/sessions/ses_0000000000000000", nil, 404, "X-CSRF-Token", b.CSRF())
	check("DELETE", "/v1/sessions/"+items[0].(map[string]any)["id"].(string), nil, 204, "X-CSRF-Token", b.CSRF())
	check("POST", "/auth/logout", url.Values{"csrf_token": {b.CSRF()}}, 303)
	check("GET", "/v1/sessions", nil, 401)
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			if ((strings.HasPrefix(path, "/auth/") && !strings.HasPrefix(path, "/auth/oidc/")) || strings.HasPrefix(path, "/v1/sessions") || strings.HasPrefix(path, "/v1/me/")) && !covered[method+" "+path] {
				t.Errorf("%s %s is never validated against the contract", method, path)
			}
		}
	}
}
