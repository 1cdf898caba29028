package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// asOf reads GET /v1/referrals/{id}?as_of=day once the read models
// reflect everything written.
func asOf(t *testing.T, e *testenv.Env, token, id, day string) testenv.Response {
	t.Helper()
	return e.Do("GET", fmt.Sprintf("/v1/referrals/%s?as_of=%s&min_position=%d", id, day, lastPos(t, e)), token, nil)
}

// withoutReadPosition drops the one field that says when the read was
// made, not what the case was.
func withoutReadPosition(m map[string]any) map[string]any {
	delete(m, "read_position")
	return m
}

// Issue 11, a case as of any date: the case's own events up to the end
// of a day (Taipei) are folded with the projector's own code. As of
// today it equals today's read; earlier dates show the earlier stage;
// the timeline until a date is today's timeline cut there; another
// school's case and a date before the filing are not found; the read is
// in the access log; an erased student's data stays erased in the past.
func TestCaseAsOfAnyDate(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	check := contractChecker(t, e)
	at := func(month time.Month, day int) { e.Clock.Set(time.Date(2026, month, day, 10, 0, 0, 0, domain.Taipei)) }

	// Feb 11: filed, documents, visits and the first review; a visit note.
	const visitNote = "家訪紀錄：家長同意轉介"
	id := reviewedWithNote(t, e, visitNote)
	// Feb 20: admitted at a meeting.
	at(time.February, 20)
	meeting := scheduleAndOpen(t, e, a.committee, "extra", "2026-03-23")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	// Mar 2: health check and enrolment.
	at(time.March, 2)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	// Apr 1: a dropout episode from Mar 20, with a follow-up.
	at(time.April, 1)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/dropouts", a.sw, map[string]any{"first_day_absent": "2026-03-20", "whereabouts": "unknown", "reason": "family"}), 201)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/dropouts/1/follow-ups", a.school, map[string]any{"kind": "search", "on": "2026-04-01"}), 200)
	at(time.April, 10)

	// As of today: the same as today's read, for each role that reads it.
	for name, token := range map[string]string{"social worker": a.sw, "school": a.school, "committee": a.committee} {
		today := withoutReadPosition(get(t, e, token, id))
		then := withoutReadPosition(mustStatus(t, check("GET", fmt.Sprintf("/v1/referrals/%s?as_of=2026-04-10&min_position=%d", id, lastPos(t, e)), token, nil), 200).JSON(t))
		if !reflect.DeepEqual(today, then) {
			a, _ := json.Marshal(today)
			b, _ := json.Marshal(then)
			t.Fatalf("%s: as of today differs from today's read:\n%s\n%s", name, a, b)
		}
	}
	// Earlier dates: the earlier stage, and only what was known then.
	for day, want := range map[string]string{"2026-02-11": "recommended", "2026-02-25": "admitted", "2026-03-05": "enrolled", "2026-04-01": "enrolled"} {
		v := mustStatus(t, asOf(t, e, a.sw, id, day), 200).JSON(t)
		if v["stage"] != want {
			t.Errorf("as of %s: stage %v, want %s", day, v["stage"], want)
		}
		eps, _ := v["dropouts"].([]any)
		if (day == "2026-04-01") != (len(eps) == 1) {
			t.Errorf("as of %s: dropouts %v", day, v["dropouts"])
		}
	}
	early := mustStatus(t, asOf(t, e, a.sw, id, "2026-02-11"), 200).JSON(t)
	if early["admission"].(map[string]any)["enrolled_on"] != nil || early["first_review"] == nil {
		t.Errorf("as of Feb 11: %v %v", early["admission"], early["first_review"])
	}
	noted := false
	for _, l := range early["visit"].(map[string]any)["log"].([]any) {
		noted = noted || l.(map[string]any)["note"] == visitNote
	}
	if st, _ := early["student"].(map[string]any); st == nil || st["name"] != "陳小美" || !noted {
		t.Errorf("as of Feb 11 the social worker sees the student and the visit note: %s", asOf(t, e, a.sw, id, "2026-02-11").Body)
	}
	if v := mustStatus(t, asOf(t, e, a.committee, id, "2026-02-11"), 200).JSON(t); v["student"] != nil || strings.Contains(fmt.Sprint(v), visitNote) {
		t.Errorf("the committee sees no personal data as of a date either: %v", v)
	}
	if early["version"].(float64) >= get(t, e, a.sw, id)["version"].(float64) {
		t.Errorf("as of Feb 11 the version must be an earlier one: %v", early["version"])
	}

	// The timeline until a date is today's cut there.
	full := mustStatus(t, check("GET", fmt.Sprintf("/v1/referrals/%s/events?min_position=%d", id, lastPos(t, e)), a.sw, nil), 200).JSON(t)["events"].([]any)
	cut := mustStatus(t, check("GET", "/v1/referrals/"+id+"/events?until=2026-02-20", a.sw, nil), 200).JSON(t)["events"].([]any)
	if len(cut) == 0 || len(cut) >= len(full) || !reflect.DeepEqual(cut, full[:len(cut)]) {
		t.Fatalf("until Feb 20: %d events of %d, not a prefix", len(cut), len(full))
	}
	for _, ev := range cut {
		if ev.(map[string]any)["occurred_at"].(string) >= "2026-02-20T16:00:00Z" {
			t.Fatalf("an event after Feb 20 (Taipei): %v", ev)
		}
	}

	// Not found: another school, a date before the filing; bad dates 400.
	other := e.Token(domain.RoleOriginSchool, "034502")
	wantProblem(t, check("GET", "/v1/referrals/"+id+"?as_of=2026-03-05", other, nil), 404, "")
	wantProblem(t, check("GET", "/v1/referrals/"+id+"/events?until=2026-03-05", other, nil), 404, "")
	wantProblem(t, check("GET", "/v1/referrals/"+id+"?as_of=2026-02-10", a.sw, nil), 404, "")
	wantProblem(t, check("GET", "/v1/referrals/"+id+"?as_of=2026-02-30", a.sw, nil), 400, "")
	wantProblem(t, check("GET", "/v1/referrals/"+id+"/events?until=yesterday", a.sw, nil), 400, "")

	// The as-of read is in the access log, as today's read is.
	before := len(accessLog(t, e, a.admin, "case="+id))
	mustStatus(t, asOf(t, e, a.school, id, "2026-03-05"), 200)
	if after := len(accessLog(t, e, a.admin, "case="+id)); after != before+1 {
		t.Fatalf("access log: %d records, then %d", before, after)
	}

	// Erased: the past shows no student and no notes either.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/erasure", a.admin, map[string]any{"reason": "data_subject_request"}), http.StatusOK)
	past := mustStatus(t, asOf(t, e, a.sw, id, "2026-02-11"), 200).JSON(t)
	if past["student"] != nil {
		t.Fatalf("an erased student shows as of an earlier date: %v", past["student"])
	}
	for _, l := range past["visit"].(map[string]any)["log"].([]any) {
		if l.(map[string]any)["note"] != nil {
			t.Fatalf("an erased student's visit note shows: %v", l)
		}
	}
	if b := asOf(t, e, a.sw, id, "2026-03-05").Body; strings.Contains(string(b), visitNote) {
		t.Fatal("the visit note shows after the erasure")
	}
}

