package projections

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/events"
)

// foldPersonEvent folds a person stream's event: a filing's
// PersonReferred writes the pairs of possible duplicates (R-CAP-1: one
// student, one referral), both ways as applyPerson does, once per batch.
// Every filing appends one, so were it a barrier, each case of a rebuild
// would cut its batch.
func (f *fold) foldPersonEvent(env events.Envelope) bool {
	e, ok := env.Payload.(events.PersonReferred)
	if !ok {
		return false
	}
	for _, other := range e.PossibleDuplicateOf {
		f.duplicates = append(f.duplicates,
			[]any{e.ReferralID, other, env.Position}, []any{other, e.ReferralID, env.Position})
	}
	return true
}

// writeDuplicates inserts the run's pairs in one statement; the first
// position of a pair stays, as the live path's ON CONFLICT DO NOTHING
// keeps it.
func (f *fold) writeDuplicates(ctx context.Context, tx *sqlx.Tx) error {
	if len(f.duplicates) == 0 {
		return nil
	}
	cases, others := make([]string, len(f.duplicates)), make([]string, len(f.duplicates))
	positions := make([]int64, len(f.duplicates))
	for i, r := range f.duplicates {
		cases[i], others[i], positions[i] = r[0].(string), r[1].(string), int64(r[2].(uint64))
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO case_duplicates (case_id, other_case_id, position)
		SELECT v.case_id, v.other_case_id, v.position
		FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS v(case_id, other_case_id, position, n)
		ORDER BY n
		ON CONFLICT DO NOTHING`, pq.Array(cases), pq.Array(others), pq.Array(positions))
	return err
}
