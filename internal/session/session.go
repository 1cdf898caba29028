// Package session keeps sign-in sessions server-side, in PostgreSQL
// (issue 14): the browser holds only an opaque value in a
// `Secure; HttpOnly; SameSite=Lax` cookie, whose SHA-256 finds the
// session. A session ends after an idle timeout, at its absolute
// lifetime, when its person signs out or ends it, and at once when its
// person is suspended or removed or loses the role it acts in.
//
// The echo middleware (Middleware) puts the session of a request in its
// context (FromContext); package csrf protects the forms of sessions.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// CookieName is the session cookie. The __Host- prefix makes browsers
// insist on Secure, Path=/ and no Domain.
const CookieName = "__Host-cihui_session"

// Sign-in methods a session records.
const (
	MethodPassword = "password"
	MethodOIDC     = "oidc"
)

// Config bounds sessions. Zero fields take the defaults.
type Config struct {
	// IdleTimeout ends a session not used for this long (default 30 min).
	IdleTimeout time.Duration
	// Lifetime ends a session this long after sign-in, however much it is
	// used (default 12 h).
	Lifetime time.Duration
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
}

// Session is one signed-in browser of a person. The cookie value is not
// part of it: only its hash is stored.
type Session struct {
	ID         string       `db:"id" json:"id"`
	PersonID   string       `db:"person_id" json:"person_id"`
	Scope      domain.Scope `db:"-" json:"acting"`
	Method     string       `db:"method" json:"method"`
	CreatedAt  time.Time    `db:"created_at" json:"created_at"`
	LastSeenAt time.Time    `db:"last_seen_at" json:"last_seen_at"`
	ExpiresAt  time.Time    `db:"expires_at" json:"expires_at"`
	// CSRF is the session's anti-forgery token for its forms.
	CSRF    string `db:"-" json:"-"`
	Current bool   `db:"-" json:"current"`
}

// Actor is who the session's requests act as: the person's id and the
// scope the session acts in.
func (s Session) Actor() events.Actor {
	return events.Actor{Role: s.Scope.Role, School: s.Scope.School, Branch: s.Scope.Branch, UserID: s.PersonID}
}

// Store keeps sessions in the sessions table (migration 00019).
type Store struct {
	db  *sqlx.DB
	cfg Config
}

// New returns the session store.
func New(db *sqlx.DB, cfg Config) *Store {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{db: db, cfg: cfg}
}

// Config returns the store's configuration, defaults filled.
func (s *Store) Config() Config { return s.cfg }

// ErrNoSession means the cookie names no live session.
var ErrNoSession = domain.Errorf(domain.EUnauthorized, "not signed in, or the session has ended")

func hashValue(v string) []byte { h := sha256.Sum256([]byte(v)); return h[:] }

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// Create starts a session of a person acting in scope, and returns the
// cookie value (given to the browser once, never stored) and the session.
func (s *Store) Create(ctx context.Context, personID string, scope domain.Scope, method string) (string, Session, error) {
	now := s.cfg.Now().UTC()
	value := base64.RawURLEncoding.EncodeToString(random(32))
	csrf := random(32)
	ses := Session{ID: "ses_" + hex.EncodeToString(random(8)), PersonID: personID, Scope: scope, Method: method,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.Lifetime), CSRF: base64.RawURLEncoding.EncodeToString(csrf)}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, person_id, role, school, branch, csrf_secret, method, created_at, last_seen_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9,$10)`,
		ses.ID, hashValue(value), personID, scope.Role, scope.School, scope.Branch, csrf, method, now, ses.ExpiresAt)
	if err != nil {
		return "", Session{}, fmt.Errorf("session: creating: %w", err)
	}
	return value, ses, nil
}

type row struct {
	Session
	Role   string `db:"role"`
	School string `db:"school"`
	Branch string `db:"branch"`
	Secret []byte `db:"csrf_secret"`
}

func (r row) session() Session {
	ses := r.Session
	ses.Scope = domain.Scope{Role: events.Role(r.Role), School: r.School, Branch: r.Branch}
	ses.CSRF = base64.RawURLEncoding.EncodeToString(r.Secret)
	return ses
}

const cols = `s.id, s.person_id, s.method, s.created_at, s.last_seen_at, s.expires_at, s.role, s.school, s.branch, s.csrf_secret`

// live is the condition of a usable session: within its lifetime and
// idle timeout, its person active and still holding its scope.
const live = `s.expires_at > $2 AND s.last_seen_at > $3 AND p.status = 'active'
	AND p.roles @> jsonb_build_array(jsonb_build_object('role', s.role, 'school', s.school, 'branch', s.branch))`

// Lookup returns the live session of a cookie value and marks it used.
// A session past its idle timeout or lifetime is deleted.
func (s *Store) Lookup(ctx context.Context, value string) (Session, error) {
	if value == "" || len(value) > 100 {
		return Session{}, ErrNoSession
	}
	now := s.cfg.Now().UTC()
	var r row
	err := s.db.GetContext(ctx, &r, `SELECT `+cols+` FROM sessions s JOIN people p ON p.id = s.person_id
		WHERE s.token_hash = $1 AND `+live, hashValue(value), now, now.Add(-s.cfg.IdleTimeout))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashValue(value)); err != nil {
			return Session{}, fmt.Errorf("session: deleting an ended session: %w", err)
		}
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: looking up: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`, r.ID, now); err != nil {
		return Session{}, fmt.Errorf("session: marking used: %w", err)
	}
	ses := r.session()
	ses.LastSeenAt, ses.Current = now, true
	return ses, nil
}

