package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/oidcauth"
	"cihui/internal/session"
)

// oidcCookie carries the flow (state, nonce, PKCE verifier) from the
// redirect to the callback: random values, for ten minutes.
const oidcCookie = "__Host-cihui_oidc"

// UseOIDC turns on sign-in with an OpenID Connect provider (issue 14),
// and so turns password sign-in off: passwords are for deployments
// without a provider.
func (s *Server) UseOIDC(c *oidcauth.Client) { s.oidc = c }

func (s *Server) oidcReady() error {
	if err := s.signInReady(); err != nil {
		return err
	}
	if s.oidc == nil {
		return domain.Errorf(domain.ENotFound, "no OpenID Connect provider is configured")
	}
	return nil
}

// oidcLogin serves GET /auth/oidc/login: to the provider, with a fresh
// state, nonce and PKCE verifier kept in a short-lived cookie.
func (s *Server) oidcLogin(c echo.Context) error {
	if err := s.oidcReady(); err != nil {
		return err
	}
	u, f, err := s.oidc.Begin(c.Request().Context())
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: f.State + "." + f.Nonce + "." + f.Verifier, Path: "/", MaxAge: 600,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Redirect(http.StatusFound, u)
}

// oidcCallback serves GET /auth/oidc/callback: the provider's answer. The
// state must match the flow's cookie (this is the callback's CSRF
// protection), the ID token must verify, and its claim must name an
// invited, active person; then a session starts.
func (s *Server) oidcCallback(c echo.Context) error {
	if err := s.oidcReady(); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	var f oidcauth.Flow
	if ck, err := c.Cookie(oidcCookie); err == nil {
		if parts := strings.Split(ck.Value, "."); len(parts) == 3 {
			f = oidcauth.Flow{State: parts[0], Nonce: parts[1], Verifier: parts[2]}
		}
	}
	if c.QueryParam("error") != "" {
		return domain.Errorf(domain.EUnauthorized, "the provider refused the sign-in")
	}
	v, err := s.oidc.Finish(c.Request().Context(), f, c.QueryParam("state"), c.QueryParam("code"))
	if err != nil {
		return err
	}
	var p domain.Staff
	if s.oidc.Claim() == "email" {
		p, err = s.people.ByEmail(c.Request().Context(), v)
	} else {
		p, err = s.people.BySubject(c.Request().Context(), v)
	}
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.ENotFound {
		return domain.Errorf(domain.EForbidden, "this account has not been invited; ask an admin")
	}
	if err != nil {
		return err
	}
	if p.Status != domain.PersonActive {
		return domain.Errorf(domain.EForbidden, "this account is suspended")
	}
	return s.startSession(c, p, session.MethodOIDC)
}
