package projections

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// applyDuties keeps the facts the duties read model derives from (issue
// 10): each case's school, enrolments, the duties events open and what the
// parties recorded as done. What is open on a day is decided when read.
func applyDuties(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	on := dateOf(env)
	id := env.AggregateID
	// open records a duty an event opened (a later event of the same
	// duty moves its dates: a waiting case admitted gets a new report-by).
	open := func(kind, period string, due any) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, opened_on, due_on, position)
			SELECT branch, origin_school, case_id, $2, $3, $4, $5, $6 FROM duty_cases WHERE case_id = $1
			ON CONFLICT (branch, origin_school, case_id, kind, period)
			DO UPDATE SET opened_on = coalesce(duties.opened_on, EXCLUDED.opened_on), due_on = EXCLUDED.due_on,
			              cancelled_on = NULL, position = EXCLUDED.position`,
			id, kind, period, on, due, env.Position)
		return err
	}
	// done records that a case's duty was done on d (the first date stays).
	done := func(kind, period string, d calendar.Date) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, done_on, position)
			SELECT branch, origin_school, case_id, $2, $3, $4, $5 FROM duty_cases WHERE case_id = $1
			ON CONFLICT (branch, origin_school, case_id, kind, period)
			DO UPDATE SET done_on = least(duties.done_on, EXCLUDED.done_on), position = EXCLUDED.position`,
			id, kind, period, d.String(), env.Position)
		return err
	}
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		_, err := tx.ExecContext(ctx, `INSERT INTO duty_cases (case_id, branch, origin_school) VALUES ($1, $2, $3)`,
			id, env.Branch, e.OriginSchool)
		return err
	case events.Admitted:
		if err := open(domain.DutyNetworkNotice, domain.ResultAdmitted, nil); err != nil {
			return err
		}
		var due any
		if e.ReportBy != nil {
			due = e.ReportBy.String()
		}
		if err := open(domain.DutyAccompaniment, "-", due); err != nil {
			return err
		}
		if e.FromWaitlist {
			return nil
		}
		// R-SOY-7: the list a meeting admitted is filed with the bureau.
		_, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, opened_on, position)
			VALUES ($1, '', '', $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
			env.Branch, domain.DutyAdmittedList, e.MeetingID, on, env.Position)
		return err
	case events.Waitlisted:
		return open(domain.DutyNetworkNotice, domain.ResultWaitlisted, nil)
	case events.Rejected:
		return open(domain.DutyNetworkNotice, domain.ResultRejected, nil)
	case events.Suspended:
		if err := open(domain.DutyNetworkNotice, domain.ResultSuspended, nil); err != nil {
			return err
		}
		if err := open(domain.DutyLeave, "-", nil); err != nil {
			return err
		}
		return endEnrolment(ctx, tx, id, e.On)
	case events.PlaceReleased:
		// A place declined: nobody reports, nobody accompanies.
		if _, err := tx.ExecContext(ctx, `UPDATE duties SET cancelled_on = $2 WHERE case_id = $1 AND kind = $3 AND done_on IS NULL`,
			id, on, domain.DutyAccompaniment); err != nil {
			return err
		}
		return endEnrolment(ctx, tx, id, calendar.DateOf(env.OccurredAt, domain.Taipei))
	case events.Enrolled:
		_, err := tx.ExecContext(ctx, `
			INSERT INTO duty_enrolments (case_id, branch, origin_school, enrolled_on, grade)
			SELECT case_id, branch, origin_school, $2, $3 FROM duty_cases WHERE case_id = $1
			ON CONFLICT (case_id) DO UPDATE SET enrolled_on = EXCLUDED.enrolled_on, grade = EXCLUDED.grade, ended_on = NULL`,
			id, e.On.String(), e.Grade)
		return err
	case events.RegistrationRecorded:
		return done(domain.DutyRegistration, e.Semester, calendar.DateOf(env.OccurredAt, domain.Taipei))
	case events.RecordsSent:
		// The semester's duty is done when all four kinds are sent.
		for _, k := range e.Kinds {
			if err := done(domain.DutyRecordsSent, e.Semester+"/"+k, e.On); err != nil {
				return err
			}
		}
	case events.NetworkUnitsInformed:
		return done(domain.DutyNetworkNotice, e.Result, e.On)
	case events.ReportingAccompanied:
		return done(domain.DutyAccompaniment, "-", e.On)
	case events.LeaveAssisted:
		return done(domain.DutyLeave, "-", e.On)
	case events.DropoutOpened:
		return open(domain.DutyDropoutReport, strconv.Itoa(e.Episode), nil)
	case events.DropoutReported:
		return done(domain.DutyDropoutReport, strconv.Itoa(e.Episode), e.ReportedOn)
	case events.CoCounsellingVisited:
		_, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, done_on, position)
			VALUES ($1, $2, '', $3, $4, $5, $6)
			ON CONFLICT (branch, origin_school, case_id, kind, period)
			DO UPDATE SET done_on = least(duties.done_on, EXCLUDED.done_on), position = EXCLUDED.position`,
			env.Branch, e.School, domain.DutyCoCounselling, domain.MonthOf(e.On).String(), e.On.String(), env.Position)
		return err
	case events.AdmittedListFiled:
		_, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, done_on, position)
			VALUES ($1, '', '', $2, $3, $4, $5)
			ON CONFLICT (branch, origin_school, case_id, kind, period)
			DO UPDATE SET done_on = least(duties.done_on, EXCLUDED.done_on), position = EXCLUDED.position`,
			env.Branch, domain.DutyAdmittedList, e.MeetingID, e.On.String(), env.Position)
		return err
	}
	return nil
}

