package httpapi_test

import (
	"testing"
	"time"

	"cihui/internal/testenv"
)

// R-MID-4 (Decision): an assessed mid-year application filed by the
// bureau has the 10-working-day home-visit deadline too; on the Saturday
// after a Friday due date it is overdue with -1 working days left (the
// two fields agree).
func TestR_MID_4_HTTPAssessedDeadlineAndWeekendOverdue(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, time.February, 12)})
	a := newActors(e)
	body := testenv.ValidReferral("A800000014")
	body["channel"] = "assessed"
	body["origin_school"] = "034501"
	id, _ := open(t, e, a.bureau, body)
	v := get(t, e, a.sw, id)["visit"].(map[string]any)
	if v["deadline_applies"] != true || v["due_on"] != "2026-03-06" {
		t.Fatalf("visit %v, want the deadline to apply, due Friday 2026-03-06", v)
	}
	e.Clock.Set(day(2026, time.March, 7)) // Saturday
	v = get(t, e, a.sw, id)["visit"].(map[string]any)
	if v["overdue"] != true || v["working_days_left"] != float64(-1) {
		t.Fatalf("on Saturday 2026-03-07: visit %v, want overdue with -1 working days left", v)
	}
}
