package domain_test

import (
	"testing"

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
