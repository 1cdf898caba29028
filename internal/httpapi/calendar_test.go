package httpapi_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// visitOf returns the visit of case id in the detail and in the queue.
func visitOf(t *testing.T, e *testenv.Env, token, id string) (detail, queue map[string]any) {
	t.Helper()
	detail = get(t, e, token, id)["visit"].(map[string]any)
	for _, it := range mustStatus(t, e.Do("GET", "/v1/home-visits/queue", token, nil), 200).JSON(t)["items"].([]any) {
		if row := it.(map[string]any); row["id"] == id {
			queue = row["visit"].(map[string]any)
		}
	}
	if queue == nil {
		t.Fatalf("case %s not in the home-visit queue", id)
	}
	return detail, queue
}

// transcribed2027 returns the transcription of 2027 the built-in table
// carries as provisional, or skips t.
func transcribed2027(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "tw-office-calendar-provisional", "116-transcribed.csv"))
	if err != nil {
		t.Skipf("../shared/data/tw-office-calendar-provisional/116-transcribed.csv is not here (%v): skipping", err)
	}
	return b
}

// Issue 12, finding 3: a due date crossing into 2027 is computed from the
// provisional built-in 2027 and says so everywhere it is shown; importing
// the official file (here a copy with one day flipped) makes it official
// and moves the due date.
func TestIssue12DueDateAcrossProvisionalYear(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, 12, 21)})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	// 2026-12-21 + 10 working days: 12-22, 23, 24, 28, 29, 30, 31 (12-25
	// is a day off), 2027-01-04, 05, 06.
	for name, v := range func() map[string]map[string]any {
		d, q := visitOf(t, e, a.sw, id)
		return map[string]map[string]any{"detail": d, "queue": q}
	}() {
		if v["due_on"] != "2027-01-06" || v["due_status"] != "scheduled" || v["calendar_status"] != "provisional" || v["due_error"] != nil {
			t.Errorf("%s visit: %v", name, v)
		}
	}
	w := mustStatus(t, e.Do("GET", "/v1/calendar/workdays?from=2026-12-21", a.sw, nil), 200).JSON(t)
	if w["due"] != "2027-01-06" || w["calendar_status"] != "provisional" {
		t.Errorf("workdays across 2027: %v", w)
	}
	w = mustStatus(t, e.Do("GET", "/v1/calendar/workdays?from=2026-11-02", a.sw, nil), 200).JSON(t)
	if w["calendar_status"] != "official" {
		t.Errorf("workdays within 2026: %v", w)
	}

	// The official file differs from the transcription: Tuesday
	// 2027-01-05 is a day off in it.
	b := transcribed2027(t)
	flipped := bytes.Replace(b, []byte("20270105,\xe4\xba\x8c,0,"), []byte("20270105,\xe4\xba\x8c,2,"), 1)
	if bytes.Equal(flipped, b) {
		t.Fatal("the 2027-01-05 line is not in the transcription")
	}
	mustStatus(t, e.Do("PUT", "/v1/calendar/2027", a.admin, flipped, "Content-Type", "text/csv"), 200)
	d, q := visitOf(t, e, a.sw, id)
	for name, v := range map[string]map[string]any{"detail": d, "queue": q} {
		if v["due_on"] != "2027-01-07" || v["calendar_status"] != "official" {
			t.Errorf("%s visit after the import: %v, want due 2027-01-07 official", name, v)
		}
	}
	w = mustStatus(t, e.Do("GET", "/v1/calendar/workdays?from=2026-12-21", a.sw, nil), 200).JSON(t)
	if w["due"] != "2027-01-07" || w["calendar_status"] != "official" {
		t.Errorf("workdays after the import: %v", w)
	}
}

