package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, domain.Taipei) }

type actors struct{ school, sw, bureau, committee, admin string }

func newActors(e *testenv.Env) actors {
	return actors{
		school:    e.Token(domain.RoleOriginSchool, "034501"),
		sw:        e.Token(domain.RoleSocialWorker, ""),
		bureau:    e.Token(domain.RoleBureau, ""),
		committee: e.Token(domain.RoleCommittee, ""),
		admin:     e.Token(domain.RoleAdmin, ""),
	}
}

func mustStatus(t *testing.T, r testenv.Response, want int) testenv.Response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	return r
}

// get reads a referral once the read models reflect everything written.
func get(t *testing.T, e *testenv.Env, token, id string) map[string]any {
	t.Helper()
	last, err := e.Store.LastPosition(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", id, last), token, nil), 200).JSON(t)
}

// submitAndCheck hands in item and has the social worker check it.
func submitAndCheck(t *testing.T, e *testenv.Env, a actors, id string, item int, extra map[string]any) {
	t.Helper()
	body := map[string]any{"pages": 2}
	for k, v := range extra {
		body[k] = v
	}
	mustStatus(t, e.Do("PUT", fmt.Sprintf("/v1/referrals/%s/documents/%d", id, item), a.school, body), 200)
	mustStatus(t, e.Do("PUT", fmt.Sprintf("/v1/referrals/%s/documents/%d", id, item), a.sw, map[string]any{"conforms": true}), 200)
}

// completeChecklist submits and checks every item a complete application
// needs (R-DOC-1), item 6 rather than 7, item 11 when asked.
func completeChecklist(t *testing.T, e *testenv.Env, a actors, id string, item11 bool) {
	t.Helper()
	today := e.Clock.Now().In(domain.Taipei).Format("2006-01-02")
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10} {
		var extra map[string]any
		if item == 5 {
			extra = map[string]any{"issued_on": today}
		}
		submitAndCheck(t, e, a, id, item, extra)
	}
	if item11 {
		submitAndCheck(t, e, a, id, 11, nil)
	}
}

func visit(t *testing.T, e *testenv.Env, a actors, id, on string, kinds ...string) {
	t.Helper()
	for _, k := range kinds {
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/home-visits", a.sw, map[string]any{"kind": k, "on": on, "note": "家訪紀錄"}), 200)
	}
}

// R-SOY-1, R-SOY-2, R-SOY-3: a start-of-year referral from filing to a
// recommendation, with the letter to the applying school.
func TestStartOfYearReferralToRecommend(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, 4, 20)})
	a := newActors(e)
	body := testenv.ValidReferral("A123456789")
	body["route"] = "start_of_year"
	delete(body, "channel")
	id, _ := open(t, e, a.school, body)

	got := get(t, e, a.school, id)
	if got["academic_year"] != float64(115) || got["stage"] != "intake" || got["complete"] != false {
		t.Fatalf("after filing: %v", got)
	}
	// First review before the documents: refused, citing R-ELIG-4.
	r := e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "recommend"})
	if r.Status != 422 || r.JSON(t)["rule"] != "R-ELIG-4" {
		t.Fatalf("premature first review: %d %s", r.Status, r.Body)
	}
	completeChecklist(t, e, a, id, false)
	if got := get(t, e, a.school, id); got["complete"] != true {
		t.Fatalf("checklist should be complete for start_of_year without item 11: %v", got["missing"])
	}
	// Still no review without the home visit and interview (R-SOY-3).
	r = e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "recommend"})
	if r.Status != 422 || r.JSON(t)["rule"] != "R-SOY-3" {
		t.Fatalf("review without visit: %d %s", r.Status, r.Body)
	}
	e.Clock.Set(day(2026, 4, 24))
	visit(t, e, a, id, "2026-04-22", "contact", "visit", "interview")
	visit(t, e, a, id, "2026-04-24", "report")
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "recommend"}), 200)

	got = get(t, e, a.school, id)
	fr, _ := got["first_review"].(map[string]any)
	if got["stage"] != "recommended" || fr["outcome"] != "recommend" || fr["on"] != "2026-04-24" {
		t.Fatalf("after first review: stage %v review %v", got["stage"], got["first_review"])
	}
	letters, _ := got["letters"].([]any)
	if len(letters) != 1 {
		t.Fatalf("letters: %v", got["letters"])
	}
	l := letters[0].(map[string]any)
	if l["to_school"] != "034501" || l["student_alias"] == "" || l["outcome"] == "" || l["next_step"] == "" {
		t.Fatalf("letter: %v", l)
	}
	// The origin school's view of the visit hides the social workers' notes.
	if v := got["visit"].(map[string]any); v["log"] != nil || v["report_on"] != "2026-04-24" {
		t.Fatalf("visit as the school sees it: %v", v)
	}
	tl := mustStatus(t, e.Do("GET", "/v1/referrals/"+id+"/events", a.school, nil), 200).JSON(t)
	if n := len(tl["events"].([]any)); n != 1+9*2+4+1 {
		t.Fatalf("timeline has %d events", n)
	}
}

