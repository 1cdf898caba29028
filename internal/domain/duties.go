package domain

import (
	"fmt"
	"slices"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Duty kinds: what a party still owes (issue 10; GET /v1/duties).
const (
	DutyHomeVisit     = "home_visit"           // branch: the visit and report within 10 working days (R-MID-4)
	DutyRegistration  = "registration"         // origin school: register each semester (R-ENR-2)
	DutyRecordsSent   = "records_sent"         // branch: a semester's records to the origin school (R-ENR-2)
	DutyNetworkNotice = "network_notice"       // origin school: inform the network units of a result (R-SOY-7, R-MID-5, R-SUS-4)
	DutyDropoutReport = "dropout_report"       // origin school: file the national dropout report (R-ORG-4)
	DutyAccompaniment = "accompaniment"        // origin school: accompany the student reporting (R-ORG-2)
	DutyCoCounselling = "co_counselling"       // origin school: visit the branch every month (R-ORG-5)
	DutyAdmittedList  = "admitted_list_filing" // branch: file the admitted list with the bureau (R-SOY-7)
	DutyLeave         = "leave_assistance"     // origin school: help a suspended student leave (R-ORG-6)
)

// DutyKinds lists every duty kind.
var DutyKinds = []string{DutyHomeVisit, DutyRegistration, DutyRecordsSent, DutyNetworkNotice, DutyDropoutReport,
	DutyAccompaniment, DutyCoCounselling, DutyAdmittedList, DutyLeave}

// Parties that owe duties: PartyBranch and PartyOriginSchool (dropout.go).

// DutyParties lists the parties.
var DutyParties = []string{PartyBranch, PartyOriginSchool}

// DutyParty is the party that owes a kind of duty.
func DutyParty(kind string) string {
	switch kind {
	case DutyHomeVisit, DutyRecordsSent, DutyAdmittedList:
		return PartyBranch
	}
	return PartyOriginSchool
}

// DutyRule is the rule a kind of duty comes from.
func DutyRule(kind, period string) string {
	switch kind {
	case DutyHomeVisit:
		return "R-MID-4"
	case DutyRegistration, DutyRecordsSent:
		return "R-ENR-2"
	case DutyNetworkNotice:
		if period == ResultSuspended {
			return "R-SUS-4"
		}
		return "R-SOY-7"
	case DutyDropoutReport:
		return "R-ORG-4"
	case DutyAccompaniment:
		return "R-ORG-2"
	case DutyCoCounselling:
		return "R-ORG-5"
	case DutyAdmittedList:
		return "R-SOY-7"
	case DutyLeave:
		return "R-ORG-6"
	}
	return ""
}

// Records the branch school sends each semester (R-ENR-2).
var RecordKinds = []string{"grades", "rewards_penalties", "attendance", "learning"}

// Results of which the origin school informs the network units.
const (
	ResultAdmitted   = "admitted"
	ResultWaitlisted = "waitlisted"
	ResultRejected   = "rejected"
	ResultSuspended  = "suspended"
)

// Results lists them.
var Results = []string{ResultAdmitted, ResultWaitlisted, ResultRejected, ResultSuspended}

// Who accompanied a student reporting (R-ORG-2).
const (
	AccompaniedByStaff  = "staff"
	AccompaniedByParent = "parent"
)

// AccompaniedBy lists them.
var AccompaniedBy = []string{AccompaniedByStaff, AccompaniedByParent}

// MaxCoveredCases bounds the cases one co-counselling visit covers: every
// place of the largest branch.
const MaxCoveredCases = 500

// MaxRecordAgeDays bounds how far back a done duty may be dated.
const MaxRecordAgeDays = 400

// DutyFacts is what the duty commands need to know about a case, folded
// from its events.
type DutyFacts struct {
	ElementaryGraduate bool
	Results            map[string]calendar.Date // result → date of its letter
	Informed           map[string]bool
	Admitted           bool
	Accompanied        bool
	Enrolment          *DutyEnrolment
	Suspended          bool
	LeaveAssisted      bool
	RecordsSent        map[string][]string // semester → kinds sent
}

// Apply folds one event of the case.
func (f *DutyFacts) Apply(env events.Envelope) {
	if f.Results == nil {
		f.Results, f.Informed, f.RecordsSent = map[string]calendar.Date{}, map[string]bool{}, map[string][]string{}
	}
	on := calendar.DateOf(env.OccurredAt, Taipei)
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		f.ElementaryGraduate = e.ElementaryGraduate
	case events.Admitted:
		f.Results[ResultAdmitted], f.Admitted = on, true
	case events.Waitlisted:
		f.Results[ResultWaitlisted] = on
	case events.Rejected:
		f.Results[ResultRejected] = on
	case events.Suspended:
		f.Results[ResultSuspended], f.Suspended = on, true
		if f.Enrolment != nil {
			f.Enrolment.End(e.On)
		}
	case events.PlaceReleased:
		f.Admitted = false
		if f.Enrolment != nil {
			f.Enrolment.End(on)
		}
	case events.Enrolled:
		f.Enrolment = &DutyEnrolment{EnrolledOn: e.On, Grade: e.Grade}
	case events.NetworkUnitsInformed:
		f.Informed[e.Result] = true
	case events.ReportingAccompanied:
		f.Accompanied = true
	case events.LeaveAssisted:
		f.LeaveAssisted = true
	case events.RecordsSent:
		f.RecordsSent[e.Semester] = append(f.RecordsSent[e.Semester], e.Kinds...)
	}
}

