package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// applyRoster projects the roster stream into roster_seats (each seat with
// its first and last day, R-CAP-1 dated), roster_waiting and
// roster_years, so that capacity on any date is one indexed count.
func applyRoster(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	on := calendar.DateOf(env.OccurredAt, domain.Taipei)
	b := env.Branch
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, append([]any{b}, args...)...)
		return err
	}
	switch e := env.Payload.(type) {
	case events.SeatTaken:
		s := domain.SeatOf(e, on)
		if err := exec(`DELETE FROM roster_waiting WHERE branch = $1 AND case_id = $2`, e.CaseID); err != nil {
			return err
		}
		return exec(`INSERT INTO roster_seats (branch, case_id, seq, from_on, last_on, grade, grade_year)
			VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING`,
			e.CaseID, env.Position, s.From.String(), datePtr(s.Last), nullInt(s.Grade), nullInt(s.GradeYear))
	case events.SeatReleased:
		last := on.AddDays(-1)
		if e.Last != nil {
			last = *e.Last
		}
		ending := e.Ending
		if ending == "" {
			ending = domain.EndingLeft
		}
		return exec(`UPDATE roster_seats SET last_on = $3, ending = $4 WHERE branch = $1 AND case_id = $2 AND ending IS NULL`,
			e.CaseID, last.String(), ending)
	case events.SeatEnrolled:
		var from calendar.Date
		var fromS string
		err := tx.GetContext(ctx, &fromS, `SELECT to_char(from_on, 'YYYY-MM-DD') FROM roster_seats
			WHERE branch = $1 AND case_id = $2 AND ending IS NULL ORDER BY seq DESC LIMIT 1`, b, e.CaseID)
		if err != nil {
			return nil // no open seat: nothing to enrol (the domain refuses it)
		}
		if from, err = calendar.ParseDate(fromS); err != nil {
			return err
		}
		s := domain.EnrolSeat(domain.Seat{From: from}, e, on)
		return exec(`UPDATE roster_seats SET enrolled_on = $3, class = $4, grade = $5, grade_year = $6, last_on = $7
			WHERE branch = $1 AND case_id = $2 AND ending IS NULL`,
			e.CaseID, on.String(), e.Class, nullInt(s.Grade), nullInt(s.GradeYear), datePtr(s.Last))
	case events.WaitlistJoined:
		return exec(`INSERT INTO roster_waiting (branch, case_id, application_position) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
			e.CaseID, e.ApplicationPosition)
	case events.WaitlistLeft:
		return exec(`DELETE FROM roster_waiting WHERE branch = $1 AND case_id = $2`, e.CaseID)
	case events.YearRolledOver:
		summary, err := json.Marshal(map[string][]string{"advanced": e.Advanced, "graduated": e.Graduated, "lapsed": e.Lapsed})
		if err != nil {
			return err
		}
		proposal, err := json.Marshal(e.Proposal)
		if err != nil {
			return err
		}
		return exec(`INSERT INTO roster_years (branch, year, began_on, summary, proposal) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (branch, year) DO NOTHING`, e.Year, e.On.String(), string(summary), string(proposal))
	case events.ClassesConfirmed:
		for _, a := range e.Assignments {
			if err := exec(`UPDATE roster_seats SET class = $3 WHERE branch = $1 AND case_id = $2 AND ending IS NULL`, a.CaseID, a.Class); err != nil {
				return err
			}
		}
		return exec(`UPDATE roster_years SET confirmed = true WHERE branch = $1 AND year = $2`, e.Year)
	}
	return nil
}

// applyEnding projects a case's end state and its reason (end_state,
// end_reason, ended_on), and the academic year's changes to a case.
func applyEnding(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, append([]any{id}, args...)...)
		return err
	}
	end := func(stage domain.Stage, state string, on calendar.Date) error {
		return exec(`UPDATE cases SET stage = $2, end_state = $3, end_reason = $4, ended_on = $5 WHERE id = $1`,
			stage, state, domain.EndReason(state), on.String())
	}
	switch e := env.Payload.(type) {
	case events.PlaceReleased:
		state, on := domain.PlaceEnding(e, env)
		return end(domain.StageLeft, state, *on)
	case events.Rejected:
		return end(domain.StageRejected, string(domain.StageRejected), calendar.DateOf(env.OccurredAt, domain.Taipei))
	case events.Graduated:
		return end(domain.StageGraduated, domain.EndingGraduated, e.On)
	case events.WaitlistLapsed:
		if err := end(domain.StageLapsed, domain.EndingLapsed, e.On); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.ApplicationLapsed:
		// The stage is returns.go's; the end state and its reason are shown
		// like every other end.
		return exec(`UPDATE cases SET end_state = $2, end_reason = $3, ended_on = $4 WHERE id = $1`,
			domain.EndingLapsed, domain.EndReasonApplicationLapsed, e.On.String())
	case events.GradeAdvanced:
		return exec(`UPDATE cases SET grade = $2 WHERE id = $1`, e.Grade)
	case events.ClassAssigned:
		return exec(`UPDATE cases SET grade = $2, class = $3 WHERE id = $1`, e.Grade, e.Class)
	}
	return nil
}

// rosterSummary says what an event of the dated roster means on a case's
// timeline, without personal data.
func rosterSummary(env events.Envelope) string {
	switch e := env.Payload.(type) {
	case events.GradeAdvanced:
		return fmt.Sprintf("%d 學年度升級為 %d 年級", e.Year, e.Grade)
	case events.Graduated:
		return "九年級畢業離班（" + e.On.ROC() + "）"
	case events.WaitlistLapsed:
		return fmt.Sprintf("%d 學年度候補名單失效（%s）", e.Year, e.On.ROC())
	case events.ClassAssigned:
		return fmt.Sprintf("%d 學年度編入 %s 班", e.Year, e.Class)
	case events.MajorReasonRecorded:
		return "登錄九年級第二學期轉學之重大事由（R-EXCL-4）" // the reason is sealed
	}
	return env.Type
}

func datePtr(d *calendar.Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
