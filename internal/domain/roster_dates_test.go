package domain_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

func day(y int, m time.Month, d int) calendar.Date { return calendar.NewDate(y, m, d) }

// rosterOf folds roster events, each recorded on its day.
type rosterEvent struct {
	on calendar.Date
	ev events.Event
}

func rosterOf(evs ...rosterEvent) *domain.Roster {
	r := &domain.Roster{}
	for i, x := range evs {
		r.Apply(events.Envelope{Payload: x.ev, Version: uint64(i + 1), Position: uint64(i + 1),
			OccurredAt: time.Date(x.on.Year(), x.on.Month(), x.on.Day(), 10, 0, 0, 0, domain.Taipei)})
	}
	return r
}

// fullSchool is a roster of 135 enrolled students of academic year 114,
// 45 in each grade, seated since Aug 1 2025.
func fullSchool() *domain.Roster {
	var evs []rosterEvent
	from := day(2025, 8, 1)
	for g := 7; g <= 9; g++ {
		for i := range 45 {
			id := fmt.Sprintf("held-%d-%02d", g, i)
			evs = append(evs, rosterEvent{from, events.SeatTaken{CaseID: id, PersonKey: "p" + id, Cap: 135, From: &from, Grade: g, GradeYear: 114}},
				rosterEvent{from, events.SeatEnrolled{CaseID: id, Grade: g, Class: fmt.Sprintf("%d-%d", g, i%3+1)}})
		}
	}
	return rosterOf(evs...)
}

func referral(id string, route domain.Route, year, grade int) *domain.Referral {
	return &domain.Referral{ID: id, Route: route, AcademicYear: year, Grade: grade, PersonKey: "p" + id,
		OriginSchool: "034501", Stage: domain.StageRecommended, Version: 5}
}

// R-CAP-1 (dated): in May 2026 the school is full, but the 45 grade-9
// students' seats end on Jul 31: 45 start-of-year admissions take seats
// from Aug 1, the 46th does not, and a mid-year admission in May finds
// no seat; no day ever holds more than 135.
func TestR_CAP_1_StartOfYearSeatsFromAugustFillGraduatesPlaces(t *testing.T) {
	r := fullSchool().Clone()
	may := day(2026, 5, 20)
	for i := range 45 {
		e, ok, err := r.TakeSeat(referral(fmt.Sprintf("soy%02d", i), domain.RouteStartOfYear, 115, 7), may, 135)
		if err != nil || !ok {
			t.Fatalf("start-of-year admission %d: ok=%v err=%v", i, ok, err)
		}
		if *e.From != day(2026, 8, 1) || *e.Last != day(2029, 7, 31) || e.Grade != 7 || e.GradeYear != 115 {
			t.Fatalf("seat range %v–%v grade %d/%d", e.From, e.Last, e.Grade, e.GradeYear)
		}
	}
	if _, ok, _ := r.TakeSeat(referral("soy45", domain.RouteStartOfYear, 115, 7), may, 135); ok {
		t.Fatal("a 46th start-of-year seat was given: Aug 1 would hold 136")
	}
	if _, ok, _ := r.TakeSeat(referral("mid", domain.RouteMidYear, 114, 8), may, 135); ok {
		t.Fatal("a mid-year seat was given in May in a full school")
	}
	for _, d := range []calendar.Date{day(2026, 5, 20), day(2026, 7, 31), day(2026, 8, 1), day(2027, 7, 31)} {
		if n := r.HeldOn(d); n != 135 {
			t.Fatalf("held on %s: %d, want 135", d, n)
		}
	}
	if got := r.MaxHeld(day(2025, 1, 1), nil); got != 135 {
		t.Fatalf("most held on any day: %d", got)
	}
	if free := r.FreeOn(135, day(2026, 8, 1), nil); free != 0 {
		t.Fatalf("free from Aug 1: %d", free)
	}
	// The holders on Jul 31 are the old school; on Aug 1 the graduates are
	// gone and the newcomers hold seats.
	if hs := r.HoldersOn(day(2026, 7, 31)); hs[0].CaseID != "held-7-00" {
		t.Fatalf("holders on Jul 31 start with %s", hs[0].CaseID)
	}
	for _, h := range r.HoldersOn(day(2026, 8, 1)) {
		if g := h.GradeOn(day(2026, 8, 1)); g < 7 || g > 9 {
			t.Fatalf("%s in grade %d on Aug 1", h.CaseID, g)
		}
	}
}