// DutyEnrolment is a student's enrolment at the branch: from the day enrolled
// to the last day, which is the day it ended or else graduation.
type DutyEnrolment struct {
	EnrolledOn calendar.Date
	Grade      int // at enrolment
	EndedOn    *calendar.Date
}

// End records that the enrolment ended on d (the first end counts).
func (e *DutyEnrolment) End(d calendar.Date) {
	if e.EndedOn == nil {
		e.EndedOn = &d
	}
}

// LastDay is the enrolment's last day: the day it ended, or Jul 31 of
// the academic year in which the student is in grade 9 (graduation;
// R-SUS "Decision (leaving)").
func (e DutyEnrolment) LastDay() calendar.Date {
	grade := min(max(e.Grade, MinGrade), MaxGrade)
	ay := SemesterOf(e.EnrolledOn).Year + (MaxGrade - grade)
	grad := calendar.NewDate(ay+1912, time.July, 31)
	if e.EndedOn != nil && e.EndedOn.Before(grad) {
		return *e.EndedOn
	}
	return grad
}

// EnrolledOnDay reports whether the student was enrolled on d.
func (e DutyEnrolment) EnrolledOnDay(d calendar.Date) bool {
	return !d.Before(e.EnrolledOn) && !d.After(e.LastDay())
}

// Start is the semester's first day.
func (s Semester) Start() calendar.Date {
	if s.Term == 1 {
		return calendar.NewDate(s.Year+1911, time.August, 1)
	}
	return calendar.NewDate(s.Year+1912, time.February, 1)
}

// End is the semester's last day.
func (s Semester) End() calendar.Date {
	if s.Term == 1 {
		return calendar.NewDate(s.Year+1912, time.January, 31)
	}
	return calendar.NewDate(s.Year+1912, time.July, 31)
}

// Semesters lists the semesters of the enrolment that have begun by asOf.
func (e DutyEnrolment) Semesters(asOf calendar.Date) []Semester {
	last := e.LastDay()
	if asOf.Before(last) {
		last = asOf
	}
	var out []Semester
	if last.Before(e.EnrolledOn) {
		return out
	}
	end := SemesterOf(last)
	for s := SemesterOf(e.EnrolledOn); !end.Before(s); s = s.Next() {
		out = append(out, s)
	}
	return out
}

// A Month is a calendar month, "2026-03".
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf is the month of d.
func MonthOf(d calendar.Date) Month { return Month{d.Year(), d.Month()} }

// String is "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// First is the month's first day.
func (m Month) First() calendar.Date { return calendar.NewDate(m.Year, m.Month, 1) }