// endEnrolment records the last day of an enrolment (the first end counts).
func endEnrolment(ctx context.Context, tx *sqlx.Tx, id string, d calendar.Date) error {
	_, err := tx.ExecContext(ctx, `UPDATE duty_enrolments SET ended_on = $2 WHERE case_id = $1 AND ended_on IS NULL`, id, d.String())
	return err
}

// Duty is one thing a party still owes on a date.
type Duty struct {
	// ID names the duty: kind/school/case/period ("-" for none).
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Party        string `json:"party"`
	Rule         string `json:"rule"`
	Branch       string `json:"branch"`
	OriginSchool string `json:"origin_school,omitempty"`
	CaseID       string `json:"case_id,omitempty"`
	StudentAlias string `json:"student_alias,omitempty"`
	// Period: a semester "114-2", a month "2026-03", a dropout episode,
	// a result, a meeting id; empty for a duty owed once.
	Period  string         `json:"period,omitempty"`
	Since   calendar.Date  `json:"since"`
	DueOn   *calendar.Date `json:"due_on"`
	AgeDays int            `json:"age_days"`
	Overdue bool           `json:"overdue"`
	Missing []string       `json:"missing,omitempty"` // records_sent: the kinds not yet sent
	Pending string         `json:"due_status,omitempty"`
}

// DutyFilter selects duties.
type DutyFilter struct {
	Scope Scope
	// OnlyKinds, when set, limits the kinds a caller may see (the bureau:
	// its filings).
	OnlyKinds []string
	Kind      string
	Party     string
	Overdue   *bool
	AsOf      calendar.Date
	After     string // cursor
	Limit     int
}

// HomeVisitDue gives a home visit's due date from its receipt; ok is false
// when the due date cannot be known yet (a calendar year missing).
type HomeVisitDue func(received calendar.Date) (due calendar.Date, ok bool)

// Duties lists what the parties in scope owe on f.AsOf, oldest first.
func (r *Reader) Duties(ctx context.Context, f DutyFilter, visitDue HomeVisitDue) ([]Duty, error) {
	all, err := r.allDuties(ctx, f, visitDue)
	if err != nil {
		return nil, err
	}
	out := make([]Duty, 0, len(all))
	for _, d := range all {
		switch {
		case len(f.OnlyKinds) > 0 && !slices.Contains(f.OnlyKinds, d.Kind),
			f.Kind != "" && d.Kind != f.Kind,
			f.Party != "" && d.Party != f.Party,
			f.Overdue != nil && d.Overdue != *f.Overdue:
			continue
		}
		d.AgeDays = days(d.Since, f.AsOf)
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Duty) int {
		return cmp.Or(cmp.Compare(a.Since.String(), b.Since.String()), cmp.Compare(a.ID, b.ID))
	})
	if f.After != "" {
		i, _ := slices.BinarySearchFunc(out, f.After, func(d Duty, c string) int { return cmp.Compare(DutyCursor(d), c) })
		for i < len(out) && DutyCursor(out[i]) <= f.After {
			i++
		}
		out = out[i:]
	}
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// DutyCursor is the cursor after d: its start date and id.
func DutyCursor(d Duty) string { return d.Since.String() + "/" + d.ID }

