package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// enrol takes an admitted case through the health check and enrolment.
func enrol(t *testing.T, e *testenv.Env, a actors, id, class string) {
	t.Helper()
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": class}), 200)
}

// recordGrounds records grounds of R-SUS-1 with their evidence on
// 2026-02-11, so that a procedure may be opened on them that day.
func recordGrounds(t *testing.T, e *testenv.Env, a actors, id string, grounds ...int) {
	t.Helper()
	for _, g := range grounds {
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/grounds", a.sw, map[string]any{"ground": g, "on": "2026-02-11", "evidence": "評估紀錄"}), 200)
	}
}

// procedure takes an enrolled case through both visits and the evaluation
// report (R-SUS-2).
func procedure(t *testing.T, e *testenv.Env, a actors, id string) {
	t.Helper()
	p := "/v1/referrals/" + id + "/suspension"
	mustStatus(t, e.Do("POST", p+"/visits", a.sw, map[string]any{"kind": "home", "on": "2026-02-11", "note": "家訪紀錄"}), 200)
	mustStatus(t, e.Do("POST", p+"/visits", a.sw, map[string]any{"kind": "origin_school", "on": "2026-02-11"}), 200)
	mustStatus(t, e.Do("POST", p+"/report", a.sw, map[string]any{"on": "2026-02-11", "report": "評估報告"}), 200)
}

func ruleOfResponse(t *testing.T, r testenv.Response) string {
	t.Helper()
	rule, _ := r.JSON(t)["rule"].(string)
	return rule
}

// docketEntry finds a case on a meeting's docket.
func docketEntry(t *testing.T, e *testenv.Env, token, meeting, id string) map[string]any {
	t.Helper()
	d := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, lastPos(t, e)), token, nil), 200).JSON(t)
	for _, c := range d["cases"].([]any) {
		if c := c.(map[string]any); c["case_id"] == id {
			return c
		}
	}
	return nil
}

