package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// applyAwardFacts records, one row each, the facts the award evidence
// pack counts (R-AWD-1): a dropout episode's follow-ups, searches and
// counselling, and each co-counselling visit with the cases it covered.
func applyAwardFacts(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	const q = `INSERT INTO award_facts (position, seq, branch, case_id, kind, party, on_date) VALUES ($1,$2,$3,$4,$5,$6,$7)`
	switch e := env.Payload.(type) {
	case events.DropoutFollowUpLogged:
		_, err := tx.ExecContext(ctx, q, env.Position, 0, env.Branch, env.AggregateID, e.Kind, e.Party, e.On.String())
		return err
	case events.CoCounsellingVisited:
		if len(e.Cases) == 0 {
			_, err := tx.ExecContext(ctx, q, env.Position, 0, env.Branch, "", domain.DutyCoCounselling, domain.PartyOriginSchool, e.On.String())
			return err
		}
		for i, c := range e.Cases {
			if _, err := tx.ExecContext(ctx, q, env.Position, i, env.Branch, c.CaseID, domain.DutyCoCounselling, domain.PartyOriginSchool, e.On.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyScoreSheet projects a score sheet's stream: the sheet as last
// corrected, its sealed values copied as they are.
func applyScoreSheet(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	switch e := env.Payload.(type) {
	case events.ScoreSheetFilled:
		ratings, err := json.Marshal(e.Ratings)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO award_score_sheets (id, branch, academic_year, ratings, total, reviewer, comments, version, position, filed_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10)`,
			env.AggregateID, env.Branch, e.AcademicYear, string(ratings), e.Total, sealedJSON(e.Reviewer), sealedJSON(e.Comments),
			env.Version, env.Position, env.OccurredAt)
		return err
	case events.ScoreSheetCorrected:
		ratings, err := json.Marshal(e.Ratings)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE award_score_sheets SET ratings = $2, total = $3, reviewer = $4, comments = $5, corrections = corrections + 1,
			       version = $6, position = $7, updated_at = $8
			WHERE id = $1`,
			env.AggregateID, string(ratings), e.Total, sealedJSON(e.Reviewer), sealedJSON(e.Comments), env.Version, env.Position, env.OccurredAt)
		return err
	}
	return nil
}

// ScoreSheetRow is a score sheet as the read model keeps it; Reviewer
// and Comments are sealed.
type ScoreSheetRow struct {
	ID           string          `db:"id"`
	Branch       string          `db:"branch"`
	AcademicYear int             `db:"academic_year"`
	Ratings      json.RawMessage `db:"ratings"`
	Total        int             `db:"total"`
	Reviewer     []byte          `db:"reviewer"`
	Comments     []byte          `db:"comments"`
	Corrections  int             `db:"corrections"`
	Version      uint64          `db:"version"`
	Position     uint64          `db:"position"`
	FiledAt      time.Time       `db:"filed_at"`
	UpdatedAt    time.Time       `db:"updated_at"`
}

const scoreSheetColumns = `id, branch, academic_year, ratings, total, reviewer, comments, corrections, version, position, filed_at, updated_at`

// ScoreSheets lists a branch's score sheets, of one academic year if
// year is not 0, in the order they were filed (at most 1000: a year has a
// handful of reviewers).
func (r *Reader) ScoreSheets(ctx context.Context, branch string, year int) ([]ScoreSheetRow, error) {
	out := []ScoreSheetRow{}
	err := r.db.SelectContext(ctx, &out, `SELECT `+scoreSheetColumns+` FROM award_score_sheets
		WHERE branch = $1 AND ($2 = 0 OR academic_year = $2) ORDER BY filed_at, id LIMIT 1000`, branch, year)
	return out, err
}

// ScoreSheet returns one score sheet of a branch.
func (r *Reader) ScoreSheet(ctx context.Context, branch, id string) (ScoreSheetRow, error) {
	var out ScoreSheetRow
	err := r.db.GetContext(ctx, &out, `SELECT `+scoreSheetColumns+` FROM award_score_sheets WHERE id = $1 AND branch = $2`, id, branch)
	if errors.Is(err, sql.ErrNoRows) {
		return out, domain.Errorf(domain.ENotFound, "no such score sheet")
	}
	return out, err
}