// ValidDutyCursor reports whether s has the form of a duty cursor.
func ValidDutyCursor(s string) bool {
	if len(s) > 300 || len(s) < 11 || s[10] != '/' {
		return false
	}
	if _, err := calendar.ParseDate(s[:10]); err != nil {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '/')
	})
}

func days(from, to calendar.Date) int {
	return int(to.Time().Sub(from.Time()).Round(24*time.Hour) / (24 * time.Hour))
}

func dutyID(kind, school, caseID, period string) string {
	return strings.Join([]string{kind, cmp.Or(school, "-"), cmp.Or(caseID, "-"), cmp.Or(period, "-")}, "/")
}

func newDuty(kind, branch, school, caseID, period string, since calendar.Date, due *calendar.Date, asOf calendar.Date) Duty {
	d := Duty{ID: dutyID(kind, school, caseID, period), Kind: kind, Party: domain.DutyParty(kind), Rule: domain.DutyRule(kind, period),
		Branch: branch, OriginSchool: school, CaseID: caseID, Period: period, Since: since, DueOn: due}
	if caseID != "" {
		d.StudentAlias = domain.Alias(caseID)
	}
	if period == "-" {
		d.Period = ""
	}
	d.Overdue = due != nil && asOf.After(*due)
	return d
}

type dutyRow struct {
	Branch       string     `db:"branch"`
	OriginSchool string     `db:"origin_school"`
	CaseID       string     `db:"case_id"`
	Kind         string     `db:"kind"`
	Period       string     `db:"period"`
	OpenedOn     *time.Time `db:"opened_on"`
	DueOn        *time.Time `db:"due_on"`
	DoneOn       *time.Time `db:"done_on"`
}

type enrolmentRow struct {
	CaseID       string     `db:"case_id"`
	Branch       string     `db:"branch"`
	OriginSchool string     `db:"origin_school"`
	EnrolledOn   time.Time  `db:"enrolled_on"`
	Grade        int        `db:"grade"`
	EndedOn      *time.Time `db:"ended_on"`
}

