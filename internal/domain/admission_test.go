package domain_test

import (
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-SOY-6: start-of-year students report in June and enrol in August; a
// mid-year admission reports on the date the branch school sets. R-SOY-5:
// places go in order of application time, whatever the order of the
// resolutions.
func TestPlanCloseOrderAndReportingDates(t *testing.T) {
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
	midReport := calendar.NewDate(2026, 6, 3)
	plan, err := domain.PlanClose(committee, m, roster, cases, 3, today, midReport)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Admitted) != 2 || plan.Admitted[0] != "early" || plan.Admitted[1] != "mid" || len(plan.Waitlisted) != 1 || plan.Waitlisted[0] != "late" {
		t.Fatalf("admitted %v waitlisted %v", plan.Admitted, plan.Waitlisted)
	}
	soy := plan.Cases["early"][0].(events.Admitted)
	if *soy.ReportBy != calendar.NewDate(2026, 6, 30) {
		t.Fatalf("start-of-year report by %s, want June 2026", soy.ReportBy)
	}
	mid := plan.Cases["mid"][0].(events.Admitted)
	if *mid.ReportBy != midReport {
		t.Fatalf("mid-year report by %s", mid.ReportBy)
	}
}