// R-MID-3, R-MID-4: a mid-year application sent to the branch school is
// returned as incomplete, re-submitted, visited late (the overdue flag
// shows), and reviewed.
func TestMidYearDirectReturnedResubmittedVisitedLateReviewed(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, 2, 11)})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))

	got := get(t, e, a.sw, id)
	v := got["visit"].(map[string]any)
	if v["deadline_applies"] != true || v["due_on"] != "2026-03-05" || v["working_days_left"] != float64(10) {
		t.Fatalf("visit after receipt on 2026-02-11: %v", v)
	}
	// Incomplete: returned without a visit (R-MID-3).
	mustStatus(t, e.Do("PUT", "/v1/referrals/"+id+"/documents/1", a.school, map[string]any{"pages": 1}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/return", a.sw, map[string]any{"note": "缺戶籍謄本"}), 200)
	got = get(t, e, a.school, id)
	if got["stage"] != "returned" || len(got["returned_missing"].([]any)) == 0 {
		t.Fatalf("after return: %v %v", got["stage"], got["returned_missing"])
	}
	r := e.Do("POST", "/v1/referrals/"+id+"/home-visits", a.sw, map[string]any{"kind": "visit", "on": "2026-02-11"})
	if r.Status != 422 || r.JSON(t)["rule"] != "R-MID-3" {
		t.Fatalf("visit of a returned application: %d %s", r.Status, r.Body)
	}
	queue := mustStatus(t, e.Do("GET", "/v1/home-visits/queue", a.sw, nil), 200).JSON(t)
	if n := len(queue["items"].([]any)); n != 0 {
		t.Fatalf("a returned application is not in the visit queue: %v", queue)
	}

	// Re-submitted complete on 2026-02-16: the clock restarts.
	e.Clock.Set(day(2026, 2, 16))
	completeChecklist(t, e, a, id, false)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/resubmission", a.school, nil), 200)
	queue = mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/home-visits/queue?min_position=%d", lastPos(t, e)), a.sw, nil), 200).JSON(t)
	items := queue["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("queue: %v", queue)
	}
	qv := items[0].(map[string]any)["visit"].(map[string]any)
	// 2026-02-16 + 10 working days, across the Lunar New Year days off
	// (to 02-22) and 02-27 = 2026-03-09.
	if qv["received_on"] != "2026-02-16" || qv["due_on"] != "2026-03-09" || qv["overdue"] != false {
		t.Fatalf("queue entry after re-submission: %v", qv)
	}

	// Day 10 is on time; on day 11 (2026-03-10) the queue shows it overdue.
	e.Clock.Set(day(2026, 3, 9))
	queue = mustStatus(t, e.Do("GET", "/v1/home-visits/queue", a.sw, nil), 200).JSON(t)
	qv = queue["items"].([]any)[0].(map[string]any)["visit"].(map[string]any)
	if qv["overdue"] != false || qv["working_days_left"] != float64(0) {
		t.Fatalf("day 10: %v", qv)
	}
	e.Clock.Set(day(2026, 3, 10))
	queue = mustStatus(t, e.Do("GET", "/v1/home-visits/queue", a.sw, nil), 200).JSON(t)
	qv = queue["items"].([]any)[0].(map[string]any)["visit"].(map[string]any)
	if qv["overdue"] != true || qv["working_days_left"] != float64(-1) {
		t.Fatalf("day 11: %v", qv)
	}
	visit(t, e, a, id, "2026-03-10", "contact", "visit", "interview", "report")
	got = get(t, e, a.school, id)
	v = got["visit"].(map[string]any)
	if v["overdue"] != true || v["report_on"] != "2026-03-10" || got["complete"] != true {
		t.Fatalf("late visit: %v complete=%v missing=%v", v, got["complete"], got["missing"])
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "discuss", "reasons": "需複審討論"}), 200)
	if got = get(t, e, a.school, id); got["stage"] != "to_discuss" {
		t.Fatalf("stage %v", got["stage"])
	}
}

