package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
)

// Branches loads branch-school configuration.
type Branches struct{ db *sqlx.DB }

// NewBranches returns the branch store.
func NewBranches(db *sqlx.DB) *Branches { return &Branches{db: db} }

// EnsureDefault inserts the default branch if no branch exists, so that a
// fresh system runs one branch.
func (b *Branches) EnsureDefault(ctx context.Context) error {
	cfg, err := json.Marshal(domain.DefaultBranch())
	if err != nil {
		return err
	}
	_, err = b.db.ExecContext(ctx, `INSERT INTO branches (code, config) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM branches)`, domain.DefaultBranchCode, cfg)
	return err
}

// Put creates or replaces a branch's configuration.
func (b *Branches) Put(ctx context.Context, br domain.Branch) error {
	if err := br.Validate(); err != nil {
		return domain.Errorf(domain.EInvalid, "%v", err)
	}
	cfg, err := json.Marshal(br)
	if err != nil {
		return err
	}
	_, err = b.db.ExecContext(ctx, `INSERT INTO branches (code, config) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET config = EXCLUDED.config`, br.Code, cfg)
	return err
}

// All returns every branch by code.
func (b *Branches) All(ctx context.Context) (map[string]domain.Branch, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT code, config FROM branches`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]domain.Branch{}
	for rows.Next() {
		var code string
		var raw []byte
		if err := rows.Scan(&code, &raw); err != nil {
			return nil, err
		}
		var br domain.Branch
		if err := json.Unmarshal(raw, &br); err != nil {
			return nil, fmt.Errorf("postgres: branch %s: %w", code, err)
		}
		out[code] = br
	}
	return out, rows.Err()
}
