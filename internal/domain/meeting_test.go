package domain_test

import (
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

var committeeActor = events.Actor{Role: events.RoleCommittee}

// R-MTG-1: a meeting cannot be scheduled in the past; today is allowed.
func TestR_MTG_1_MeetingInThePastRefused(t *testing.T) {
	today := calendar.NewDate(2026, 3, 10)
	_, _, err := domain.Schedule(committeeActor, "m1", 114, "march", calendar.NewDate(2026, 3, 9), "", 0, nil, today)
	if ruleOf(err) != "R-MTG-1" {
		t.Fatalf("a meeting dated yesterday: %v, want R-MTG-1", err)
	}
	if _, _, err := domain.Schedule(committeeActor, "m1", 114, "march", today, "", 0, nil, today); err != nil {
		t.Fatalf("a meeting today: %v", err)
	}
}

// R-MTG-1: a meeting's academic year matches its date (Aug 1 – Jul 31);
// the start-of-year meeting is held in the months before its year begins.
func TestR_MTG_1_MeetingYearMatchesDate(t *testing.T) {
	today := calendar.NewDate(2020, 1, 1)
	for _, c := range []struct {
		year int
		kind string
		date calendar.Date
		ok   bool
	}{
		{110, "march", calendar.NewDate(2027, 3, 10), false},
		{110, "march", calendar.NewDate(2022, 3, 10), true},
		{110, "october", calendar.NewDate(2021, 8, 1), true},
		{110, "october", calendar.NewDate(2021, 7, 31), false},
		{110, "december", calendar.NewDate(2022, 8, 1), false},
		{110, "extra", calendar.NewDate(2022, 7, 31), true},
		{110, "start_of_year", calendar.NewDate(2021, 5, 20), true},
		{110, "start_of_year", calendar.NewDate(2021, 8, 2), false},
		{110, "start_of_year", calendar.NewDate(2022, 5, 20), false},
	} {
		_, _, err := domain.Schedule(committeeActor, "m1", c.year, c.kind, c.date, "", 0, nil, today)
		if c.ok != (err == nil) || (!c.ok && ruleOf(err) != "R-MTG-1") {
			t.Errorf("%s meeting of %d on %s: %v", c.kind, c.year, c.date, err)
		}
	}
}

// R-MTG-1: the start-of-year meeting's month is checked against the
// branch's month for it (default May, before the year begins); a
// configuration stored without it falls back to the default.
func TestR_MTG_1_StartOfYearMeetingMonthWarns(t *testing.T) {
	today := calendar.NewDate(2026, 1, 1)
	old := map[string]time.Month{"march": time.March, "october": time.October, "december": time.December}
	for _, c := range []struct {
		date   calendar.Date
		months map[string]time.Month
		warns  bool
	}{
		{calendar.NewDate(2026, 5, 20), nil, false},
		{calendar.NewDate(2026, 5, 20), old, false},
		{calendar.NewDate(2026, 2, 20), nil, true},
		{calendar.NewDate(2026, 2, 20), old, true},
		{calendar.NewDate(2026, 6, 2), map[string]time.Month{"start_of_year": time.June}, false},
		{calendar.NewDate(2026, 5, 20), map[string]time.Month{"start_of_year": time.June}, true},
	} {
		_, w, err := domain.Schedule(committeeActor, "m1", 115, "start_of_year", c.date, "", 0, c.months, today)
		if err != nil || c.warns != (len(w) == 1) {
			t.Errorf("start-of-year meeting of 115 on %s, months %v: warnings %v, %v", c.date, c.months, w, err)
		}
	}
	b := domain.DefaultBranch()
	b.MeetingMonths = map[string]time.Month{"start_of_year": time.August}
	if err := domain.ValidateBranch(b); err == nil {
		t.Fatal("a start-of-year meeting month in August (after the year began) accepted")
	}
}

// R-MTG-2 (letters): an explicit waitlist resolution with free places
// does not say the places are full; a waitlisting because they are full
// does.
func TestR_SOY_5_WaitlistLetterSaysWhy(t *testing.T) {
	m := &domain.Meeting{ID: "m1", Status: "open"}
	cases := map[string]*domain.Referral{}
	for i, id := range []string{"a", "b", "c"} {
		r := &domain.Referral{ID: id, OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 114, Stage: domain.StageRecommended}
		r.Admission.ApplicationPosition = uint64(i + 1)
		cases[id] = r
	}
	m.Resolutions = []domain.MeetingResolution{
		{CaseID: "a", Resolution: domain.ResolutionWaitlist},
		{CaseID: "b", Resolution: domain.ResolutionAdmit},
		{CaseID: "c", Resolution: domain.ResolutionAdmit},
	}
	roster := &domain.Roster{Seats: map[string]domain.Seat{}}
	plan, err := domain.PlanClose(committeeActor, m, roster, cases, 1, calendar.NewDate(2026, 3, 23), calendar.NewDate(2026, 3, 30))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Admitted) != 1 || plan.Admitted[0] != "b" {
		t.Fatalf("admitted %v", plan.Admitted)
	}
	explicit := plan.Cases["a"][0].(events.Waitlisted).Letter.Outcome
	full := plan.Cases["c"][0].(events.Waitlisted).Letter.Outcome
	if strings.Contains(explicit, "名額已滿") || !strings.Contains(explicit, "決議") {
		t.Fatalf("explicit waitlist with a free place: %q", explicit)
	}
	if !strings.Contains(full, "名額已滿") {
		t.Fatalf("waitlisted because full: %q", full)
	}
}