func lastPos(t *testing.T, e *testenv.Env) uint64 {
	t.Helper()
	p, err := e.Store.LastPosition(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// R-MID-2: an assessed mid-year application is filed by the bureau for the
// origin school, which then sees and follows it; item 11 (the assessment
// report) is required for mid-year (R-DOC-1).
func TestMidYearAssessedViaBureau(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2025, 10, 1)})
	a := newActors(e)
	body := testenv.ValidReferral("A800000014")
	body["channel"] = "assessed"
	if r := e.Do("POST", "/v1/referrals", a.school, body); r.Status != 422 || r.JSON(t)["rule"] != "R-MID-2" {
		t.Fatalf("origin school filing an assessed application: %d %s", r.Status, r.Body)
	}
	body["origin_school"] = "034501"
	id, _ := open(t, e, a.bureau, body)
	got := get(t, e, a.school, id)
	if got["channel"] != "assessed" || got["origin_school"] != "034501" || got["academic_year"] != float64(114) {
		t.Fatalf("as the school sees it: %v", got)
	}
	if got["visit"].(map[string]any)["deadline_applies"] != false {
		t.Fatal("the 10-day deadline is for applications sent to the branch school")
	}
	completeChecklist(t, e, a, id, false)
	visit(t, e, a, id, "2025-10-01", "visit", "interview", "report")
	got = get(t, e, a.school, id)
	missing := got["missing"].([]any)
	if len(missing) != 1 || missing[0].(map[string]any)["item"] != float64(11) {
		t.Fatalf("item 11 must be missing for an assessed mid-year application: %v", missing)
	}
	submitAndCheck(t, e, a, id, 11, nil)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "recommend"}), 200)
}

// R-EXCL-1..3: an excluded student is refused with the rule id, and
// nothing is recorded.
func TestExcludedStudentRefused(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	for excl, rule := range map[string]string{"criminal_supervision": "R-EXCL-1", "special_education": "R-EXCL-2", "unfit_for_boarding": "R-EXCL-3"} {
		body := testenv.ValidReferral("A123456789")
		body["exclusions"] = []string{excl}
		r := e.Do("POST", "/v1/referrals", a.school, body)
		if r.Status != 422 || r.JSON(t)["rule"] != rule {
			t.Errorf("%s: %d %s", excl, r.Status, r.Body)
		}
	}
	if p := lastPos(t, e); p != 0 {
		t.Fatalf("refused referrals appended events (position %d)", p)
	}
	// Outside the window (R-MID-1).
	e.Clock.Set(day(2026, 3, 1))
	if r := e.Do("POST", "/v1/referrals", a.school, testenv.ValidReferral("A123456789")); r.Status != 422 || r.JSON(t)["rule"] != "R-MID-1" {
		t.Fatalf("outside the window: %d %s", r.Status, r.Body)
	}
}

