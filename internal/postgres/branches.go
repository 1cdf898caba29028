package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
		br, err := decodeBranch(code, raw)
		if err != nil {
			return nil, err
		}
		out[code] = br
	}
	return out, rows.Err()
}

// Get returns one branch's configuration, with defaults for what older
// configurations leave out.
func (b *Branches) Get(ctx context.Context, code string) (domain.Branch, bool, error) {
	var raw []byte
	err := b.db.QueryRowContext(ctx, `SELECT config FROM branches WHERE code = $1`, code).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Branch{}, false, nil
	}
	if err != nil {
		return domain.Branch{}, false, err
	}
	br, err := decodeBranch(code, raw)
	return br, err == nil, err
}

// Save stores a branch's configuration and records the change (who, when,
// before, after) in branch_changes, in one transaction. mode BranchAdd
// refuses an existing code (EConflict), BranchSet an unknown one
// (ENotFound). It returns the recorded change.
//
// base, when set, is the configuration the change was made from: if the
// stored one differs (another change came first), nothing is written and
// the answer is EConflict, so that no change is lost.
func (b *Branches) Save(ctx context.Context, mode domain.BranchSaveMode, actorRole, actorID string, base *domain.Branch, br domain.Branch) (domain.BranchChange, error) {
	after, err := json.Marshal(br)
	if err != nil {
		return domain.BranchChange{}, err
	}
	ch := domain.BranchChange{Code: br.Code, ActorRole: actorRole, ActorID: actorID, After: br}
	err = inTx(ctx, b.db, func(tx *sqlx.Tx) error {
		var raw []byte
		err := tx.QueryRowContext(ctx, `SELECT config FROM branches WHERE code = $1 FOR UPDATE`, br.Code).Scan(&raw)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if mode == domain.BranchSet {
				return domain.Errorf(domain.ENotFound, "no branch with this code")
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO branches (code, config) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING`, br.Code, after)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return domain.Errorf(domain.EConflict, "the branch was added concurrently; retry")
			}
		case err != nil:
			return err
		default:
			if mode == domain.BranchAdd {
				return domain.Errorf(domain.EConflict, "a branch with this code exists")
			}
			before, err := decodeBranch(br.Code, raw)
			if err != nil {
				return err
			}
			ch.Before = &before
			if base != nil && !sameBranch(*base, before) {
				return domain.Errorf(domain.EConflict, "the branch was changed concurrently; read it again and retry")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE branches SET config = $2 WHERE code = $1`, br.Code, after); err != nil {
				return err
			}
		}
		var before []byte
		if ch.Before != nil {
			before = raw
		}
		// The branch row is locked (or just inserted): the next seq is ours.
		return tx.QueryRowContext(ctx, `INSERT INTO branch_changes (code, seq, actor_role, actor_id, before, after)
			SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM branch_changes WHERE code = $1 RETURNING seq, changed_at`,
			br.Code, actorRole, actorID, before, after).Scan(&ch.Seq, &ch.At)
	})
	return ch, err
}

// History returns a branch's recorded changes, oldest first.
func (b *Branches) History(ctx context.Context, code string) ([]domain.BranchChange, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT seq, changed_at, actor_role, actor_id, before, after FROM branch_changes WHERE code = $1 ORDER BY seq`, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []domain.BranchChange{}
	for rows.Next() {
		ch := domain.BranchChange{Code: code}
		var before, after []byte
		if err := rows.Scan(&ch.Seq, &ch.At, &ch.ActorRole, &ch.ActorID, &before, &after); err != nil {
			return nil, err
		}
		if before != nil {
			br, err := decodeBranch(code, before)
			if err != nil {
				return nil, err
			}
			ch.Before = &br
		}
		if ch.After, err = decodeBranch(code, after); err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, rows.Err()
}

func sameBranch(a, b domain.Branch) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func decodeBranch(code string, raw []byte) (domain.Branch, error) {
	var br domain.Branch
	if err := json.Unmarshal(raw, &br); err != nil {
		return br, fmt.Errorf("postgres: branch %s: %w", code, err)
	}
	return br.WithDefaults(), nil
}

func inTx(ctx context.Context, db *sqlx.DB, f func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