// List returns a person's live sessions, newest first.
func (s *Store) List(ctx context.Context, personID string) ([]Session, error) {
	now := s.cfg.Now().UTC()
	var rows []row
	err := s.db.SelectContext(ctx, &rows, `SELECT `+cols+` FROM sessions s JOIN people p ON p.id = s.person_id
		WHERE s.person_id = $1 AND `+live+` ORDER BY s.created_at DESC, s.id`, personID, now, now.Add(-s.cfg.IdleTimeout))
	if err != nil {
		return nil, fmt.Errorf("session: listing: %w", err)
	}
	out := make([]Session, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.session())
	}
	return out, nil
}

// End ends one of a person's sessions.
func (s *Store) End(ctx context.Context, personID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1 AND person_id = $2`, id, personID)
	if err != nil {
		return fmt.Errorf("session: ending: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.Errorf(domain.ENotFound, "no such session")
	}
	return nil
}

// EndAll ends every session of a person.
func (s *Store) EndAll(ctx context.Context, personID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1`, personID)
	return err
}

// SetScope changes the scope a session acts in; the caller checks that
// the person holds it.
func (s *Store) SetScope(ctx context.Context, id string, scope domain.Scope) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET role = $2, school = $3, branch = $4 WHERE id = $1`, id, scope.Role, scope.School, scope.Branch)
	return err
}

// Cookie returns the session cookie for value: Secure, HttpOnly,
// SameSite=Lax, Path=/, living no longer than the session may.
func (s *Store) Cookie(value string) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", MaxAge: int(s.cfg.Lifetime / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// ClearCookie returns a cookie that removes the session cookie.
func ClearCookie() *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

const contextKey = "session"

// Middleware finds the request's session from its cookie and puts it in
// the context; a request without a live session goes on anonymous (and a
// stale cookie is cleared). Errors of the database end the request.
func (s *Store) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(CookieName)
		if err != nil || ck.Value == "" {
			return next(c)
		}
		if r, ok := c.Request().Context().Value(resolvedKey{}).(resolved); ok && r.value == ck.Value {
			c.Set(contextKey, r.ses) // looked up once already by this request's caller
			return next(c)
		}
		ses, err := s.Lookup(c.Request().Context(), ck.Value)
		switch {
		case errors.Is(err, ErrNoSession):
			c.SetCookie(ClearCookie())
		case err != nil:
			return err
		default:
			c.Set(contextKey, ses)
		}
		return next(c)
	}
}

type resolvedKey struct{}

// resolved is a session looked up for a cookie value.
type resolved struct {
	value string
	ses   Session
}

// WithResolved returns ctx carrying ses, just looked up for the cookie
// value: a request made in process under ctx with that cookie (the web
// pages calling the API's handler) is not looked up again. Contexts of
// requests from the network never carry it.
func WithResolved(ctx context.Context, value string, ses Session) context.Context {
	return context.WithValue(ctx, resolvedKey{}, resolved{value: value, ses: ses})
}

// FromContext returns the request's session, if it has one.
func FromContext(c echo.Context) (Session, bool) {
	ses, ok := c.Get(contextKey).(Session)
	return ses, ok
}
