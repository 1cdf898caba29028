package projections

import (
	"context"

	"github.com/jmoiron/sqlx"

	"cihui/internal/events"
)

// applyPerson applies an event of a student's person stream: a referral
// filed while the student had an open referral from another school is
// flagged, with those referrals, as a possible duplicate (R-CAP-1), in
// both directions. Shown to the branch's social workers only.
func applyPerson(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	e, ok := env.Payload.(events.PersonReferred)
	if !ok {
		return nil
	}
	for _, other := range e.PossibleDuplicateOf {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO case_duplicates (case_id, other_case_id, position) VALUES ($1, $2, $3), ($2, $1, $3)
			ON CONFLICT DO NOTHING`, e.ReferralID, other, env.Position); err != nil {
			return err
		}
	}
	return nil
}

// setCategories records a referral's statistical categories (R-STAT-2) in
// the clear; what the event never recorded is unknown.
func setCategories(ctx context.Context, tx *sqlx.Tx, id string, e events.Categories) error {
	row := categoriesRow(e) // as the rebuild's fold writes them
	_, err := tx.ExecContext(ctx, `UPDATE cases SET family_background = $2, identity = $3 WHERE id = $1`, id, row[0], row[1])
	return err
}