// Last is the month's last day.
func (m Month) Last() calendar.Date { return m.Next().First().AddDays(-1) }

// Next is the following month.
func (m Month) Next() Month {
	if m.Month == time.December {
		return Month{m.Year + 1, time.January}
	}
	return Month{m.Year, m.Month + 1}
}

// CoCounsellingMonths returns, for a school's enrolments, each calendar
// month up to asOf's in which it had a student enrolled, except July and
// August (R-ORG-5), with the first day of that month a student was
// enrolled.
func CoCounsellingMonths(enrolments []DutyEnrolment, asOf calendar.Date) map[Month]calendar.Date {
	out := map[Month]calendar.Date{}
	for _, e := range enrolments {
		last := e.LastDay()
		if asOf.Before(last) {
			last = asOf
		}
		if last.Before(e.EnrolledOn) {
			continue
		}
		for m := MonthOf(e.EnrolledOn); !last.Before(m.First()); m = m.Next() {
			if m.Month == time.July || m.Month == time.August {
				continue
			}
			from := m.First()
			if from.Before(e.EnrolledOn) {
				from = e.EnrolledOn
			}
			if have, ok := out[m]; !ok || from.Before(have) {
				out[m] = from
			}
		}
	}
	return out
}

// ValidateDoneOn checks the date a duty was done: not in the future and
// not more than MaxRecordAgeDays ago.
func ValidateDoneOn(field string, on, today calendar.Date) error {
	var c Check
	c.DateIn(field, on, today.AddDays(-MaxRecordAgeDays), today, fmt.Sprintf("must be a date within the last %d days, not in the future", MaxRecordAgeDays))
	return c.Err()
}

// SendRecords checks that the branch school sent a semester's records
// (R-ENR-2): a semester of the student's enrolment, kinds among
// RecordKinds, none sent before.
func (f *DutyFacts) SendRecords(a events.Actor, semester string, kinds []string, on, today calendar.Date) (events.RecordsSent, error) {
	if a.Role != RoleSocialWorker {
		return events.RecordsSent{}, Errorf(EForbidden, "records are sent by the branch school")
	}
	var c Check
	c.EachOneOf("kinds", kinds, RecordKinds, len(RecordKinds))
	if len(kinds) == 0 {
		c.Set("kinds", "name the records sent: "+joinSet(RecordKinds))
	}
	if err := c.Err(); err != nil {
		return events.RecordsSent{}, err
	}
	sem, err := ParseSemester(semester)
	if err != nil {
		return events.RecordsSent{}, err
	}
	if err := ValidateDoneOn("on", on, today); err != nil {
		return events.RecordsSent{}, err
	}
	if f.Enrolment == nil || !slices.Contains(f.Enrolment.Semesters(on), sem) {
		return events.RecordsSent{}, RuleError("R-ENR-2", "semester %s is not a semester of the student's enrolment up to %s", sem, on)
	}
	kinds = slices.Clone(kinds)
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	for _, k := range kinds {
		if slices.Contains(f.RecordsSent[semester], k) {
			return events.RecordsSent{}, Errorf(EConflict, "the %s of semester %s were already sent", k, semester)
		}
	}
	return events.RecordsSent{Semester: semester, Kinds: kinds, On: on}, nil
}

// InformNetworkUnits checks that the origin school informed the network
// units of a result the case has had (R-SOY-7, R-MID-5, R-SUS-4).
func (f *DutyFacts) InformNetworkUnits(a events.Actor, result string, on, today calendar.Date) (events.NetworkUnitsInformed, error) {
	if a.Role != RoleOriginSchool {
		return events.NetworkUnitsInformed{}, Errorf(EForbidden, "the origin school informs the network units")
	}
	var c Check
	c.OneOf("result", result, Results, true)
	if err := c.Err(); err != nil {
		return events.NetworkUnitsInformed{}, err
	}
	if err := ValidateDoneOn("on", on, today); err != nil {
		return events.NetworkUnitsInformed{}, err
	}
	rule := DutyRule(DutyNetworkNotice, result)
	letter, ok := f.Results[result]
	if !ok {
		return events.NetworkUnitsInformed{}, RuleError(rule, "the case has no %s result to inform the network units of", result)
	}
	if on.Before(letter) {
		return events.NetworkUnitsInformed{}, RuleError(rule, "the network units cannot be informed before the result (%s)", letter)
	}
	if f.Informed[result] {
		return events.NetworkUnitsInformed{}, Errorf(EConflict, "the network units were already informed of this result")
	}
	return events.NetworkUnitsInformed{Result: result, On: on}, nil
}

