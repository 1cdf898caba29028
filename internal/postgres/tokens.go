package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// Tokens stores API bearer tokens, hashed.
type Tokens struct{ db *sqlx.DB }

// NewTokens returns the token store.
func NewTokens(db *sqlx.DB) *Tokens { return &Tokens{db: db} }

// TokenInfo describes an issued token (never the token itself).
type TokenInfo struct {
	ID     string      `db:"id" json:"id"`
	Role   events.Role `db:"role" json:"role"`
	School string      `db:"school" json:"school,omitempty"`
	Branch string      `db:"branch" json:"branch,omitempty"`
	Label  string      `db:"label" json:"label,omitempty"`
	// PersonID is the person the token is issued to (issue 14): it dies
	// with them. Create without one makes a person named after the label,
	// as migration 00019 did for the tokens issued before people.
	PersonID  string     `db:"person_id" json:"person_id"`
	ExpiresAt *time.Time `db:"expires_at" json:"expires_at,omitempty"`
}

const tokenPrefix = "chk_"

// Create issues a token for role. An origin school token needs a school
// code; branch staff tokens are scoped to a branch. A malformed school
// code and a branch that is not configured are refused (issue 7,
// finding 6). It returns the token, shown once, and its id.
func (t *Tokens) Create(ctx context.Context, info TokenInfo) (token string, id string, err error) {
	if !info.Role.Valid() {
		return "", "", domain.Invalid(map[string]string{"role": "unknown role"})
	}
	if info.Role == events.RoleOriginSchool && info.School == "" {
		return "", "", domain.Invalid(map[string]string{"school": "an origin_school token needs a school code"})
	}
	if info.ExpiresAt != nil && !info.ExpiresAt.After(time.Now()) {
		return "", "", domain.Invalid(map[string]string{"expires_at": "must be in the future"})
	}
	if info.School != "" && !ValidSchoolCode(info.School) {
		return "", "", domain.Invalid(map[string]string{"school": "must be a 6-digit Ministry of Education school code such as 034501"})
	}
	if info.Branch != "" {
		var known bool
		if err := t.db.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM branches WHERE code = $1)`, info.Branch); err != nil {
			return "", "", fmt.Errorf("postgres: looking up branch: %w", err)
		}
		if !known {
			return "", "", domain.Invalid(map[string]string{"branch": "no such branch school is configured"})
		}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	id = "tok_" + hex.EncodeToString(idb[:])
	h := sha256.Sum256([]byte(token))
	if info.PersonID != "" && info.Branch == "" && (info.Role == domain.RoleSocialWorker || info.Role == domain.RoleCommittee) {
		info.Branch = domain.DefaultBranchCode // as the person's role is held
	}
	scope := domain.Scope{Role: info.Role, School: info.School, Branch: info.Branch}
	err = inTx(ctx, t.db, func(tx *sqlx.Tx) error {
		if info.PersonID == "" {
			// A person of its own, named after the label, holding the
			// token's scope exactly (migration 00019 did the same).
			name := info.Label
			if name == "" {
				name = id
			}
			p := domain.Staff{ID: NewPersonID(), Name: name, Roles: []domain.Scope{scope},
				Status: domain.PersonActive, Reminders: domain.RemindOff}
			if err := insertPerson(ctx, tx, p); err != nil {
				return err
			}
			if err := recordChange(ctx, tx, events.Actor{Role: events.RoleSystem, UserID: "token-create"}, nil, p); err != nil {
				return err
			}
			info.PersonID = p.ID
		} else {
			p, err := getPerson(ctx, tx, info.PersonID, true)
			if err != nil {
				return err
			}
			if p.Status != domain.PersonActive {
				return domain.Errorf(domain.EConflict, "tokens are issued to active people only")
			}
			if !p.Holds(scope) {
				return domain.Invalid(map[string]string{"role": "the person does not hold this role in this school or branch"})
			}
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO api_tokens (id, token_hash, role, school, branch, label, person_id, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			id, h[:], info.Role, info.School, info.Branch, info.Label, info.PersonID, info.ExpiresAt)
		return err
	})
	if err != nil {
		return "", "", err
	}
	return token, id, nil
}

// ValidSchoolCode reports whether code has the form of a Ministry of
// Education school code: six digits (e.g. 034501). There is no registry of
// schools in the system to check it against, so only the form is checked.
func ValidSchoolCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// tokenCheck is the condition a token must meet to be honoured: not
// revoked, not expired, its person active and still holding the token's
// scope. It is evaluated on every use, so a suspended or removed person's
// tokens are refused at once (issue 14).
const tokenCheck = `t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
	AND p.status = 'active'
	AND p.roles @> jsonb_build_array(jsonb_build_object('role', t.role, 'school', t.school, 'branch', t.branch))`

// Authenticate returns the actor of a valid, unrevoked token. The actor's
// UserID is the person's id, never their name.
func (t *Tokens) Authenticate(ctx context.Context, token string) (events.Actor, error) {
	a, _, err := t.AuthenticateToken(ctx, token)
	return a, err
}

// AuthenticateToken is Authenticate that also returns the token's id (a
// cache keys its revocation notices by it; the actor names the person).
func (t *Tokens) AuthenticateToken(ctx context.Context, token string) (events.Actor, string, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return events.Actor{}, "", domain.Errorf(domain.EUnauthorized, "invalid token")
	}
	h := sha256.Sum256([]byte(token))
	var info TokenInfo
	err := t.db.GetContext(ctx, &info,
		`SELECT t.id, t.role, t.school, t.branch, t.label, t.person_id, t.expires_at FROM api_tokens t JOIN people p ON p.id = t.person_id
		 WHERE t.token_hash = $1 AND `+tokenCheck, h[:])
	if errors.Is(err, sql.ErrNoRows) {
		return events.Actor{}, "", domain.Errorf(domain.EUnauthorized, "invalid or revoked token")
	}
	if err != nil {
		// Connection failures stay recognisable (errors.Is/As): the HTTP
		// layer answers them 503, not 500.
		return events.Actor{}, "", fmt.Errorf("postgres: looking up a token: %w", err)
	}
	return events.Actor{Role: info.Role, School: info.School, Branch: info.Branch, UserID: info.PersonID}, info.ID, nil
}

// Revoke revokes a token by id.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	res, err := t.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.Errorf(domain.ENotFound, "no active token with that id")
	}
	return nil
}

// List lists active tokens.
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	var out []TokenInfo
	err := t.db.SelectContext(ctx, &out, `SELECT id, role, school, branch, label, person_id, expires_at FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at, id`)
	return out, err
}

// OfPerson lists a person's unrevoked tokens.
func (t *Tokens) OfPerson(ctx context.Context, personID string) ([]TokenInfo, error) {
	out := []TokenInfo{}
	err := t.db.SelectContext(ctx, &out, `SELECT id, role, school, branch, label, person_id, expires_at FROM api_tokens WHERE person_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`, personID)
	return out, err
}

// RevokeOf revokes a token of a person.
func (t *Tokens) RevokeOf(ctx context.Context, personID, id string) error {
	res, err := t.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL`, id, personID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.Errorf(domain.ENotFound, "no active token with that id")
	}
	return nil
}

// PersonOf returns the id of the person a token (by id) is issued to.
func (t *Tokens) PersonOf(ctx context.Context, id string) (string, error) {
	var p string
	err := t.db.GetContext(ctx, &p, `SELECT person_id FROM api_tokens WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", domain.Errorf(domain.ENotFound, "no token with that id")
	}
	return p, err
}
