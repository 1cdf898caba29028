package domain_test

import (
	"context"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// R-SOY-2, R-MID-1 (Decision): a window whose last day is not a working
// day closes at the end of the next working day on the office calendar
// (Feb 28 is a holiday every year; May 14 fell on a Saturday in 2022 and
// on a Sunday in 2023).
func TestR_MID_1_R_SOY_2_WindowEndsOnDayOff(t *testing.T) {
	soy := func(now time.Time) domain.OpenReferral {
		c := cmd(now)
		c.Route, c.Channel = domain.RouteStartOfYear, ""
		return c
	}
	tests := []struct {
		name string
		c    domain.OpenReferral
		rule string // "" = accepted
		year int
	}{
		{"R-MID-1 2026-02-28 Sat: Mon Mar 2 accepted", cmd(at(2026, 3, 2)), "", 114},
		{"R-MID-1 2026: Tue Mar 3 refused", cmd(at(2026, 3, 3)), "R-MID-1", 0},
		{"R-MID-1 2025-02-28 Fri holiday: Mon Mar 3 accepted", cmd(at(2025, 3, 3)), "", 113},
		{"R-MID-1 2025: Tue Mar 4 refused", cmd(at(2025, 3, 4)), "R-MID-1", 0},
		{"R-SOY-2 2022-05-14 Sat: Mon May 16 accepted", soy(at(2022, 5, 16)), "", 111},
		{"R-SOY-2 2022: Tue May 17 refused", soy(at(2022, 5, 17)), "R-SOY-2", 0},
		{"R-SOY-2 2023-05-14 Sun: Mon May 15 accepted", soy(at(2023, 5, 15)), "", 112},
		{"R-SOY-2 2023: Tue May 16 refused", soy(at(2023, 5, 16)), "R-SOY-2", 0},
		{"R-SOY-2 2026-05-14 Thu working day: Fri May 15 refused", soy(at(2026, 5, 15)), "R-SOY-2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Calendar = calendar.Default()
			e, err := domain.Open(context.Background(), sealer(), tt.c)
			if got := ruleOf(err); got != tt.rule || (tt.rule == "" && err != nil) {
				t.Fatalf("rule = %q (err %v), want %q", got, err, tt.rule)
			}
			if tt.rule == "" && e.AcademicYear != tt.year {
				t.Fatalf("academic year %d, want %d", e.AcademicYear, tt.year)
			}
		})
	}
}