// R-MID-5: an appeal refused on a mid-year case cites R-MID-5; a
// start-of-year one R-SOY-4.
func TestR_MID_5_MidYearAppealCitesRule(t *testing.T) {
	school := events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	for route, want := range map[domain.Route]string{domain.RouteMidYear: "R-MID-5", domain.RouteStartOfYear: "R-SOY-4"} {
		r := &domain.Referral{ID: "r1", OriginSchool: "034501", Route: route, Stage: domain.StageRecommended}
		if _, err := r.Appeal(school, []string{"parent"}, 0, events.Sealed{}); ruleOf(err) != want {
			t.Errorf("%s appeal of a recommended case: %v, want %s", route, err, want)
		}
	}
}

// rosterWith returns a roster whose given classes hold one student each.
func rosterWith(classes ...string) *domain.Roster {
	r := &domain.Roster{Seats: map[string]domain.Seat{}}
	for i, c := range classes {
		g, _, _ := domain.ParseClass(c)
		r.Seats[string(rune('a'+i))] = domain.Seat{Enrolled: true, Grade: g, Class: c}
	}
	return r
}

func hasWarning(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, "R-CAP-2") && strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// R-CAP-2: the branch's class norms (default 8 classes, 2–3 a grade):
// a fourth class of grade 8 is accepted with a warning (more than the
// norm), a fifth refused (the other grades keep their two); a grade's
// only class warns (fewer than the norm); a branch's own norms apply.
func TestR_CAP_2_ClassesPerGradeWarnBothWays(t *testing.T) {
	norms := domain.DefaultClassNorms()
	w, err := rosterWith("8-1", "8-2", "8-3").CheckClass(8, "8-4", false, norms)
	if err != nil || !hasWarning(w, "grade 8 has 4 classes") {
		t.Fatalf("a fourth class of grade 8: %v %v", w, err)
	}
	if _, err := rosterWith().CheckClass(8, "8-5", false, norms); ruleOf(err) != "R-CAP-2" {
		t.Fatalf("a fifth class of grade 8: %v", err)
	}
	w, err = rosterWith("8-1", "8-2").CheckClass(7, "7-1", false, norms)
	if err != nil || !hasWarning(w, "grade 7 has 1 class") {
		t.Fatalf("grade 7's only class: %v %v", w, err)
	}
	w, err = rosterWith("8-1").CheckClass(8, "8-2", false, norms)
	if err != nil || hasWarning(w, "grade 8 has") {
		t.Fatalf("grade 8's second class: %v %v", w, err)
	}
	// A branch of 9 classes of 12–15 students, 3 per grade.
	own := domain.ClassNorms{Classes: 9, MinClassesPerGrade: 3, MaxClassesPerGrade: 3, MinPerClass: 12, MaxPerClass: 15}
	if _, err := rosterWith().CheckClass(8, "8-4", false, own); ruleOf(err) != "R-CAP-2" {
		t.Fatalf("a fourth class where the norms allow three: %v", err)
	}
	w, err = rosterWith("8-1", "8-2").CheckClass(8, "8-3", false, own)
	if err != nil || len(w) != 1 || !hasWarning(w, "below the norm of 12") {
		t.Fatalf("grade 8's third class, 3 a grade: %v %v", w, err)
	}
	full := rosterWith()
	for i := range 15 {
		full.Seats[string(rune('A'+i))] = domain.Seat{Enrolled: true, Grade: 8, Class: "8-1"}
	}
	if _, err := full.CheckClass(8, "8-1", false, own); ruleOf(err) != "R-CAP-2" {
		t.Fatalf("a 16th student where the norm is 15: %v", err)
	}
}
