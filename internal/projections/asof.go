package projections

import (
	"context"
	"errors"

	"cihui/internal/events"
)

// caseTables are the read-model tables a case's own events write (the
// projector's apply for a referral's events): an as-of read shadows each
// of them.
var caseTables = []string{
	"cases", "case_personal", "case_documents", "case_timeline", "case_visits", "letters", "meeting_resolutions",
	"case_retention", "dropout_episodes", "suspension_grounds", "duty_cases", "duty_enrolments", "duties", "award_facts",
	"case_suspensions", "case_suspension_log", "case_adaptation_meetings",
}

// AsOf answers a read of one case as it stood after envs, the case's own
// events up to a date (issue 11: a case as of any date). In one
// transaction it creates TEMP tables shadowing the case-scoped read-model
// tables (unqualified names then resolve to pg_temp first), applies envs
// with the projector's own apply, calls read with a Reader over that
// transaction — the same queries as today's read, so the shape cannot
// drift — and rolls everything back. Tables no case event writes
// (meetings, the roster, duplicates) are read as they are.
func (r *Reader) AsOf(ctx context.Context, envs []events.Envelope, read func(*Reader) error) error {
	if r.base == nil {
		return errors.New("projections: an as-of read needs the database, not a transaction")
	}
	tx, err := r.base.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range caseTables {
		// t is one of the constant names above, never input.
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE `+t+` (LIKE public.`+t+` INCLUDING ALL) ON COMMIT DROP`); err != nil {
			return err
		}
	}
	var p Projector // apply keeps no state of the projector's own
	var pend pending
	stale := ""
	for _, env := range envs {
		if env.AggregateType != events.AggregateReferral {
			continue
		}
		// As the projector does: an event that cannot apply is left
		// out with the case's later events, and the case is stale.
		if _, err := tx.ExecContext(ctx, `SAVEPOINT as_of_event`); err != nil {
			return err
		}
		err := p.apply(ctx, tx, &pend, env)
		if err != nil && transient(err) {
			return err
		}
		if err != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT as_of_event`); err != nil {
				return err
			}
			stale = env.AggregateID
			break
		}
	}
	if err := pend.flush(ctx, tx); err != nil {
		return err
	}
	if stale != "" {
		if err := markCase(ctx, tx, events.AggregateReferral, stale, true); err != nil {
			return err
		}
	}
	return read(&Reader{db: tx})
}
