package projections

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// applyReturns projects the return, re-submission and lapse of an
// application (R-MID-3) and the acceptance of an incomplete one (R-ELIG-4).
func applyReturns(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	switch e := env.Payload.(type) {
	case events.ApplicationReturned:
		var by any
		if e.ResubmitBy != nil {
			by = e.ResubmitBy.String()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET stage = $2, returned_missing = $3, resubmit_by = $4 WHERE id = $1`,
			id, domain.StageReturned, pq.Array(e.Missing), by); err != nil {
			return err
		}
		if e.Letter != nil {
			return letter(ctx, tx, env, *e.Letter)
		}
	case events.ApplicationResubmitted:
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET stage = $2, received_on = $3, received_position = $4, returned_missing = NULL WHERE id = $1`,
			id, domain.StageIntake, e.ReceivedOn.String(), env.Position); err != nil {
			return err
		}
		if e.TakesNewPlace {
			// R-MID-3 Decision: the application order from the re-submission.
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET application_position = $2 WHERE id = $1`, id, env.Position); err != nil {
				return err
			}
		}
	case events.ApplicationLapsed:
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET stage = $2, lapsed_on = $3, resubmit_by = $4 WHERE id = $1`,
			id, domain.StageLapsed, e.On.String(), e.ResubmitBy.String()); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.IncompleteAccepted:
		_, err := tx.ExecContext(ctx, `UPDATE cases SET accepted_on = $2, owed_items = $3, acceptance_reason = $4 WHERE id = $1`,
			id, e.On.String(), pq.Array(e.Owed), sealedJSON(e.Reason))
		return err
	}
	return nil
}

// ReturnedCases lists the returned cases, each with its branch, for the
// lapse job (R-MID-3).
func (r *Reader) ReturnedCases(ctx context.Context) ([]domain.CaseRef, error) {
	out := []domain.CaseRef{}
	err := r.db.SelectContext(ctx, &out, `SELECT id, branch FROM cases WHERE stage = 'returned' ORDER BY branch, id`)
	return out, err
}