// loadAll returns the events of the given streams by position.
func loadAll(t *testing.T, e *testenv.Env, streams ...events.StreamID) map[uint64]events.Envelope {
	t.Helper()
	out := map[uint64]events.Envelope{}
	for _, s := range streams {
		l, err := e.Store.Load(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range l.Events {
			out[env.Position] = env
		}
	}
	return out
}

// R-ENR-4, R-SUS-2, R-SUS-3, R-SUS-4, R-MTG-2, R-CAP-1, R-SOY-5: the full
// 中止就讀 path through HTTP. An adaptation meeting's propose_end opens the
// procedure and the student stays enrolled; the report needs both visits;
// the case is on the next docket as a suspension case with its
// stakeholders; only suspend/continue fit it; at the close the seat is
// released and the first waiting case takes it in the same atomic append,
// the cap holding throughout; the case shows suspended with its
// destination.
func TestR_SUS_3_FullSuspensionPathReleasesSeatToFirstWaiting(t *testing.T) {
	e := testenv.New(t, testenv.Options{Cap: 2})
	a := newActors(e)
	A := e.RecommendedCase("034501", domain.OutcomeRecommend)
	B := e.RecommendedCase("034501", domain.OutcomeRecommend)
	C := e.RecommendedCase("034501", domain.OutcomeRecommend)
	m1 := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	for _, id := range []string{A, B, C} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+m1+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m1+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	if w := waitingIDs(capacity(t, e, a.sw)); !slices.Equal(w, []string{C}) {
		t.Fatalf("waiting list %v, want [C]", w)
	}
	enrol(t, e, a, A, "8-1")
	D := e.RecommendedCase("034501", domain.OutcomeRecommend) // an admission case on the same docket

	// R-ORG-4, R-SUS-1 (4): A drops out on Feb 12, whereabouts unknown,
	// and is not found; 21 days later ground (4) holds and is shown.
	e.Clock.Set(time.Date(2026, 3, 6, 9, 0, 0, 0, domain.Taipei))
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/dropouts", a.sw,
		map[string]any{"first_day_absent": "2026-02-12", "whereabouts": "unknown", "reason": "family"}), 201)
	groundsOn := func(asOf string) []any {
		body := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/suspension-grounds?as_of=%s&min_position=%d", asOf, lastPos(t, e)), a.sw, nil), 200).JSON(t)
		for _, it := range body["items"].([]any) {
			if m := it.(map[string]any); m["id"] == A {
				return m["suspension_grounds"].(map[string]any)["detected"].([]any)
			}
		}
		return nil
	}
	if g := groundsOn("2026-03-04"); g != nil {
		t.Fatalf("ground shown after 20 days: %v", g)
	}
	if g := groundsOn("2026-03-05"); fmt.Sprint(g) != "[4]" {
		t.Fatalf("grounds after 21 days: %v, want (4)", g)
	}
	if sg, _ := get(t, e, a.sw, A)["suspension_grounds"].(map[string]any); sg == nil || len(sg["grounds"].([]any)) != 1 {
		t.Fatalf("the case does not show its ground: %v", sg)
	}

	// R-SUS-2: the procedure needs an enrolled student; A is, C is not.
	if r := e.Do("POST", "/v1/referrals/"+C+"/suspension", a.sw, map[string]any{"grounds": []int{2}, "on": "2026-02-11"}); r.Status != 422 || ruleOfResponse(t, r) != "R-SUS-2" {
		t.Fatalf("a procedure for a waiting case: %d %s", r.Status, r.Body)
	}
	// R-ENR-4: propose_end opens the procedure; the student stays enrolled.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/adaptation-meetings", a.sw,
		map[string]any{"on": "2026-03-06", "outcome": "propose_end", "grounds": []int{4, 6}, "notes": "無法適應住宿"}), 200)
	got := get(t, e, a.sw, A)
	s, _ := got["suspension"].(map[string]any)
	if got["stage"] != "enrolled" || s == nil || s["status"] != "open" || s["source"] != "adaptation_meeting" {
		t.Fatalf("after propose_end: stage %v, suspension %v", got["stage"], s)
	}
	if c := capacity(t, e, a.sw); c["enrolled"] != float64(1) {
		t.Fatalf("propose_end ended the enrolment: %v", c)
	}
	// R-DOC-2: the assessment notes are the social workers'.
	if m := got["adaptation_meetings"].([]any)[0].(map[string]any); m["notes"] != "無法適應住宿" || m["outcome"] != "propose_end" {
		t.Fatalf("adaptation meeting for the social worker: %v", m)
	}
	if m := get(t, e, a.school, A)["adaptation_meetings"].([]any)[0].(map[string]any); m["notes"] != nil {
		t.Fatalf("the origin school reads the assessment notes: %v", m)
	}
	// R-SUS-2: the report follows both visits.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/suspension/visits", a.sw, map[string]any{"kind": "home", "on": "2026-03-06"}), 200)
	if r := e.Do("POST", "/v1/referrals/"+A+"/suspension/report", a.sw, map[string]any{"on": "2026-03-06"}); r.Status != 422 || ruleOfResponse(t, r) != "R-SUS-2" {
		t.Fatalf("a report without the origin-school visit: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/suspension/visits", a.sw, map[string]any{"kind": "origin_school", "on": "2026-03-06"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/suspension/report", a.sw, map[string]any{"on": "2026-03-06", "report": "評估報告"}), 200)
	// R-SUS-3: the origin school's stakeholders ask to attend.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/appeals", a.school, map[string]any{"attendees": []string{"parent", "school"}}), 200)

	m2 := scheduleAndOpen(t, e, a.committee, "extra", "2026-03-30")
	entry := docketEntry(t, e, a.committee, m2, A)
	if entry == nil || entry["list"] != "suspension" || fmt.Sprint(entry["attendees"]) != "[parent school]" {
		t.Fatalf("docket entry of the suspension case: %v", entry)
	}
	if d := docketEntry(t, e, a.committee, m2, D); d == nil || d["list"] != "recommended" {
		t.Fatalf("docket entry of the admission case: %v", d)
	}
	if page := mustStatus(t, e.Do("GET", "/v1/meetings/"+m2+"/docket?format=html", a.committee, nil), 200); !strings.Contains(string(page.Body), "中止就讀案") {
		t.Fatalf("the printable docket does not name the suspension case")
	}
	res := func(id, resolution string, extra map[string]any) testenv.Response {
		body := map[string]any{"case_id": id, "resolution": resolution}
		for k, v := range extra {
			body[k] = v
		}
		return e.Do("POST", "/v1/meetings/"+m2+"/resolutions", a.committee, body)
	}
	if r := res(A, "admit", nil); r.Status != 422 || ruleOfResponse(t, r) != "R-SUS-3" {
		t.Fatalf("admit on a suspension case: %d %s", r.Status, r.Body)
	}
	if r := res(D, "suspend", map[string]any{"destination": "origin_school"}); r.Status != 422 || ruleOfResponse(t, r) != "R-SUS-2" {
		t.Fatalf("suspend on an admission case: %d %s", r.Status, r.Body)
	}
	if r := res(A, "suspend", nil); r.Status != 400 {
		t.Fatalf("suspend without a destination: %d %s", r.Status, r.Body)
	}
	mustStatus(t, res(A, "suspend", map[string]any{"destination": "social_welfare"}), 200)
	mustStatus(t, res(D, "waitlist", nil), 200)

	// R-SOY-6: the seat the suspension frees admits the first waiting
	// case, so the close needs its reporting date.
	if r := e.Do("POST", "/v1/meetings/"+m2+"/close", a.committee, nil); r.Status != 422 || ruleOfResponse(t, r) != "R-SOY-6" {
		t.Fatalf("a close admitting from the waiting list without a reporting date: %d %s", r.Status, r.Body)
	}
	before := lastPos(t, e)
	closed := mustStatus(t, e.Do("POST", "/v1/meetings/"+m2+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"},
		"X-Request-Id", "close-m2"), 200).JSON(t)
	after := uint64(closed["position"].(float64))

	// One atomic append: every event from the close lies in (before,
	// after], contiguous, with the close's correlation id; the seat is
	// released before the first waiting case takes it.
	all := loadAll(t, e, streamOf(e, A), streamOf(e, C), streamOf(e, D),
		events.StreamID{Branch: e.Branch.Code, Type: events.AggregateRoster},
		events.StreamID{Branch: e.Branch.Code, Type: events.AggregateCommittee},
		events.StreamID{Branch: e.Branch.Code, Type: events.AggregateMeeting, ID: m2})
	var released, taken, suspended, admitted uint64
	for p := before + 1; p <= after; p++ {
		env, ok := all[p]
		if !ok {
			t.Fatalf("position %d of the close is not one of its streams", p)
		}
		if env.CorrelationID != "close-m2" {
			t.Fatalf("position %d is not the close's: %s", p, env.Type)
		}
		switch ev := env.Payload.(type) {
		case events.SeatReleased:
			if ev.CaseID == A {
				released = p
			}
		case events.SeatTaken:
			if ev.CaseID == C {
				taken = p
				if ev.Taken != 2 || ev.Cap != 2 {
					t.Fatalf("seat taken %d of %d, want 2 of 2", ev.Taken, ev.Cap)
				}
			}
		case events.Suspended:
			if env.AggregateID == A && ev.Destination == "social_welfare" {
				suspended = p
			}
		case events.Admitted:
			if env.AggregateID == C && ev.FromWaitlist {
				admitted = p
			}
		}
	}
	if released == 0 || taken == 0 || suspended == 0 || admitted == 0 || released > taken {
		t.Fatalf("close events: released %d taken %d suspended %d admitted %d (in %d..%d)", released, taken, suspended, admitted, before+1, after)
	}
	if later, _ := e.Store.LastPosition(t.Context()); later != after {
		t.Fatalf("the close answered position %d, the log is at %d", after, later)
	}
	// The list as of a day before the suspension still shows A, enrolled
	// then (R-SUS-1 grounds are read as of a date).
	if g := groundsOn("2026-03-05"); fmt.Sprint(g) != "[4]" {
		t.Fatalf("grounds as of 2026-03-05 after A was suspended: %v, want [4]", g)
	}

	// R-CAP-1: B and C hold the two seats; D waits.
	c := capacity(t, e, a.sw)
	if c["cap"] != float64(2) || c["enrolled"] != float64(0) || c["admitted_awaiting_enrolment"] != float64(2) || c["free"] != float64(0) ||
		!slices.Equal(waitingIDs(c), []string{D}) {
		t.Fatalf("capacity after the close: %v", c)
	}
	if got := get(t, e, a.school, C); got["stage"] != "admitted" {
		t.Fatalf("the first waiting case: %v", got["stage"])
	}
	// R-SUS-4: the case shows suspended with its destination, in the
	// detail and the list; the letter names the origin school's duties
	// (R-ORG-6).
	got = get(t, e, a.school, A)
	s = got["suspension"].(map[string]any)
	if got["stage"] != "suspended" || s["status"] != "suspended" || s["destination"] != "social_welfare" || s["meeting_id"] != m2 ||
		got["end_state"] != "suspended" || !strings.Contains(fmt.Sprint(got["end_reason"]), "social_welfare") {
		t.Fatalf("the suspended case: %v %v %v %v", got["stage"], s, got["end_state"], got["end_reason"])
	}
	ls := got["letters"].([]any)
	if l := ls[len(ls)-1].(map[string]any); !strings.Contains(l["next_step"].(string), "R-ORG-6") || !strings.Contains(l["outcome"].(string), "社政") {
		t.Fatalf("suspension letter: %v", l)
	}
	// R-SUS-4, R-ORG-6: the origin school's duties follow the suspension.
	duties := map[string]bool{}
	for _, d := range mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/duties?min_position=%d", lastPos(t, e)), a.school, nil), 200).JSON(t)["items"].([]any) {
		if d := d.(map[string]any); d["case_id"] == A {
			duties[fmt.Sprint(d["kind"], "/", d["period"])] = true
		}
	}
	if !duties["network_notice/suspended"] || !duties["leave_assistance/<nil>"] {
		t.Fatalf("the origin school's duties for the suspended case: %v", duties)
	}
	list := mustStatus(t, e.Do("GET", "/v1/referrals?status=suspended", a.sw, nil), 200).JSON(t)["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["suspension"].(map[string]any)["destination"] != "social_welfare" {
		t.Fatalf("suspended list: %v", list)
	}
	if x := docketEntry(t, e, a.committee, m2, A); x == nil || x["outcome"] != "suspended" || x["destination"] != "social_welfare" {
		t.Fatalf("closed docket entry: %v", x)
	}
}

// R-ENR-4, R-SUS-3: a continue resolution keeps the enrolment and the seat;
// an adaptation meeting's continue opens nothing; a new procedure may
// follow a continue.
func TestR_SUS_3_ContinueKeepsEnrolment(t *testing.T) {
	e := testenv.New(t, testenv.Options{Cap: 2})
	a := newActors(e)
	A := e.RecommendedCase("034501", domain.OutcomeRecommend)
	m1 := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m1+"/resolutions", a.committee, map[string]any{"case_id": A, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m1+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	enrol(t, e, a, A, "8-1")
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/adaptation-meetings", a.sw, map[string]any{"on": "2026-02-11", "outcome": "continue"}), 200)
	if got := get(t, e, a.sw, A); got["suspension"] != nil || len(got["adaptation_meetings"].([]any)) != 1 {
		t.Fatalf("continue opened a procedure: %v %v", got["suspension"], got["adaptation_meetings"])
	}
	if r := e.Do("POST", "/v1/referrals/"+A+"/suspension", a.sw, map[string]any{"grounds": []int{3, 1}, "on": "2026-02-11"}); r.Status != 422 || ruleOfResponse(t, r) != "R-SUS-1" {
		t.Fatalf("a procedure on grounds with no evidence: %d %s", r.Status, r.Body)
	}
	recordGrounds(t, e, a, A, 3, 1)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/suspension", a.sw, map[string]any{"grounds": []int{3, 1}, "on": "2026-02-11"}), 200)
	procedure(t, e, a, A)
	// R-SUS-2: the procedure's log; its notes are the social workers'
	// (R-DOC-2).
	log := get(t, e, a.sw, A)["suspension_log"].([]any)
	var kinds []string
	for _, l := range log {
		kinds = append(kinds, l.(map[string]any)["kind"].(string))
	}
	if !slices.Equal(kinds, []string{"opened", "home", "origin_school", "report"}) || log[1].(map[string]any)["note"] != "家訪紀錄" {
		t.Fatalf("suspension log: %v", log)
	}
	if l := get(t, e, a.school, A)["suspension_log"].([]any)[1].(map[string]any); l["note"] != nil {
		t.Fatalf("the origin school reads the visit note: %v", l)
	}
	m2 := scheduleAndOpen(t, e, a.committee, "extra", "2026-03-30")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m2+"/resolutions", a.committee, map[string]any{"case_id": A, "resolution": "continue"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m2+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	got := get(t, e, a.sw, A)
	if got["stage"] != "enrolled" || got["suspension"].(map[string]any)["status"] != "continued" {
		t.Fatalf("after continue: %v %v", got["stage"], got["suspension"])
	}
	if c := capacity(t, e, a.sw); c["enrolled"] != float64(1) {
		t.Fatalf("capacity after continue: %v", c)
	}
	// Off the docket now; a new procedure may be opened.
	m3 := scheduleAndOpen(t, e, a.committee, "extra", "2026-04-30")
	if x := docketEntry(t, e, a.committee, m3, A); x != nil {
		t.Fatalf("a continued case stays on the docket: %v", x)
	}
	recordGrounds(t, e, a, A, 2)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/suspension", a.sw, map[string]any{"grounds": []int{2}, "on": "2026-02-11"}), 200)

	// An erasure clears the sealed notes the read models keep.
	sealedNotes := func() int {
		var n int
		if err := e.DB.Get(&n, `SELECT count(*) FROM case_suspension_log WHERE case_id = $1 AND note IS NOT NULL`, A); err != nil {
			t.Fatal(err)
		}
		return n
	}
	get(t, e, a.sw, A)
	if sealedNotes() == 0 {
		t.Fatal("no sealed note kept before the erasure")
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+A+"/erasure", a.admin, map[string]any{"reason": "entered_in_error"}), 200)
	get(t, e, a.sw, A)
	if n := sealedNotes(); n != 0 {
		t.Fatalf("%d sealed notes kept after the erasure", n)
	}
}
