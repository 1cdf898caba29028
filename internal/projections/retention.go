package projections

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// applyRetention keeps case_retention, what the retention rule needs of
// each case (學生輔導法施行細則 §10). It runs after the referral's event
// was applied to cases, in the same transaction, and follows the stage the
// case now has.
func applyRetention(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id, on := env.AggregateID, dateOf(env)
	var err error
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		_, err = tx.ExecContext(ctx, `
			INSERT INTO case_retention (case_id, person_key, branch, academic_year, grade, stage, stage_on)
			VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (case_id) DO NOTHING`,
			id, e.PersonKey, env.Branch, e.AcademicYear, e.Grade, domain.StageIntake, e.ReceivedOn.String())
		return err
	case events.Enrolled:
		_, err = tx.ExecContext(ctx, `UPDATE case_retention SET grade = $2 WHERE case_id = $1`, id, e.Grade)
	case events.LegalHoldPlaced:
		_, err = tx.ExecContext(ctx, `UPDATE case_retention SET on_hold = true, hold_reason = $2, hold_since = $3 WHERE case_id = $1`, id, e.Reason, on)
		return err
	case events.LegalHoldLifted:
		_, err = tx.ExecContext(ctx, `UPDATE case_retention SET on_hold = false, hold_reason = NULL, hold_since = NULL WHERE case_id = $1`, id)
		return err
	case events.PersonErased:
		return eraseRetention(ctx, tx, []string{e.PersonKey}, []string{on})
	case events.DocumentSubmitted, events.DocumentChecked, events.HomeVisitLogged, events.AssessmentReportFinished,
		events.HealthCheckRecorded, events.RegistrationRecorded:
		// The bulk of a case's events, none of which moves its stage.
		return nil
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE case_retention r SET stage = c.stage, stage_on = $2
		FROM cases c WHERE r.case_id = $1 AND c.id = r.case_id AND c.stage <> r.stage`, id, on)
	return err
}

// RetentionCase is a case as the retention rule sees it.
type RetentionCase struct {
	domain.RetentionFacts
	HoldReason *string
}

// RetentionCases returns every case whose person has not been erased.
func (r *Reader) RetentionCases(ctx context.Context) ([]RetentionCase, error) {
	var rows []struct {
		CaseID       string    `db:"case_id"`
		PersonKey    string    `db:"person_key"`
		Branch       string    `db:"branch"`
		AcademicYear int       `db:"academic_year"`
		Grade        int       `db:"grade"`
		Stage        string    `db:"stage"`
		StageOn      time.Time `db:"stage_on"`
		OnHold       bool      `db:"on_hold"`
		HoldReason   *string   `db:"hold_reason"`
	}
	if err := r.db.SelectContext(ctx, &rows, `
		SELECT case_id, person_key, branch, academic_year, grade, stage, stage_on, on_hold, hold_reason
		FROM case_retention WHERE erased_on IS NULL ORDER BY person_key, case_id`); err != nil {
		return nil, err
	}
	out := make([]RetentionCase, len(rows))
	for i, x := range rows {
		out[i] = RetentionCase{RetentionFacts: domain.RetentionFacts{
			CaseID: x.CaseID, PersonKey: x.PersonKey, Branch: x.Branch, Stage: domain.Stage(x.Stage),
			StageOn: calendar.DateOf(x.StageOn, time.UTC), AcademicYear: x.AcademicYear, Grade: x.Grade, OnHold: x.OnHold,
		}, HoldReason: x.HoldReason}
	}
	return out, nil
}

// RetentionFacts returns the facts of every case whose person has not been
// erased (the retention job's source).
func (r *Reader) RetentionFacts(ctx context.Context) ([]domain.RetentionFacts, error) {
	rows, err := r.RetentionCases(ctx)
	out := make([]domain.RetentionFacts, len(rows))
	for i, x := range rows {
		out[i] = x.RetentionFacts
	}
	return out, err
}

// eraseRetention marks every case of each person erased on its day; a
// case erased before keeps its first day. keys are distinct.
func eraseRetention(ctx context.Context, tx *sqlx.Tx, keys, on []string) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE case_retention r SET erased_on = coalesce(r.erased_on, t.on_date)
		FROM unnest($1::text[], $2::date[]) AS t(person_key, on_date) WHERE r.person_key = t.person_key`, pq.Array(keys), pq.Array(on))
	return err
}
