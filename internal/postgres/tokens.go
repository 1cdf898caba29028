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
	_, err = t.db.ExecContext(ctx,
		`INSERT INTO api_tokens (id, token_hash, role, school, branch, label) VALUES ($1,$2,$3,$4,$5,$6)`,
		id, h[:], info.Role, info.School, info.Branch, info.Label)
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

// Authenticate returns the actor of a valid, unrevoked token.
func (t *Tokens) Authenticate(ctx context.Context, token string) (events.Actor, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return events.Actor{}, domain.Errorf(domain.EUnauthorized, "invalid token")
	}
	h := sha256.Sum256([]byte(token))
	var info TokenInfo
	err := t.db.GetContext(ctx, &info,
		`SELECT id, role, school, branch, label FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, h[:])
	if errors.Is(err, sql.ErrNoRows) {
		return events.Actor{}, domain.Errorf(domain.EUnauthorized, "invalid or revoked token")
	}
	if err != nil {
		// Connection failures stay recognisable (errors.Is/As): the HTTP
		// layer answers them 503, not 500.
		return events.Actor{}, fmt.Errorf("postgres: looking up a token: %w", err)
	}
	return events.Actor{Role: info.Role, School: info.School, Branch: info.Branch, UserID: info.ID}, nil
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
	err := t.db.SelectContext(ctx, &out, `SELECT id, role, school, branch, label FROM api_tokens WHERE revoked_at IS NULL ORDER BY created_at, id`)
	return out, err
}
