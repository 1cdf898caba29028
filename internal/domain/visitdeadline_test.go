package domain_test

import (
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// R-MID-4 (Decision): the 10-working-day home-visit deadline applies to
// both mid-year channels, and to no start-of-year referral.
func TestR_MID_4_DeadlineBothMidYearChannels(t *testing.T) {
	for _, tc := range []struct {
		route   domain.Route
		channel domain.Channel
		want    bool
	}{
		{domain.RouteMidYear, domain.ChannelDirect, true},
		{domain.RouteMidYear, domain.ChannelAssessed, true},
		{domain.RouteStartOfYear, "", false},
	} {
		if got := domain.HasVisitDeadline(tc.route, tc.channel); got != tc.want {
			t.Errorf("HasVisitDeadline(%s, %q) = %v, want %v", tc.route, tc.channel, got, tc.want)
		}
	}
}

// R-MID-4: the working days left and "overdue" agree: negative exactly
// when today is after the due date, also on a day off just after it.
func TestR_MID_4_OverdueAgreesWithWorkingDaysLeft(t *testing.T) {
	cal := calendar.Default()
	due := calendar.NewDate(2026, time.March, 6) // a Friday
	for _, tc := range []struct {
		today calendar.Date
		want  int
	}{
		{calendar.NewDate(2026, time.March, 5), 1},
		{due, 0},
		{calendar.NewDate(2026, time.March, 7), -1}, // Saturday
		{calendar.NewDate(2026, time.March, 8), -1}, // Sunday
		{calendar.NewDate(2026, time.March, 9), -1}, // Monday
		{calendar.NewDate(2026, time.March, 10), -2},
	} {
		got, err := domain.VisitDaysLeft(cal, tc.today, due)
		if err != nil || got != tc.want {
			t.Errorf("VisitDaysLeft(%s, due %s) = %d, %v; want %d", tc.today, due, got, err, tc.want)
		}
	}
	// Every pair of a working due date and a day of 2026: negative exactly
	// when overdue.
	for d := calendar.NewDate(2026, 1, 5); d.Year() == 2026 && d.Before(calendar.NewDate(2026, 12, 1)); d = d.AddDays(1) {
		if w, _ := cal.IsWorkday(d); !w {
			continue
		}
		for today := d.AddDays(-10); today.Before(d.AddDays(20)); today = today.AddDays(1) {
			left, err := domain.VisitDaysLeft(cal, today, d)
			if err != nil {
				t.Fatal(err)
			}
			if (left < 0) != today.After(d) {
				t.Fatalf("today %s due %s: working days left %d, overdue %v", today, d, left, today.After(d))
			}
		}
	}
}
