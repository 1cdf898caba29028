package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// R-MID-1 (Decision): the mid-year window closes on Feb 28, a holiday
// every year; in 2026 it is a Saturday, so the window runs to the end of
// Monday 2026-03-02, the next working day on the office calendar. The
// day after that is refused.
func TestR_MID_1_HTTPNextWorkingDayAfterFeb28(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, time.March, 2)})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, _ := open(t, e, school, testenv.ValidReferral("A123456789"))
	if got := get(t, e, school, id); got["academic_year"] != float64(114) || got["received_on"] != "2026-03-02" {
		t.Fatalf("referral %v, want academic year 114 received 2026-03-02", got)
	}
	e.Clock.Set(day(2026, time.March, 3))
	r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral("B123456780"))
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("on 2026-03-03: status %d, want 422: %s", r.Status, r.Body)
	}
	if p := r.JSON(t); p["rule"] != "R-MID-1" {
		t.Fatalf("problem %v, want rule R-MID-1", p)
	}
}
