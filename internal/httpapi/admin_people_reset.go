package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/events"
)

// credentialResets are an admin's resets of another person's credentials
// (postgres.Logins; bin/api people password|totp --reset calls the same).
type credentialResets interface {
	ResetPassword(ctx context.Context, actor events.Actor, personID, password string) error
	ResetTOTP(ctx context.Context, actor events.Actor, personID string) error
}

// PasswordReset is the answer of POST /v1/people/{id}/password-reset: the
// temporary password, shown once (never stored, never logged).
type PasswordReset struct {
	TemporaryPassword string `json:"temporary_password"`
	SessionsEnded     bool   `json:"sessions_ended"`
}

func (s *Server) credentialResets() (credentialResets, error) {
	r, ok := s.logins.(credentialResets)
	if !ok {
		return nil, domain.Errorf(domain.EUnavailable, "password sign-in is not configured")
	}
	return r, nil
}

// resetPassword serves POST /v1/people/{id}/password-reset to admins: the
// person gets a new temporary password, which the answer shows once, and
// every session of theirs ends; the change is in their history.
func (s *Server) resetPassword(c echo.Context) error {
	r, err := s.credentialResets()
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	if !validID(c.Param("id")) {
		return domain.Errorf(domain.ENotFound, "no such person")
	}
	pw := auth.TemporaryPassword()
	if err := r.ResetPassword(c.Request().Context(), actorOf(c), c.Param("id"), pw); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, PasswordReset{TemporaryPassword: pw, SessionsEnded: true})
}

// resetTOTP serves DELETE /v1/people/{id}/totp to admins: the person's
// second factor is cleared and every session of theirs ends.
func (s *Server) resetTOTP(c echo.Context) error {
	r, err := s.credentialResets()
	if err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	if !validID(c.Param("id")) {
		return domain.Errorf(domain.ENotFound, "no such person")
	}
	if err := r.ResetTOTP(c.Request().Context(), actorOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