// Issue 12: a due date running into a year with no calendar at all is
// pending in lists and in the detail, naming the year, never an error; the
// workdays endpoint stays an explicit 422 naming the year.
func TestIssue12PendingCalendar(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, 12, 21)})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	e.Clock.Set(time.Date(2027, 12, 27, 10, 0, 0, 0, domain.Taipei))
	r := e.Do("GET", "/v1/calendar/workdays?from=2027-12-24", a.sw, nil)
	if r.Status != 422 {
		t.Fatalf("workdays into 2028: %d %s", r.Status, r.Body)
	}
	if errs, _ := r.JSON(t)["errors"].(map[string]any); errs["calendar_year_needed"] != "2028" {
		t.Errorf("the 422 does not name the year: %s", r.Body)
	}
	// The case received in 2026 still has its due date; one received on
	// 2027-12-27 runs into 2028.
	id2, _ := open(t, e, a.school, testenv.ValidReferral("B123456780"))
	if v := get(t, e, a.sw, id)["visit"].(map[string]any); v["due_on"] != "2027-01-06" || v["overdue"] != true {
		t.Errorf("the case of 2026: %v", v)
	}
	d, q := visitOf(t, e, a.sw, id2)
	for name, v := range map[string]map[string]any{"detail": d, "queue": q} {
		if v["due_status"] != "pending_calendar" || v["calendar_year_needed"] != float64(2028) || v["due_on"] != nil || v["due_error"] != nil {
			t.Errorf("%s visit into 2028: %v", name, v)
		}
	}
	// In 2028 the case of 2026 keeps its due date and is overdue; only the
	// working days left wait for 2028's calendar, and the list shows no
	// error.
	e.Clock.Set(time.Date(2028, 1, 10, 10, 0, 0, 0, domain.Taipei))
	d, q = visitOf(t, e, a.sw, id)
	for name, v := range map[string]map[string]any{"detail": d, "queue": q} {
		if v["due_on"] != "2027-01-06" || v["overdue"] != true || v["calendar_year_needed"] != float64(2028) ||
			v["working_days_left"] != nil || v["due_error"] != nil {
			t.Errorf("%s: the case of 2026 seen in 2028: %v", name, v)
		}
	}
}

// metric returns the value of an unlabelled gauge on /metrics.
func metric(t *testing.T, e *testenv.Env, name string) string {
	t.Helper()
	body := mustStatus(t, e.Do("GET", "/metrics", "", nil), 200).Body
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return ""
}

// Issue 12: from October 1 (the injected clock), /readyz warns that next
// year's calendar is provisional, still answering 200; the gauges say the
// same; importing the published file ends the warning.
func TestIssue12ReadyzWarnsFromOctober1(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, 9, 30)})
	a := newActors(e)
	ready := func() map[string]any {
		t.Helper()
		r := mustStatus(t, e.Do("GET", "/readyz", "", nil), 200).JSON(t)
		c, ok := r["calendar"].(map[string]any)
		if !ok {
			t.Fatalf("/readyz without calendar: %v", r)
		}
		return c
	}
	c := ready()
	if c["last_day"] != "2027-12-31" || c["next_year"] != float64(2027) || c["next_year_status"] != "provisional" || c["warning"] != nil {
		t.Errorf("Sep 30: %v", c)
	}
	lastDay := time.Date(2027, 12, 31, 0, 0, 0, 0, domain.Taipei).Unix()
	if v, err := strconv.ParseFloat(metric(t, e, "cihui_calendar_last_day"), 64); err != nil || int64(v) != lastDay {
		t.Errorf("cihui_calendar_last_day %v (%v), want %d", v, err, lastDay)
	}
	if v := metric(t, e, "cihui_calendar_next_year_provisional"); v != "1" {
		t.Errorf("cihui_calendar_next_year_provisional %s", v)
	}

	e.Clock.Set(day(2026, 10, 1))
	if c := ready(); c["next_year_status"] != "provisional" || !strings.Contains(fmt.Sprint(c["warning"]), "2027 is provisional") {
		t.Errorf("Oct 1: %v", c)
	}

	mustStatus(t, e.Do("PUT", "/v1/calendar/2027", a.admin, transcribed2027(t), "Content-Type", "text/csv"), 200)
	if c := ready(); c["next_year_status"] != "official" || c["warning"] != nil {
		t.Errorf("after the import: %v", c)
	}
	if v := metric(t, e, "cihui_calendar_next_year_provisional"); v != "0" {
		t.Errorf("cihui_calendar_next_year_provisional after the import %s", v)
	}
}
