package domain

import (
	"strings"
	"testing"

	"cihui/internal/domain/calendar"
)

// Issue 12: the admission letter's next step reads as sentences: the
// reporting clause does not run into 「至分校報到」.
func TestIssue12AdmissionLetterSentencesKeptApart(t *testing.T) {
	for _, route := range []Route{RouteMidYear, RouteStartOfYear} {
		r := &Referral{ID: "c1", Route: route, AcademicYear: 115, OriginSchool: "034501"}
		e := admittedEvent(r, "m1", calendar.NewDate(2026, 2, 25), false)
		next := e.Letter.NextStep
		if strings.Contains(next, "報到依") || strings.Contains(next, "報到於") {
			t.Errorf("%s: clauses run together: %s", route, next)
		}
		if !strings.Contains(next, "至分校報到，") {
			t.Errorf("%s: no comma after 至分校報到: %s", route, next)
		}
	}
}
