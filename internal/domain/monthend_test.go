package domain_test

import (
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-DOC-1 item 5 (Decision): "within the last month" is on or after the
// same day of the month before, or that month's last day where it has no
// such day; it never rolls forward into the next month.
func TestR_DOC_1_Item5MonthEnd(t *testing.T) {
	sw := events.Actor{Role: events.RoleSocialWorker}
	for _, tc := range []struct {
		issued, submitted calendar.Date
		ok                bool
	}{
		{calendar.NewDate(2026, 3, 2), calendar.NewDate(2026, 3, 31), true},
		{calendar.NewDate(2026, 2, 28), calendar.NewDate(2026, 3, 31), true},
		{calendar.NewDate(2026, 2, 27), calendar.NewDate(2026, 3, 31), false},
		{calendar.NewDate(2024, 2, 29), calendar.NewDate(2024, 3, 31), true},
		{calendar.NewDate(2026, 4, 30), calendar.NewDate(2026, 5, 31), true},
		{calendar.NewDate(2026, 4, 29), calendar.NewDate(2026, 5, 31), false},
	} {
		issued := tc.issued
		r := &domain.Referral{ID: "c1", Stage: domain.StageIntake}
		r.Documents[5] = domain.Document{Submitted: true, SubmittedOn: tc.submitted, Pages: 1, IssuedOn: &issued}
		_, err := r.CheckDocument(sw, 5, true, events.Sealed{})
		if (err == nil) != tc.ok {
			t.Errorf("issued %s submitted %s: err %v, want accepted %v", tc.issued, tc.submitted, err, tc.ok)
		}
	}
}

// R-ENR-1 (Decision, as R-DOC-1 item 5): a health check "within two
// months" of enrolment is on or after the same day two months before, or
// that month's last day.
func TestR_ENR_1_HealthCheckMonthEnd(t *testing.T) {
	sw := events.Actor{Role: events.RoleSocialWorker}
	for _, tc := range []struct {
		examined, today calendar.Date
		ok              bool
	}{
		{calendar.NewDate(2026, 3, 1), calendar.NewDate(2026, 4, 30), true},
		{calendar.NewDate(2026, 2, 28), calendar.NewDate(2026, 4, 30), true},
		{calendar.NewDate(2026, 2, 27), calendar.NewDate(2026, 4, 30), false},
		{calendar.NewDate(2025, 12, 31), calendar.NewDate(2026, 2, 28), true},
		{calendar.NewDate(2025, 12, 30), calendar.NewDate(2026, 2, 28), true},
		{calendar.NewDate(2025, 12, 27), calendar.NewDate(2026, 2, 28), false},
	} {
		examined := tc.examined
		r := &domain.Referral{ID: "c1", Stage: domain.StageAdmitted}
		r.Admission.HealthExamined = &examined
		roster := &domain.Roster{Seats: map[string]domain.Seat{"c1": {}}}
		_, _, _, err := r.Enrol(sw, roster, 7, "7-1", events.Sealed{}, false, domain.DefaultClassNorms(), tc.today)
		if (err == nil) != tc.ok {
			t.Errorf("examined %s enrolled %s: err %v, want accepted %v", tc.examined, tc.today, err, tc.ok)
		}
	}
}