// R-DOC-1: item 5 issued within a month; item 6 or 7; item 10 with the
// dropout personal file when there is a dropout record. R-DOC-2: notes
// stay with social workers.
func TestChecklistRules(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	body := testenv.ValidReferral("A123456789")
	body["dropout_record"] = true
	id, _ := open(t, e, a.school, body)
	doc := func(item int) string { return fmt.Sprintf("/v1/referrals/%s/documents/%d", id, item) }

	// Issued 2026-01-10, submitted 2026-02-11: more than a month.
	mustStatus(t, e.Do("PUT", doc(5), a.school, map[string]any{"pages": 1, "issued_on": "2026-01-10"}), 200)
	if r := e.Do("PUT", doc(5), a.sw, map[string]any{"conforms": true}); r.Status != 422 || r.JSON(t)["rule"] != "R-DOC-1" {
		t.Fatalf("stale transcript accepted: %d %s", r.Status, r.Body)
	}
	// Exactly one month (2026-01-11) is still fresh.
	mustStatus(t, e.Do("PUT", doc(5), a.school, map[string]any{"pages": 1, "issued_on": "2026-01-11"}), 200)
	mustStatus(t, e.Do("PUT", doc(5), a.sw, map[string]any{"conforms": true, "note": "戶籍謄本備註"}), 200)
	if r := e.Do("PUT", doc(5), a.school, map[string]any{"pages": 1}); r.Status != 400 {
		t.Fatalf("item 5 without issued_on: %d", r.Status)
	}

	// Item 10 without the dropout file cannot conform.
	mustStatus(t, e.Do("PUT", doc(10), a.school, map[string]any{"pages": 3}), 200)
	if r := e.Do("PUT", doc(10), a.sw, map[string]any{"conforms": true}); r.Status != 422 || r.JSON(t)["rule"] != "R-DOC-1" {
		t.Fatalf("item 10 without dropout file: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("PUT", doc(10), a.school, map[string]any{"pages": 4, "with_dropout_file": true}), 200)
	mustStatus(t, e.Do("PUT", doc(10), a.sw, map[string]any{"conforms": true}), 200)

	// Item 7 instead of 6 satisfies the income proof.
	missingItems := func(token string) map[float64]bool {
		out := map[float64]bool{}
		for _, m := range get(t, e, token, id)["missing"].([]any) {
			out[m.(map[string]any)["item"].(float64)] = true
		}
		return out
	}
	if !missingItems(a.school)[6] {
		t.Fatal("income proof should be missing")
	}
	submitAndCheck(t, e, a, id, 7, nil)
	if missingItems(a.school)[6] {
		t.Fatal("item 7 should satisfy the income proof")
	}

	// R-DOC-2: the note is visible to social workers only.
	noteOf := func(token string) any {
		for _, d := range get(t, e, token, id)["documents"].([]any) {
			if d.(map[string]any)["item"] == float64(5) {
				return d.(map[string]any)["note"]
			}
		}
		return nil
	}
	if noteOf(a.sw) != "戶籍謄本備註" || noteOf(a.school) != nil || noteOf(a.committee) != nil {
		t.Fatalf("notes: sw %v school %v committee %v", noteOf(a.sw), noteOf(a.school), noteOf(a.committee))
	}
	// The list shows what is missing too, and hides the notes the same way.
	list := mustStatus(t, e.Do("GET", "/v1/referrals", a.school, nil), 200).JSON(t)["items"].([]any)
	item := list[0].(map[string]any)
	if len(item["missing"].([]any)) == 0 || item["complete"] != false {
		t.Fatalf("list without missing items: %v", item["missing"])
	}
	for _, d := range item["documents"].([]any) {
		if d.(map[string]any)["note"] != nil {
			t.Fatal("the list shows a social worker's note to the school")
		}
	}
}

// R-MID-4 on the official calendar: 2026-02-11 + 10 working days is
// 2026-03-05; a typhoon closure moves an open due date by one working
// day; re-importing a revised year moves due dates.
func TestWorkingDayCalendarAndDueDates(t *testing.T) {
	e := testenv.New(t, testenv.Options{Now: day(2026, 2, 11)})
	a := newActors(e)
	w := mustStatus(t, e.Do("GET", "/v1/calendar/workdays?from=2026-02-11&add=10", a.sw, nil), 200).JSON(t)
	if w["due"] != "2026-03-05" {
		t.Fatalf("workdays: %v", w)
	}
	if w := mustStatus(t, e.Do("GET", "/v1/calendar/workdays?from=2026-02-11&add=11", a.sw, nil), 200).JSON(t); w["due"] != "2026-03-06" {
		t.Fatalf("day 11: %v", w)
	}
	if r := e.Do("GET", "/v1/calendar/workdays?from=2031-02-11", a.sw, nil); r.Status != 422 {
		t.Fatalf("a year with no calendar must be an explicit error: %d %s", r.Status, r.Body)
	}
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	due := func() any { return get(t, e, a.sw, id)["visit"].(map[string]any)["due_on"] }
	if due() != "2026-03-05" {
		t.Fatalf("due %v", due())
	}
	// A typhoon closes offices on Tuesday 2026-02-24.
	if r := e.Do("POST", "/v1/calendar/closures", a.sw, map[string]any{"date": "2026-02-24", "reason": "颱風"}); r.Status != 403 {
		t.Fatalf("closure by a social worker: %d", r.Status)
	}
	// Issue 12: the answer names the closure (it said "id":"").
	if cl := mustStatus(t, e.Do("POST", "/v1/calendar/closures", a.admin, map[string]any{"date": "2026-02-24", "reason": "颱風停班停課"}), 200).JSON(t); cl["id"] != "2026-02-24" {
		t.Fatalf("closure answered id %v, want 2026-02-24", cl["id"])
	}
	if due() != "2026-03-06" {
		t.Fatalf("due after the closure %v, want 2026-03-06", due())
	}
	if r := e.Do("POST", "/v1/calendar/closures", a.admin, map[string]any{"date": "2026-02-28", "reason": "颱風"}); r.Status != 409 {
		t.Fatalf("closing a day off: %d", r.Status)
	}
}

func sharedCalendar(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "tw-office-calendar", name))
	if err != nil {
		t.Skipf("../shared/data/tw-office-calendar/%s is not here (%v): skipping the import test", name, err)
	}
	return b
}