func (r *Reader) allDuties(ctx context.Context, f DutyFilter, visitDue HomeVisitDue) ([]Duty, error) {
	asOf := f.AsOf
	where, args := scopeWhere(f.Scope, []any{asOf.String()})
	var rows []dutyRow
	if err := r.db.SelectContext(ctx, &rows, `
		SELECT branch, origin_school, case_id, kind, period, opened_on, due_on, done_on FROM duties
		WHERE (opened_on IS NULL OR opened_on <= $1) AND (cancelled_on IS NULL OR cancelled_on > $1)`+where, args...); err != nil {
		return nil, err
	}
	var enrolments []enrolmentRow
	if err := r.db.SelectContext(ctx, &enrolments, `
		SELECT case_id, branch, origin_school, enrolled_on, grade, ended_on FROM duty_enrolments
		WHERE enrolled_on <= $1`+where, args...); err != nil {
		return nil, err
	}
	var out []Duty
	doneBy := map[string]bool{} // id of a periodic duty done by asOf
	for _, row := range rows {
		if row.DoneOn != nil && !civilDate(*row.DoneOn).After(asOf) {
			doneBy[dutyID(row.Kind, row.OriginSchool, row.CaseID, row.Period)] = true
			continue
		}
		if row.OpenedOn == nil {
			continue // a periodic duty done after asOf: derived below
		}
		out = append(out, newDuty(row.Kind, row.Branch, row.OriginSchool, row.CaseID, row.Period,
			civilDate(*row.OpenedOn), civilPtr(row.DueOn), asOf))
	}
	type school struct{ branch, code string }
	bySchool := map[school][]domain.DutyEnrolment{}
	for _, row := range enrolments {
		e := domain.DutyEnrolment{EnrolledOn: civilDate(row.EnrolledOn), Grade: row.Grade, EndedOn: civilPtr(row.EndedOn)}
		bySchool[school{row.Branch, row.OriginSchool}] = append(bySchool[school{row.Branch, row.OriginSchool}], e)
		last := e.LastDay()
		for _, s := range e.Semesters(asOf) {
			// R-ENR-2: register each semester, by its last day.
			if id := dutyID(domain.DutyRegistration, row.OriginSchool, row.CaseID, s.String()); !doneBy[id] {
				since, due := maxDate(s.Start(), e.EnrolledOn), minDate(s.End(), last)
				out = append(out, newDuty(domain.DutyRegistration, row.Branch, row.OriginSchool, row.CaseID, s.String(), since, &due, asOf))
			}
			// R-ENR-2: the semester's records, owed once it (or the
			// enrolment) has ended; the original gives no deadline.
			since := minDate(s.End(), last).AddDays(1)
			if since.After(asOf) {
				continue
			}
			var missing []string
			for _, k := range domain.RecordKinds {
				if !doneBy[dutyID(domain.DutyRecordsSent, row.OriginSchool, row.CaseID, s.String()+"/"+k)] {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				d := newDuty(domain.DutyRecordsSent, row.Branch, row.OriginSchool, row.CaseID, s.String(), since, nil, asOf)
				d.Missing = missing
				out = append(out, d)
			}
		}
	}
	for sc, es := range bySchool {
		// R-ORG-5: a visit every month with a student enrolled, except
		// July and August, by the month's last day.
		for m, since := range domain.CoCounsellingMonths(es, asOf) {
			if doneBy[dutyID(domain.DutyCoCounselling, sc.code, "", m.String())] {
				continue
			}
			due := m.Last()
			out = append(out, newDuty(domain.DutyCoCounselling, sc.branch, sc.code, "", m.String(), since, &due, asOf))
		}
	}
	if visitDue == nil {
		return out, nil
	}
	visits, err := r.openVisits(ctx, f.Scope, asOf)
	if err != nil {
		return nil, err
	}
	for _, v := range visits {
		received := civilDate(v.ReceivedOn)
		if !domain.HasVisitDeadline(domain.Route(v.Route), domain.Channel(v.Channel)) {
			continue
		}
		d := newDuty(domain.DutyHomeVisit, v.Branch, v.OriginSchool, v.ID, "", received, nil, asOf)
		if due, ok := visitDue(received); ok {
			d.DueOn, d.Overdue = &due, asOf.After(due)
		} else {
			d.Pending = "pending_calendar"
		}
		out = append(out, d)
	}
	return out, nil
}

type openVisit struct {
	ID           string    `db:"id"`
	Branch       string    `db:"branch"`
	OriginSchool string    `db:"origin_school"`
	Route        string    `db:"route"`
	Channel      string    `db:"channel"`
	ReceivedOn   time.Time `db:"received_on"`
}

// openVisits are the home visits open now (R-MID-4): as the queue keeps
// them, received by asOf.
func (r *Reader) openVisits(ctx context.Context, s Scope, asOf calendar.Date) ([]openVisit, error) {
	where, args := scopeWhere(s, []any{asOf.String()})
	var out []openVisit
	err := r.db.SelectContext(ctx, &out, `SELECT id, branch, origin_school, route, coalesce(channel, '') AS channel, received_on FROM cases
		WHERE stage = 'intake' AND visit_report_on IS NULL AND review_outcome IS NULL AND received_on <= $1`+where, args...)
	return out, err
}

func maxDate(a, b calendar.Date) calendar.Date {
	if a.After(b) {
		return a
	}
	return b
}

func minDate(a, b calendar.Date) calendar.Date {
	if a.Before(b) {
		return a
	}
	return b
}

// dutySummary says in plain words what a duty event records.
func dutySummary(env events.Envelope) (string, bool) {
	switch e := env.Payload.(type) {
	case events.RecordsSent:
		return fmt.Sprintf("分校寄送 %s 學期紀錄（%s）予原學籍學校", e.Semester, strings.Join(e.Kinds, "、")), true
	case events.NetworkUnitsInformed:
		return "原學籍學校已通知網絡單位結果（" + e.Result + "，" + e.On.ROC() + "）", true
	case events.ReportingAccompanied:
		return "原學籍學校陪同學生報到（" + e.On.ROC() + "）", true
	case events.LeaveAssisted:
		return "原學籍學校協助學生離校（" + e.On.ROC() + "）", true
	}
	return "", false
}
