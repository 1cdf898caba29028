package domain_test

import (
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-SOY-6: every admission reports on the date the committee's close
// carries (the system proposes none of its own: no June 30 for the start of
// year); a close that admits anyone without one is refused. R-SOY-5:
// places go in order of application time, whatever the order of the
// resolutions.
func TestR_SOY_6_PlanCloseOrderAndReportingDates(t *testing.T) {
	committee := events.Actor{Role: events.RoleCommittee}
	m := &domain.Meeting{ID: "m1", Status: "open"}
	cases := map[string]*domain.Referral{}
	for _, id := range []string{"late", "early", "mid"} {
		r := &domain.Referral{ID: id, OriginSchool: "034501", Route: domain.RouteStartOfYear, AcademicYear: 115, Stage: domain.StageRecommended}
		r.Admission.ApplicationPosition = map[string]uint64{"early": 10, "mid": 20, "late": 30}[id]
		if id == "mid" {
			r.Route = domain.RouteMidYear
		}
		cases[id] = r
		m.Resolutions = append(m.Resolutions, domain.MeetingResolution{CaseID: id, Resolution: domain.ResolutionAdmit})
	}
	roster := &domain.Roster{Seats: map[string]domain.Seat{"x": {}}}
	today := calendar.NewDate(2026, 5, 20)
	if _, err := domain.PlanClose(committee, m, roster, cases, 3, today, calendar.Date{}); ruleOf(err) != "R-SOY-6" {
		t.Fatalf("a close admitting without a reporting date: %v, want R-SOY-6", err)
	}
	report := calendar.NewDate(2026, 6, 3)
	plan, err := domain.PlanClose(committee, m, roster, cases, 3, today, report)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Admitted) != 2 || plan.Admitted[0] != "early" || plan.Admitted[1] != "mid" || len(plan.Waitlisted) != 1 || plan.Waitlisted[0] != "late" {
		t.Fatalf("admitted %v waitlisted %v", plan.Admitted, plan.Waitlisted)
	}
	for _, id := range plan.Admitted {
		a := plan.Cases[id][0].(events.Admitted)
		if a.ReportBy == nil || *a.ReportBy != report || !strings.Contains(a.Letter.NextStep, "民國115年6月3日") {
			t.Fatalf("%s: report by %v, letter %q; want the close's date", id, a.ReportBy, a.Letter.NextStep)
		}
	}
	// A close that admits nobody needs no reporting date.
	none := &domain.Meeting{ID: "m2", Status: "open", Resolutions: []domain.MeetingResolution{{CaseID: "late", Resolution: domain.ResolutionWaitlist}}}
	if _, err := domain.PlanClose(committee, none, roster, cases, 3, today, calendar.Date{}); err != nil {
		t.Fatalf("a close admitting nobody: %v", err)
	}
}

// R-SOY-6: the reporting date is a working day of the office calendar on
// or after the day of the offer.
func TestR_SOY_6_ReportingDateIsAWorkingDay(t *testing.T) {
	cal := calendar.Default()
	close := calendar.NewDate(2026, 3, 23) // a Monday
	for _, tc := range []struct {
		d  calendar.Date
		ok bool
	}{
		{calendar.NewDate(2026, 3, 23), true},  // the day itself
		{calendar.NewDate(2026, 4, 7), true},   // Tuesday after the spring holidays
		{calendar.NewDate(2026, 3, 20), false}, // before the close
		{calendar.NewDate(2026, 3, 28), false}, // Saturday
		{calendar.NewDate(2026, 4, 6), false},  // 清明節 observed
		{calendar.NewDate(2040, 4, 9), false},  // no calendar for 2040
	} {
		err := domain.CheckReportingDate(cal, tc.d, close)
		if tc.ok != (err == nil) || (err != nil && ruleOf(err) != "R-SOY-6") {
			t.Errorf("%s: %v, want ok=%v (else R-SOY-6)", tc.d, err, tc.ok)
		}
	}
}

// R-CAP-1: one student holds at most one of the places. Two cases of one
// person (one key) on the docket with admit resolutions take one seat;
// and a case of a student who already holds a place takes none.
func TestR_CAP_1_OneStudentOnePlace(t *testing.T) {
	committee := events.Actor{Role: events.RoleCommittee}
	m := &domain.Meeting{ID: "m1", Status: "open"}
	cases := map[string]*domain.Referral{}
	for i, id := range []string{"a", "b", "c"} {
		r := &domain.Referral{ID: id, OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 115, Stage: domain.StageRecommended, PersonKey: "pk-1"}
		if id == "c" {
			r.PersonKey = "pk-2"
		}
		r.Admission.ApplicationPosition = uint64(10 * (i + 1))
		cases[id] = r
		m.Resolutions = append(m.Resolutions, domain.MeetingResolution{CaseID: id, Resolution: domain.ResolutionAdmit})
	}
	roster := &domain.Roster{}
	today := calendar.NewDate(2026, 3, 20)
	plan, err := domain.PlanClose(committee, m, roster, cases, 135, today, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Admitted) != 2 || plan.Admitted[0] != "a" || plan.Admitted[1] != "c" {
		t.Fatalf("admitted %v, want [a c]: one place per student", plan.Admitted)
	}
	if len(plan.Roster) != 2 {
		t.Fatalf("roster events %v, want two seats", plan.Roster)
	}
	if _, ok := plan.Cases["b"][0].(events.Rejected); !ok {
		t.Fatalf("second case of the student: %#v, want an end without a place", plan.Cases["b"])
	}
	for i, e := range plan.Roster {
		roster.Apply(events.Envelope{Payload: e, Version: uint64(i + 1)})
	}
	if roster.Taken() != 2 {
		t.Fatalf("taken %d, want 2", roster.Taken())
	}
	// A later meeting: the student already holds a place through case a.
	m2 := &domain.Meeting{ID: "m2", Status: "open", Resolutions: []domain.MeetingResolution{{CaseID: "d", Resolution: domain.ResolutionAdmit}}}
	d := &domain.Referral{ID: "d", OriginSchool: "034502", Route: domain.RouteMidYear, AcademicYear: 115, Stage: domain.StageRecommended, PersonKey: "pk-1"}
	plan, err = domain.PlanClose(committee, m2, roster, map[string]*domain.Referral{"d": d}, 135, today, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Admitted) != 0 || len(plan.Roster) != 0 {
		t.Fatalf("admitted %v roster %v: the student already holds a place", plan.Admitted, plan.Roster)
	}
}
