package domain

import (
	"strings"
	"testing"
	"time"

	"cihui/internal/domain/calendar"
)

// Issue 12: from October 1, admins are warned that next year's office
// calendar is provisional or missing; not on September 30.
func TestIssue12OutlookWarnsFromOctober1(t *testing.T) {
	builtin := calendar.Default() // 2026 official, 2027 provisional
	t27, _ := calendar.Builtin(2027)
	imported := builtin.WithYear(t27)
	d := func(y int, m time.Month, day int) calendar.Date { return calendar.NewDate(y, m, day) }
	tests := []struct {
		name     string
		cal      *calendar.Calendar
		today    calendar.Date
		lastDay  calendar.Date
		next     string
		warnings string // substring of the warning, "" for none
	}{
		{"Sep 30, 2027 provisional", builtin, d(2026, 9, 30), d(2027, 12, 31), "provisional", ""},
		{"Oct 1, 2027 provisional", builtin, d(2026, 10, 1), d(2027, 12, 31), "provisional", "2027 is provisional"},
		{"Oct 1, 2027 imported", imported, d(2026, 10, 1), d(2027, 12, 31), "official", ""},
		{"Sep 30, 2028 missing", imported, d(2027, 9, 30), d(2027, 12, 31), "missing", ""},
		{"Oct 1, 2028 missing", imported, d(2027, 10, 1), d(2027, 12, 31), "missing", "2028 is not imported"},
		{"Jan 4, this year provisional", builtin, d(2027, 1, 4), d(2027, 12, 31), "missing", "2027 is provisional"},
		{"this year missing", builtin, d(2028, 3, 1), calendar.Date{}, "missing", "2028 is not imported"},
	}
	for _, tt := range tests {
		o := Outlook(tt.cal, tt.today)
		if o.LastDay != tt.lastDay || o.NextYearStatus != tt.next || o.NextYear != tt.today.Year()+1 {
			t.Errorf("%s: %+v", tt.name, o)
		}
		if tt.warnings == "" && o.Warning != "" || !strings.Contains(o.Warning, tt.warnings) {
			t.Errorf("%s: warning %q, want one containing %q", tt.name, o.Warning, tt.warnings)
		}
	}
}

// Issue 12: a due date into a year with no calendar names the year, in the
// error and through CalendarYearNeeded.
func TestIssue12CalendarYearNeeded(t *testing.T) {
	_, err := DueDate(calendar.Default(), calendar.NewDate(2027, 12, 27))
	if y := CalendarYearNeeded(err); y != 2028 {
		t.Fatalf("CalendarYearNeeded(%v) = %d, want 2028", err, y)
	}
	if e := AsError(err); e.Rule != "R-MID-4" || e.Fields[CalendarYearNeededField] != "2028" {
		t.Errorf("error %+v", e)
	}
	if y := CalendarYearNeeded(Errorf(EInvalid, "other")); y != 0 {
		t.Errorf("another error names year %d", y)
	}
	if _, err := DueDate(calendar.Default(), calendar.NewDate(2026, 12, 21)); err != nil {
		t.Errorf("into the provisional 2027: %v", err)
	}
}
