package httpapi

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"cihui/internal/csrf"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/session"
)

// LoginStore checks passwords and keeps credentials (postgres.Logins).
type LoginStore interface {
	CheckPassword(ctx context.Context, email, password, code string, now time.Time) (domain.Staff, error)
	SetPassword(ctx context.Context, actor events.Actor, personID, password string, current *string) error
	BeginTOTP(ctx context.Context, personID string) (secret, url string, err error)
	ConfirmTOTP(ctx context.Context, actor events.Actor, personID, code string, now time.Time) error
}

// Sign-in attempts from one client address: 10 a minute, in bursts of 10
// (issue 14). The lock-out per person (postgres.LoginPolicy) stops a
// guesser that spreads over addresses.
const (
	attemptsPerMinute = 10
	attemptsBurst     = 10
)

// attemptLimiter rate-limits sign-in attempts by client address.
type attemptLimiter struct {
	lru *expirable.LRU[string, *rate.Limiter]
}

func newAttemptLimiter() *attemptLimiter {
	return &attemptLimiter{lru: expirable.NewLRU[string, *rate.Limiter](10000, nil, 10*time.Minute)}
}

func (l *attemptLimiter) allow(addr string) bool {
	lim, ok := l.lru.Get(addr)
	if !ok {
		lim = rate.NewLimiter(rate.Every(time.Minute/attemptsPerMinute), attemptsBurst)
		l.lru.Add(addr, lim)
	}
	return lim.Allow()
}

func clientAddr(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

func (s *Server) signInReady() error {
	if s.sessions == nil {
		return domain.Errorf(domain.EUnavailable, "sign-in is not configured")
	}
	return nil
}

// csrfToken serves GET /auth/csrf: the token the caller's forms carry
// (the session's, or for the sign-in form a new anonymous one).
func (s *Server) csrfToken(c echo.Context) error {
	if err := s.signInReady(); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, map[string]string{"csrf_token": csrf.Token(c)})
}

// chooseScope returns the scope a new session acts in: the one the form
// names, which the person must hold, or the person's first role.
func chooseScope(c echo.Context, p domain.Staff) (domain.Scope, error) {
	role := c.FormValue("role")
	if role == "" {
		return p.Roles[0], nil
	}
	want := domain.Scope{Role: events.Role(role), School: c.FormValue("school"), Branch: c.FormValue("branch")}
	for _, r := range p.Roles {
		if r.Role == want.Role && (want.School == "" || want.School == r.School) && (want.Branch == "" || want.Branch == r.Branch) {
			return r, nil
		}
	}
	return domain.Scope{}, domain.Errorf(domain.EForbidden, "you do not hold that role")
}

// passwordSignIn serves POST /auth/password, a form (email, password,
// code, optional role/school/branch, csrf_token): on success a new
// session, its cookie, and 303 to /.
func (s *Server) passwordSignIn(c echo.Context) error {
	if err := s.signInReady(); err != nil {
		return err
	}
	if s.oidc != nil {
		return domain.Errorf(domain.ENotFound, "password sign-in is off: sign in with the provider (/auth/oidc/login)")
	}
	if s.logins == nil {
		return domain.Errorf(domain.EUnavailable, "password sign-in is not configured")
	}
	if !s.attempts.allow(clientAddr(c)) {
		return domain.Errorf(domain.ETooMany, "too many sign-in attempts from this address; wait a minute")
	}
	email, pw := c.FormValue("email"), c.FormValue("password")
	if email == "" || pw == "" || len(email) > 254 || len(pw) > 1024 {
		return domain.Invalid(map[string]string{"email": "e-mail address and password are required"})
	}
	if !utf8.ValidString(email) || strings.ContainsRune(email, 0) {
		// PostgreSQL refuses such text (a 500 otherwise); the answer says
		// nothing of whether anyone has the address.
		return domain.Invalid(map[string]string{"email": "must be UTF-8 text without NUL"})
	}
	p, err := s.logins.CheckPassword(c.Request().Context(), email, pw, c.FormValue("code"), s.now())
	if err != nil {
		return err
	}
	return s.startSession(c, p, session.MethodPassword)
}

