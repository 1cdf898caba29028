package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// PeopleStore keeps the people behind the roles (postgres.People).
type PeopleStore interface {
	List(ctx context.Context, removed bool) ([]domain.Staff, error)
	Get(ctx context.Context, id string) (domain.Staff, error)
	Invite(ctx context.Context, actor events.Actor, p domain.Staff) (domain.Staff, error)
	Change(ctx context.Context, actor events.Actor, id string, patch postgres.PersonPatch) (domain.Staff, error)
	SetStatus(ctx context.Context, actor events.Actor, id string, status domain.StaffStatus) (domain.Staff, error)
	History(ctx context.Context, id string) ([]domain.StaffChange, error)
	ByEmail(ctx context.Context, email string) (domain.Staff, error)
	BySubject(ctx context.Context, subject string) (domain.Staff, error)
}

// TokenStore issues and revokes the tokens of people (postgres.Tokens).
type TokenStore interface {
	Create(ctx context.Context, info postgres.TokenInfo) (token, id string, err error)
	OfPerson(ctx context.Context, personID string) ([]postgres.TokenInfo, error)
	RevokeOf(ctx context.Context, personID, id string) error
}

// PersonRequest is the body of POST /v1/people: an invitation.
type PersonRequest struct {
	Name      string         `json:"name"`
	Email     string         `json:"email"`
	Roles     []domain.Scope `json:"roles"`
	Reminders string         `json:"reminders,omitempty"`
	Subject   string         `json:"oidc_subject,omitempty"`
}

// TokenRequest is the body of POST /v1/people/{id}/tokens.
type TokenRequest struct {
	Role      events.Role `json:"role"`
	School    string      `json:"school,omitempty"`
	Branch    string      `json:"branch,omitempty"`
	Label     string      `json:"label,omitempty"`
	ExpiresAt *time.Time  `json:"expires_at,omitempty"`
}

// IssuedToken is the answer of POST /v1/people/{id}/tokens: the token is
// shown once.
type IssuedToken struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func (s *Server) peopleStore() (PeopleStore, error) {
	if s.people == nil {
		return nil, domain.Errorf(domain.EUnavailable, "people are not configured")
	}
	return s.people, nil
}

// listPeople serves GET /v1/people[?removed=true] to admins.
func (s *Server) listPeople(c echo.Context) error {
	st, err := s.peopleStore()
	if err != nil {
		return err
	}
	removed := false
	switch c.QueryParam("removed") {
	case "", "false":
	case "true":
		removed = true
	default:
		return domain.Invalid(map[string]string{"removed": "must be true or false"})
	}
	list, err := st.List(c.Request().Context(), removed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// invitePerson serves POST /v1/people to admins.
func (s *Server) invitePerson(c echo.Context) error {
	st, err := s.peopleStore()
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req PersonRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	p, err := st.Invite(c.Request().Context(), actorOf(c), domain.Staff{Name: req.Name, Email: req.Email,
		Roles: req.Roles, Reminders: req.Reminders, Subject: req.Subject})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/people/"+p.ID)
	return c.JSON(http.StatusCreated, p)
}

// selfOrAdmin admits admins and the person named by :id.
func selfOrAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := actorOf(c)
		if a.Role == domain.RoleAdmin || (a.UserID != "" && a.UserID == c.Param("id")) {
			return next(c)
		}
		return domain.Errorf(domain.EForbidden, "only an admin or the person themselves may do this")
	}
}

// getPerson serves GET /v1/people/{id} to admins and the person.
func (s *Server) getPerson(c echo.Context) error {
	st, err := s.peopleStore()
	if err != nil {
		return err
	}
	p, err := st.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// me serves GET /v1/me: the caller's own person and the scope the
// request acts in.
func (s *Server) me(c echo.Context) error {
	st, err := s.peopleStore()
	if err != nil {
		return err
	}
	a := actorOf(c)
	p, err := st.Get(c.Request().Context(), a.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"person": p,
		"acting": domain.Scope{Role: a.Role, School: a.School, Branch: a.Branch}})
}

// changePerson serves PATCH /v1/people/{id} to admins.
func (s *Server) changePerson(c echo.Context) error {
	st, err := s.peopleStore()
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var patch postgres.PersonPatch
	if err := decodeStrict(body, &patch); err != nil {
		return err
	}
	p, err := st.Change(c.Request().Context(), actorOf(c), c.Param("id"), patch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// setPersonStatus serves POST and DELETE /v1/people/{id}/suspension and
// DELETE /v1/people/{id} to admins.
func (s *Server) setPersonStatus(status domain.StaffStatus) echo.HandlerFunc {
	return func(c echo.Context) error {
		st, err := s.peopleStore()
		if err != nil {
			return err
		}
		p, err := st.SetStatus(c.Request().Context(), actorOf(c), c.Param("id"), status)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}

// personHistory serves GET /v1/people/{id}/history to admins.
func (s *Server) personHistory(c echo.Context) error {
	st, err := s.peopleStore()
	if err != nil {
		return err
	}
	h, err := st.History(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": h})
}

// personTokens serves GET /v1/people/{id}/tokens to admins and the person.
func (s *Server) personTokens(c echo.Context) error {
	if s.tokens == nil {
		return domain.Errorf(domain.EUnavailable, "tokens are not configured")
	}
	if _, err := s.people.Get(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	list, err := s.tokens.OfPerson(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

// issueToken serves POST /v1/people/{id}/tokens to admins: a token for
// one of the person's roles.
func (s *Server) issueToken(c echo.Context) error {
	if s.tokens == nil {
		return domain.Errorf(domain.EUnavailable, "tokens are not configured")
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req TokenRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if !validID(c.Param("id")) {
		return domain.Errorf(domain.ENotFound, "no such person")
	}
	if len(req.Label) > 100 {
		return domain.Invalid(map[string]string{"label": "at most 100 characters"})
	}
	tok, id, err := s.tokens.Create(c.Request().Context(), postgres.TokenInfo{PersonID: c.Param("id"),
		Role: req.Role, School: req.School, Branch: req.Branch, Label: req.Label, ExpiresAt: req.ExpiresAt})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, IssuedToken{ID: id, Token: tok})
}

// revokeToken serves DELETE /v1/people/{id}/tokens/{token} to admins and
// the person.
func (s *Server) revokeToken(c echo.Context) error {
	if s.tokens == nil {
		return domain.Errorf(domain.EUnavailable, "tokens are not configured")
	}
	if err := s.tokens.RevokeOf(c.Request().Context(), c.Param("id"), c.Param("token")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