// reviewedWithNote files a mid-year case of school 034501 on the clock's
// day, hands in and checks its documents, logs the visits (the home
// visit with note) and recommends it.
func reviewedWithNote(t *testing.T, e *testenv.Env, note string) string {
	t.Helper()
	ctx := t.Context()
	school := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501", Branch: e.Branch.Code}}
	sw := app.Meta{Actor: events.Actor{Role: domain.RoleSocialWorker, Branch: e.Branch.Code}}
	res, err := e.App.OpenReferral(ctx, school, domain.OpenReferral{
		Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Grade: 8, Sex: "F",
		Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
		Person: domain.Person{StudentName: "陳小美", NationalID: testenv.NewNationalID(), BirthDate: "2012-01-01", GuardianName: "陳大同", Reason: "家庭經濟困難"},
	})
	if err != nil {
		t.Fatal(err)
	}
	today := calendar.DateOf(e.Clock.Now(), domain.Taipei)
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10} {
		var issued *calendar.Date
		if item == 5 {
			issued = &today
		}
		if _, err := e.App.SubmitDocumentWith(ctx, school, res.ID, item, 1, issued, domain.Enclosures{AccidentInsurance: item == 9}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.CheckDocument(ctx, sw, res.ID, item, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{domain.VisitHome, domain.VisitInterview, "report"} {
		n := ""
		if k == domain.VisitHome {
			n = note
		}
		if _, err := e.App.LogVisit(ctx, sw, res.ID, k, today, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.App.DecideFirstReview(ctx, sw, res.ID, domain.OutcomeRecommend, ""); err != nil {
		t.Fatal(err)
	}
	return res.ID
}
