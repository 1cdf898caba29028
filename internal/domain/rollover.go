package domain

import (
	"fmt"
	"slices"
	"strings"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// StageGraduated: grade 9 left on Jul 31 (the roll-over). A waiting-list
// entry that lapses on Jul 31 takes StageLapsed (returns.go), with end
// state lapsed.
const StageGraduated Stage = "graduated"

// EndReasonApplicationLapsed is the end reason of a returned application
// not re-submitted by its window's end (end state lapsed).
const EndReasonApplicationLapsed = "the returned application was not re-submitted by the window's end (R-MID-3 decision)"

// EndReason explains an end state, citing its rule; never free text
// about the student.
func EndReason(state string) string {
	switch state {
	case EndingDeclined:
		return "the admission was declined before the place was taken up (R-SUS-1 decision: leaving)"
	case EndingWithdrawn:
		return "the case withdrew from the waiting list (R-SUS-1 decision: leaving)"
	case EndingGraduated:
		return "graduated: a grade-9 student leaves on Jul 31 (R-CAP-1, R-SUS-1 decision)"
	case EndingLapsed:
		return "the waiting-list entry lapsed at the end of the academic year it was made for, Jul 31 (R-SUS-1 decision)"
	case EndingSuspended:
		return "中止就讀 by the committee's resolution (R-SUS-2..4)"
	case EndingLeft:
		return "the place was released (recorded before end states were carried)"
	case string(StageRejected):
		return "the committee did not admit the case (R-MTG-3)"
	}
	return ""
}

// PlaceEnding is the end state and day a PlaceReleased gives a case.
func PlaceEnding(e events.PlaceReleased, env events.Envelope) (string, *calendar.Date) {
	return placeEnding(e, env)
}

func placeEnding(e events.PlaceReleased, env events.Envelope) (string, *calendar.Date) {
	state := e.EndState
	if state == "" {
		state = EndingLeft
	}
	on := calendar.DateOf(env.OccurredAt, Taipei)
	if e.Last != nil {
		on = *e.Last
	}
	return state, &on
}

// applyYear folds a case's events of the dated roster and the academic
// year.
func (r *Referral) applyYear(env events.Envelope) {
	switch e := env.Payload.(type) {
	case events.GradeAdvanced:
		r.Grade, r.Admission.GradeYear = e.Grade, e.Year
	case events.Graduated:
		on := e.On
		r.Stage, r.Admission.EndState, r.Admission.Ended = StageGraduated, EndingGraduated, &on
	case events.WaitlistLapsed:
		on := e.On
		r.Stage, r.Admission.EndState, r.Admission.Ended = StageLapsed, EndingLapsed, &on
	case events.MajorReasonRecorded:
		r.Admission.MajorReason = true
	}
}

func (r *Roster) rolledOver(e events.YearRolledOver) {
	if r.RolledOver == nil {
		r.RolledOver = map[int]bool{}
	}
	r.RolledOver[e.Year] = true
	if len(e.Proposal) > 0 {
		if r.Proposals == nil {
			r.Proposals = map[int][]events.ClassAssignment{}
		}
		r.Proposals[e.Year] = e.Proposal
	}
}

func (r *Roster) classesConfirmed(e events.ClassesConfirmed) {
	for _, a := range e.Assignments {
		if s, ok := r.Seats[a.CaseID]; ok {
			s.Class = a.Class
			r.Seats[a.CaseID] = s
		}
	}
	delete(r.Proposals, e.Year)
}

// LastRolledOver is the latest academic year whose roll-over is recorded
// (0: none).
func (r *Roster) LastRolledOver() int {
	last := 0
	for y := range r.RolledOver {
		last = max(last, y)
	}
	return last
}

// RolloverPlan is what the roll-over into an academic year records, in
// one atomic append over the roster and every case it touches.
type RolloverPlan struct {
	Done   bool // already recorded: nothing to append (idempotent per year)
	Roster []events.Event
	Cases  map[string][]events.Event
	Event  events.YearRolledOver
}

// PlanRollover plans the roll-over into academic year year (R-CAP-1,
// R-SUS-1 decision): on Aug 1 grades advance (7→8, 8→9), the seats of the
// grade-9 students end on Jul 31 (end state graduated), classes are
// proposed for the social worker to confirm, and the waiting-list entries
// of earlier years lapse on Jul 31 of their year (end state lapsed, with
// a letter). cases holds the referrals of the roster's seats and waiting
// entries (a seat whose case is missing changes on the roster alone).
func PlanRollover(a events.Actor, year int, roster *Roster, cases map[string]*Referral, today calendar.Date) (RolloverPlan, error) {
	switch a.Role {
	case RoleAdmin, RoleSocialWorker, events.RoleSystem:
	default:
		return RolloverPlan{}, Errorf(EForbidden, "the academic year is rolled over by the branch school or an admin")
	}
	if year < MinAcademicYear || year > MaxAcademicYear {
		return RolloverPlan{}, Invalid(map[string]string{"year": fmt.Sprintf("must be an ROC academic year from %d to %d", MinAcademicYear, MaxAcademicYear)})
	}
	if roster.RolledOver[year] {
		return RolloverPlan{Done: true}, nil
	}
	start := YearStart(year)
	if today.Before(start) {
		return RolloverPlan{}, RuleError("R-CAP-1", "academic year %d begins on %s: it cannot be rolled over before", year, start)
	}
	if last := roster.LastRolledOver(); last > year {
		return RolloverPlan{}, Errorf(EConflict, "academic year %d is already rolled over; %d comes before it", last, year)
	}
	jul31 := start.AddDays(-1)
	plan := RolloverPlan{Cases: map[string][]events.Event{}}
	ev := events.YearRolledOver{Year: year, On: start, Advanced: []string{}, Graduated: []string{}, Lapsed: []string{}, Proposal: []events.ClassAssignment{}}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range roster.Seats {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		s := roster.Seats[id]
		if s.Grade == 0 || s.From.After(jul31) {
			continue // a seat from Aug 1 is already of the new year; a grade unknown stays
		}
		c := cases[id]
		alive := c != nil && (c.Stage == StageEnrolled || c.Stage == StageAdmitted)
		g := s.GradeOn(jul31)
		if g >= MaxGrade {
			plan.Roster = append(plan.Roster, events.SeatReleased{CaseID: id, Last: &jul31, Ending: EndingGraduated})
			if alive {
				plan.Cases[id] = append(plan.Cases[id], events.Graduated{On: jul31})
			}
			ev.Graduated = append(ev.Graduated, id)
			continue
		}
		ev.Advanced = append(ev.Advanced, id)
		if alive {
			plan.Cases[id] = append(plan.Cases[id], events.GradeAdvanced{Year: year, Grade: g + 1})
		}
		if _, n, ok := ParseClass(s.Class); ok {
			ev.Proposal = append(ev.Proposal, events.ClassAssignment{CaseID: id, Grade: g + 1, Class: fmt.Sprintf("%d-%d", g+1, n)})
		}
	}
	for _, w := range roster.Waiting {
		c := cases[w.CaseID]
		if c == nil || c.AcademicYear >= year {
			continue
		}
		end := YearEnd(c.AcademicYear)
		plan.Roster = append(plan.Roster, events.WaitlistLeft{CaseID: w.CaseID, Ending: EndingLapsed})
		if c.Stage == StageWaitlisted {
			plan.Cases[w.CaseID] = append(plan.Cases[w.CaseID], events.WaitlistLapsed{Year: c.AcademicYear, On: end, Letter: events.Letter{
				ToSchool: c.OriginSchool, StudentAlias: Alias(c.ID), Subject: "慈輝班候補名單失效通知",
				Outcome:  fmt.Sprintf("%d 學年度候補名單已於 %s 學年度結束時失效（R-SUS-1）", c.AcademicYear, end.ROC()),
				NextStep: "如仍有就讀需求，請於受理期間重新提出轉介申請。請通知個案網絡單位。"}})
		}
		ev.Lapsed = append(ev.Lapsed, w.CaseID)
	}
	plan.Roster = append(plan.Roster, ev)
	plan.Event = ev
	return plan, nil
}

// ConfirmClasses confirms the class proposal of the roll-over into year,
// with the social worker's changes (R-CAP-2: each a class of the
// student's grade within the branch's norms). It returns the roster event
// and each case's ClassAssigned.
func ConfirmClasses(a events.Actor, year int, roster *Roster, changes []events.ClassAssignment, norms ClassNorms) (events.ClassesConfirmed, map[string]events.ClassAssigned, error) {
	if a.Role != RoleSocialWorker {
		return events.ClassesConfirmed{}, nil, Errorf(EForbidden, "classes are confirmed by the branch school")
	}
	proposal, ok := roster.Proposals[year]
	if !ok {
		return events.ClassesConfirmed{}, nil, Errorf(EConflict, "academic year %d has no class proposal to confirm (not rolled over, or already confirmed)", year)
	}
	out := slices.Clone(proposal)
	for i, ch := range changes {
		j := slices.IndexFunc(out, func(x events.ClassAssignment) bool { return x.CaseID == ch.CaseID })
		if j < 0 {
			return events.ClassesConfirmed{}, nil, Invalid(map[string]string{fmt.Sprintf("changes[%d].case_id", i): "not in the year's proposal"})
		}
		g, n, ok := ParseClass(strings.TrimSpace(ch.Class))
		if !ok || g != out[j].Grade || n > norms.MaxClassLabel() {
			return events.ClassesConfirmed{}, nil, Invalid(map[string]string{fmt.Sprintf("changes[%d].class", i): fmt.Sprintf("must be a class of grade %d within the branch's norms (R-CAP-2)", out[j].Grade)})
		}
		out[j].Class = ch.Class
	}
	per := map[string]events.ClassAssigned{}
	for _, x := range out {
		per[x.CaseID] = events.ClassAssigned{Year: year, Grade: x.Grade, Class: x.Class}
	}
	return events.ClassesConfirmed{Year: year, Assignments: out}, per, nil
}
