package domain_test

import (
	"slices"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-ENR-2: a registration names a semester "<ROC year>-<1|2>" of the
// student's enrolment: not before the semester enrolled in, nor beyond the
// one after today's.
func TestR_ENR_2_RegistrationSemester(t *testing.T) {
	school := events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	r := &domain.Referral{ID: "c1", Stage: domain.StageAdmitted}
	r.Apply(events.Envelope{Payload: events.Enrolled{On: calendar.NewDate(2026, 2, 11), Grade: 8, Class: "8-1"}})
	today := calendar.NewDate(2026, 5, 4) // semester 114-2
	for _, tc := range []struct {
		semester string
		code     domain.Code
		rule     string
	}{
		{"abc-1", domain.EInvalid, ""},
		{"114-3", domain.EInvalid, ""},
		{"+14-1", domain.EInvalid, ""},
		{"114-1", domain.ERule, "R-ENR-2"}, // before enrolment
		{"113-2", domain.ERule, "R-ENR-2"},
		{"115-2", domain.ERule, "R-ENR-2"}, // too far ahead
		{"199-1", domain.ERule, "R-ENR-2"},
		{"114-2", "", ""},
		{"115-1", "", ""}, // the next semester may be registered ahead
	} {
		_, err := r.RecordRegistration(school, tc.semester, today)
		if domain.ErrorCode(err) != tc.code || ruleOf(err) != tc.rule {
			t.Errorf("semester %q: err %v, want code %q rule %q", tc.semester, err, tc.code, tc.rule)
		}
	}
}

// R-ENR-2: each semester of the enrolment up to the current one without a
// registration is listed.
func TestR_ENR_2_MissingRegistrations(t *testing.T) {
	enrolled := calendar.NewDate(2025, 10, 6) // 114-1
	for _, tc := range []struct {
		today    calendar.Date
		recorded []string
		want     []string
	}{
		{calendar.NewDate(2025, 10, 6), nil, []string{"114-1"}},
		{calendar.NewDate(2026, 1, 31), []string{"114-1"}, []string{}},
		{calendar.NewDate(2026, 2, 1), []string{"114-1"}, []string{"114-2"}},
		{calendar.NewDate(2026, 8, 1), []string{"114-2", "115-1"}, []string{"114-1"}},
		{calendar.NewDate(2027, 3, 1), []string{"114-1"}, []string{"114-2", "115-1", "115-2"}},
	} {
		if got := domain.MissingRegistrations(enrolled, tc.today, tc.recorded); !slices.Equal(got, tc.want) {
			t.Errorf("on %s with %v: missing %v, want %v", tc.today, tc.recorded, got, tc.want)
		}
	}
}