// R-CAP-1: events recorded before the roster carried dates read
// sensibly: a seat holds from its event's day, open-ended; a release
// ends it the day before its event's day; an enrolment with a grade gives
// the planned graduation.
func TestR_CAP_1_UndatedSeatEventsHaveDefaults(t *testing.T) {
	r := rosterOf(
		rosterEvent{day(2025, 9, 1), events.SeatTaken{CaseID: "a", Cap: 135, Taken: 1}},
		rosterEvent{day(2025, 9, 2), events.SeatTaken{CaseID: "b", Cap: 135, Taken: 2}},
		rosterEvent{day(2025, 9, 3), events.SeatEnrolled{CaseID: "b", Grade: 8, Class: "8-1"}},
		rosterEvent{day(2026, 1, 10), events.SeatReleased{CaseID: "a"}},
	)
	if r.HeldOn(day(2025, 8, 31)) != 0 || r.HeldOn(day(2025, 9, 1)) != 1 || r.HeldOn(day(2025, 9, 2)) != 2 {
		t.Fatalf("held from the events' days: %d %d %d", r.HeldOn(day(2025, 8, 31)), r.HeldOn(day(2025, 9, 1)), r.HeldOn(day(2025, 9, 2)))
	}
	if r.HeldOn(day(2026, 1, 9)) != 2 || r.HeldOn(day(2026, 1, 10)) != 1 {
		t.Fatalf("the release ends the seat the day before: %d %d", r.HeldOn(day(2026, 1, 9)), r.HeldOn(day(2026, 1, 10)))
	}
	b := r.Seats["b"]
	if b.Last == nil || *b.Last != day(2027, 7, 31) || b.GradeOn(day(2026, 8, 1)) != 9 {
		t.Fatalf("enrolled grade 8 in 114 graduates on 2027-07-31: %+v", b)
	}
}

// R-EXCL-4 (issue 9 defect 2): checked when the transfer takes effect,
// against the grade on that day; the second semester is Feb 1 – Jul 31.
func TestR_EXCL_4_CheckedOnTheDayTheTransferTakesEffect(t *testing.T) {
	tests := []struct {
		grade int
		on    calendar.Date
		major bool
		want  string
	}{
		{9, day(2026, 1, 31), false, ""},
		{9, day(2026, 2, 1), false, "R-EXCL-4"},
		{9, day(2026, 7, 31), false, "R-EXCL-4"},
		{9, day(2026, 3, 23), true, ""},
		{8, day(2026, 3, 23), false, ""},
	}
	for _, tt := range tests {
		if got := ruleOf(domain.CheckTransfer(tt.grade, tt.on, tt.major)); got != tt.want {
			t.Errorf("grade %d on %s (major %v): rule %q, want %q", tt.grade, tt.on, tt.major, got, tt.want)
		}
	}
}

// R-EXCL-4 (issue 9 defect 2): a grade-9 mid-year referral filed on
// 2025-07-10 for academic year 114 is accepted (July is not the second
// semester of the year it is filed for; the transfer takes effect later).
func TestR_EXCL_4_Grade9FiledInJulyForNextYearAccepted(t *testing.T) {
	c := cmd(at(2025, 7, 10))
	c.Grade = 9
	e, err := domain.Open(context.Background(), sealer(), c)
	if err != nil || e.AcademicYear != 114 {
		t.Fatalf("grade 9 filed 2025-07-10: year %d err %v", e.AcademicYear, err)
	}
	// Filed in the second semester, it is accepted too: the rule waits
	// for the day the transfer takes effect.
	c = cmd(at(2026, 2, 11))
	c.Grade = 9
	if _, err := domain.Open(context.Background(), sealer(), c); err != nil {
		t.Fatalf("grade 9 filed 2026-02-11: %v", err)
	}
}

// R-EXCL-4 (issue 9 defect 2): a grade-9 referral filed on 2025-12-10
// and admitted at the March meeting would transfer in during the second
// semester: without a major reason the close refuses the place (a letter
// cites R-EXCL-4); with one it is admitted.
func TestR_EXCL_4_MarchAdmissionOfGrade9NeedsMajorReason(t *testing.T) {
	for _, major := range []bool{false, true} {
		c := referral("r9", domain.RouteMidYear, 114, 9)
		c.ReceivedOn = day(2025, 12, 10)
		c.Admission.MajorReason = major
		m := &domain.Meeting{ID: "m1", Status: "open", Resolutions: []domain.MeetingResolution{{CaseID: "r9", Resolution: domain.ResolutionAdmit}}}
		plan, err := domain.PlanClose(events.Actor{Role: domain.RoleCommittee}, m, &domain.Roster{}, map[string]*domain.Referral{"r9": c}, 135, day(2026, 3, 23), day(2026, 4, 7))
		if err != nil {
			t.Fatal(err)
		}
		admitted := len(plan.Admitted) == 1 && len(plan.Roster) == 1
		if admitted != major {
			t.Fatalf("major reason %v: admitted %v (%d roster events)", major, admitted, len(plan.Roster))
		}
		if !major {
			rej, ok := plan.Cases["r9"][0].(events.Rejected)
			if !ok || !strings.Contains(rej.Letter.Outcome, "R-EXCL-4") {
				t.Fatalf("refusal: %#v", plan.Cases["r9"])
			}
		}
	}
}