// Importing the published files (UTF-8 with BOM, and the Big5 reissue) and
// re-importing a revised year moves an open due date.
func TestCalendarReimportMovesDueDates(t *testing.T) {
	first := sharedCalendar(t, "114-first-edition.csv")
	reissue := sharedCalendar(t, "114.csv") // Big5
	e := testenv.New(t, testenv.Options{Now: day(2025, 9, 22)})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	due := func() any { return get(t, e, a.sw, id)["visit"].(map[string]any)["due_on"] }
	put := func(b []byte) testenv.Response {
		return e.Do("PUT", "/v1/calendar/2025", a.admin, b, "Content-Type", "text/csv")
	}
	// The built-in table carries the reissue: 09-29 is a day off.
	if due() != "2025-10-08" {
		t.Fatalf("built-in due %v", due())
	}
	mustStatus(t, put(first), 200)
	if due() != "2025-10-07" {
		t.Fatalf("after importing the first edition: due %v, want 2025-10-07", due())
	}
	mustStatus(t, put(reissue), 200)
	if due() != "2025-10-08" {
		t.Fatalf("after re-importing the reissue (Big5): due %v, want 2025-10-08", due())
	}
	// Wrong year and garbage are refused; nothing changes.
	if r := e.Do("PUT", "/v1/calendar/2026", a.admin, first, "Content-Type", "text/csv"); r.Status != 400 {
		t.Fatalf("2025 file as 2026: %d %s", r.Status, r.Body)
	}
	if r := put([]byte("not,a,calendar\n")); r.Status != 400 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("garbage: %d %s", r.Status, r.Body)
	}
	if r := e.Do("PUT", "/v1/calendar/2025", a.sw, reissue); r.Status != 403 {
		t.Fatalf("import by a social worker: %d", r.Status)
	}
	if due() != "2025-10-08" {
		t.Fatalf("refused imports changed the due date: %v", due())
	}
	_ = http.StatusOK
}