// startSession ends the request's old session, if any, and starts one.
func (s *Server) startSession(c echo.Context, p domain.Staff, method string) error {
	scope, err := chooseScope(c, p)
	if err != nil {
		return err
	}
	if old, ok := session.FromContext(c); ok {
		_ = s.sessions.End(c.Request().Context(), old.PersonID, old.ID)
	}
	value, _, err := s.sessions.Create(c.Request().Context(), p.ID, scope, method)
	if err != nil {
		return err
	}
	c.SetCookie(s.sessions.Cookie(value))
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Redirect(http.StatusSeeOther, "/")
}

// signOut serves POST /auth/logout (a form with csrf_token).
func (s *Server) signOut(c echo.Context) error {
	if err := s.signInReady(); err != nil {
		return err
	}
	if ses, ok := session.FromContext(c); ok {
		if err := s.sessions.End(c.Request().Context(), ses.PersonID, ses.ID); err != nil {
			return err
		}
	}
	c.SetCookie(session.ClearCookie())
	return c.Redirect(http.StatusSeeOther, "/")
}

// switchRole serves POST /auth/role (a form: role, school, branch,
// csrf_token): the session acts in another of the person's roles.
func (s *Server) switchRole(c echo.Context) error {
	if err := s.signInReady(); err != nil {
		return err
	}
	ses, ok := session.FromContext(c)
	if !ok {
		return session.ErrNoSession
	}
	p, err := s.people.Get(c.Request().Context(), ses.PersonID)
	if err != nil {
		return err
	}
	if c.FormValue("role") == "" {
		return domain.Invalid(map[string]string{"role": "is required"})
	}
	scope, err := chooseScope(c, p)
	if err != nil {
		return err
	}
	if err := s.sessions.SetScope(c.Request().Context(), ses.ID, scope); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// listSessions serves GET /v1/sessions: the caller's own live sessions.
func (s *Server) listSessions(c echo.Context) error {
	if err := s.signInReady(); err != nil {
		return err
	}
	list, err := s.sessions.List(c.Request().Context(), actorOf(c).UserID)
	if err != nil {
		return err
	}
	if cur, ok := session.FromContext(c); ok {
		for i := range list {
			list[i].Current = list[i].ID == cur.ID
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// endSession serves DELETE /v1/sessions/{id}: the caller ends one of
// their own sessions.
func (s *Server) endSession(c echo.Context) error {
	if err := s.signInReady(); err != nil {
		return err
	}
	if err := s.sessions.End(c.Request().Context(), actorOf(c).UserID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// PasswordRequest is the body of PUT /v1/me/password.
type PasswordRequest struct {
	Password string  `json:"password"`
	Current  *string `json:"current,omitempty"`
}

// setOwnPassword serves PUT /v1/me/password: the caller sets their
// password (the current one is required when one is set).
func (s *Server) setOwnPassword(c echo.Context) error {
	if s.logins == nil {
		return domain.Errorf(domain.EUnavailable, "password sign-in is not configured")
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req PasswordRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	a := actorOf(c)
	p, err := s.people.Get(c.Request().Context(), a.UserID)
	if err != nil {
		return err
	}
	cur := req.Current
	if p.Password && cur == nil {
		return domain.Invalid(map[string]string{"current": "is required to change a password"})
	}
	if err := s.logins.SetPassword(c.Request().Context(), a, a.UserID, req.Password, cur); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// beginTOTP serves POST /v1/me/totp: a new second factor, pending until
// confirmed; the secret is shown once.
func (s *Server) beginTOTP(c echo.Context) error {
	if s.logins == nil {
		return domain.Errorf(domain.EUnavailable, "password sign-in is not configured")
	}
	secret, url, err := s.logins.BeginTOTP(c.Request().Context(), actorOf(c).UserID)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, map[string]string{"secret": secret, "otpauth_url": url})
}

// confirmTOTP serves POST /v1/me/totp/confirmation {code}.
func (s *Server) confirmTOTP(c echo.Context) error {
	if s.logins == nil {
		return domain.Errorf(domain.EUnavailable, "password sign-in is not configured")
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	a := actorOf(c)
	if err := s.logins.ConfirmTOTP(c.Request().Context(), a, a.UserID, req.Code, s.now()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
