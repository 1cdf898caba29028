package projections

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

func applyMeeting(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	switch e := env.Payload.(type) {
	case events.MeetingScheduled:
		_, err := tx.ExecContext(ctx, `
			INSERT INTO meetings (id, branch, academic_year, kind, date, title, status, version, position)
			VALUES ($1,$2,$3,$4,$5,$6,'scheduled',$7,$8)`,
			id, env.Branch, e.AcademicYear, e.Kind, e.Date.String(), e.Title, env.Version, env.Position)
		return err
	case events.MeetingOpened:
		if _, err := tx.ExecContext(ctx, `UPDATE meetings SET status = 'open' WHERE id = $1`, id); err != nil {
			return err
		}
	case events.ResolutionRecorded:
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO meeting_resolutions (meeting_id, case_id, resolution, position, destination) VALUES ($1,$2,$3,$4,NULLIF($5, ''))`,
			id, e.CaseID, e.Resolution, env.Position, e.Destination); err != nil {
			return err
		}
	case events.MeetingClosed:
		if _, err := tx.ExecContext(ctx, `UPDATE meetings SET status = 'closed', closed_on = $2 WHERE id = $1`, id, e.On.String()); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE meetings SET version = $2, position = $3 WHERE id = $1`, id, env.Version, env.Position)
	return err
}

// applyAdmission applies a referral's admission events.
func (p *Projector) applyAdmission(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, append([]any{id}, args...)...)
		return err
	}
	outcome := func(meeting, stage string) error {
		_, err := tx.ExecContext(ctx, `UPDATE meeting_resolutions SET outcome = $3 WHERE meeting_id = $1 AND case_id = $2`, meeting, id, stage)
		return err
	}
	switch e := env.Payload.(type) {
	case events.AppealFiled:
		if err := exec(`UPDATE cases SET appealed = true, attendees = $2 WHERE id = $1`, pq.Array(e.Attendees)); err != nil {
			return err
		}
		return applySuspension(ctx, tx, env) // R-SUS-3: a suspension case's stakeholders
	case events.Admitted:
		if err := exec(`UPDATE cases SET stage = $2, admission_meeting = $3, report_by = $4, waitlisted_position = NULL WHERE id = $1`,
			domain.StageAdmitted, e.MeetingID, e.ReportBy.String()); err != nil {
			return err
		}
		if !e.FromWaitlist {
			if err := outcome(e.MeetingID, string(domain.StageAdmitted)); err != nil {
				return err
			}
		}
		return letter(ctx, tx, env, e.Letter)
	case events.Waitlisted:
		if err := exec(`UPDATE cases SET stage = $2, admission_meeting = $3, waitlisted_position = application_position WHERE id = $1`,
			domain.StageWaitlisted, e.MeetingID); err != nil {
			return err
		}
		if err := outcome(e.MeetingID, string(domain.StageWaitlisted)); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.Rejected:
		if err := exec(`UPDATE cases SET stage = $2, admission_meeting = $3 WHERE id = $1`, domain.StageRejected, e.MeetingID); err != nil {
			return err
		}
		if err := outcome(e.MeetingID, string(domain.StageRejected)); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.PlaceReleased:
		return exec(`UPDATE cases SET stage = $2 WHERE id = $1`, domain.StageLeft)
	case events.HealthCheckRecorded:
		var cleared any
		if e.ClearedOn != nil {
			cleared = e.ClearedOn.String()
		}
		return exec(`UPDATE cases SET health_examined_on = $2, infectious = $3, health_cleared_on = $4 WHERE id = $1`,
			e.ExaminedOn.String(), e.Infectious, cleared)
	case events.Enrolled:
		return exec(`UPDATE cases SET stage = $2, enrolled_on = $3, class = $4, grade = $5 WHERE id = $1`,
			domain.StageEnrolled, e.On.String(), e.Class, e.Grade)
	case events.RegistrationRecorded:
		return exec(`UPDATE cases SET registrations = array_append(coalesce(registrations, '{}'), $2) WHERE id = $1`, e.Semester)
	}
	return applySuspension(ctx, tx, env)
}