// Accompany checks that the origin school accompanied an admitted student
// reporting (R-ORG-2): a staff member, or a parent for a graduating
// grade-6 pupil.
func (f *DutyFacts) Accompany(a events.Actor, by string, on, today calendar.Date) (events.ReportingAccompanied, error) {
	if a.Role != RoleOriginSchool {
		return events.ReportingAccompanied{}, Errorf(EForbidden, "the origin school records the accompaniment")
	}
	var c Check
	c.OneOf("by", by, AccompaniedBy, true)
	if err := c.Err(); err != nil {
		return events.ReportingAccompanied{}, err
	}
	if err := ValidateDoneOn("on", on, today); err != nil {
		return events.ReportingAccompanied{}, err
	}
	admitted, ok := f.Results[ResultAdmitted]
	switch {
	case !ok || (!f.Admitted && f.Enrolment == nil):
		return events.ReportingAccompanied{}, RuleError("R-ORG-2", "only an admitted student reports to the branch")
	case on.Before(admitted):
		return events.ReportingAccompanied{}, RuleError("R-ORG-2", "the student cannot report before the admission (%s)", admitted)
	case by == AccompaniedByParent && !f.ElementaryGraduate:
		return events.ReportingAccompanied{}, RuleError("R-ORG-2", "a staff member of the origin school accompanies the student; a parent suffices for a graduating grade-6 pupil only")
	case f.Accompanied:
		return events.ReportingAccompanied{}, Errorf(EConflict, "the accompaniment is already recorded")
	}
	return events.ReportingAccompanied{On: on, By: by}, nil
}

// AssistLeave checks that the origin school helped a suspended student
// leave (R-ORG-6).
func (f *DutyFacts) AssistLeave(a events.Actor, on, today calendar.Date) (events.LeaveAssisted, error) {
	if a.Role != RoleOriginSchool {
		return events.LeaveAssisted{}, Errorf(EForbidden, "the origin school records the help to leave")
	}
	if err := ValidateDoneOn("on", on, today); err != nil {
		return events.LeaveAssisted{}, err
	}
	if !f.Suspended {
		return events.LeaveAssisted{}, RuleError("R-ORG-6", "only a suspended student is helped to leave")
	}
	if f.LeaveAssisted {
		return events.LeaveAssisted{}, Errorf(EConflict, "the help to leave is already recorded")
	}
	return events.LeaveAssisted{On: on}, nil
}

// ValidateCoCounselling checks a co-counselling visit's fields: a date and
// 1..MaxCoveredCases distinct referral ids, each with an optional note.
func ValidateCoCounselling(on, today calendar.Date, cases []string, notes []string) error {
	var c Check
	if err := ValidateDoneOn("on", on, today); err != nil {
		return err
	}
	switch {
	case len(cases) == 0:
		c.Set("cases", "name the cases the visit covered")
	case len(cases) > MaxCoveredCases:
		c.Set("cases", fmt.Sprintf("at most %d cases", MaxCoveredCases))
	}
	seen := map[string]bool{}
	for i, id := range cases {
		if !IsReferralID(id) {
			c.Set(fmt.Sprintf("cases[%d].case_id", i), "must be a referral id")
		} else if seen[id] {
			c.Set(fmt.Sprintf("cases[%d].case_id", i), "listed twice")
		}
		seen[id] = true
		if i < len(notes) {
			c.Text(fmt.Sprintf("cases[%d].note", i), notes[i], MaxNoteLen, false)
		}
	}
	return c.Err()
}
