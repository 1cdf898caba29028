// Package csrf protects forms from cross-site request forgery (issue 14)
// with synchronizer tokens: a signed-in request's token is its session's
// (package session), an anonymous one's (the sign-in form) a random value
// in a `__Host-` cookie that the form must repeat (double submit). Every
// request with a method that changes state must carry the token in the
// form field csrf_token or the header X-CSRF-Token, or it is refused 403.
//
// Use Protect as echo middleware after session.Middleware, and Token in
// the page that renders a form.
package csrf

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/session"
)

// Names of the token's field, header and anonymous cookie.
const (
	FieldName  = "csrf_token"
	HeaderName = "X-CSRF-Token"
	CookieName = "__Host-cihui_csrf"
)

// Token returns the token a form of this request must carry: the
// session's, or for an anonymous request the cookie's, setting a new
// cookie when there is none.
func Token(c echo.Context) string {
	if ses, ok := session.FromContext(c); ok {
		return ses.CSRF
	}
	if ck, err := c.Cookie(CookieName); err == nil && validValue(ck.Value) {
		return ck.Value
	}
	if v, ok := c.Get(CookieName).(string); ok {
		return v // set earlier in this request
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: CookieName, Value: v, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	c.Set(CookieName, v)
	return v
}

func validValue(v string) bool { return len(v) == 43 }

// expected returns the token the request must carry, "" when it has none
// to compare with (an anonymous request without the cookie).
func expected(c echo.Context) string {
	if ses, ok := session.FromContext(c); ok {
		return ses.CSRF
	}
	if ck, err := c.Cookie(CookieName); err == nil && validValue(ck.Value) {
		return ck.Value
	}
	return ""
}

// safe methods change nothing (RFC 9110 9.2.1) and need no token.
func safe(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// ErrMissing refuses a state-changing request without a valid token.
var ErrMissing = domain.Errorf(domain.EForbidden, "the form carries no valid CSRF token; reload the page and try again")

// Check refuses a state-changing request that does not carry the token.
func Check(c echo.Context) error {
	if safe(c.Request().Method) {
		return nil
	}
	want := expected(c)
	got := c.Request().Header.Get(HeaderName)
	if got == "" {
		got = c.FormValue(FieldName)
	}
	if !Matches(want, got) {
		return ErrMissing
	}
	return nil
}

// Matches reports whether a request carries the token it must (compared
// in constant time); an empty token never matches. The web pages
// (internal/web) check their forms with it.
func Matches(want, got string) bool {
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// Protect is echo middleware that applies Check to every request.
func Protect(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := Check(c); err != nil {
			return err
		}
		return next(c)
	}
}
