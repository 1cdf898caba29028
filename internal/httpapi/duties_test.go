package httpapi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// admitAndEnrol takes a recommended case of school through a meeting that
// admits it (reporting by 2026-04-07) and enrols it in grade 8 on the
// clock's day (2026-02-11: semester 114-2). It returns the case and the
// meeting.
func admitAndEnrol(t *testing.T, e *testenv.Env, a actors, school string, enrol bool) (id, meeting string) {
	t.Helper()
	id = e.RecommendedCase(school, domain.OutcomeRecommend)
	meeting = mustStatus(t, e.Do("POST", "/v1/meetings", a.committee, map[string]any{"academic_year": 114, "kind": "march", "date": "2026-03-23"}), 201).JSON(t)["id"].(string)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/open", a.committee, nil), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)
	if enrol {
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	}
	return id, meeting
}

// duties reads GET /v1/duties with query once the read models reflect
// everything written.
func duties(t *testing.T, e *testenv.Env, token, query string) []map[string]any {
	t.Helper()
	last, err := e.Store.LastPosition(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	body := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/duties?min_position=%d&%s", last, query), token, nil), 200).JSON(t)
	var out []map[string]any
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// periods lists the period of each duty, in order.
func periods(ds []map[string]any) []string {
	out := []string{}
	for _, d := range ds {
		p, _ := d["period"].(string)
		out = append(out, p)
	}
	return out
}

func find(ds []map[string]any, kind, period string) map[string]any {
	for _, d := range ds {
		if d["kind"] == kind && (period == "" || d["period"] == period) {
			return d
		}
	}
	return nil
}

// appendEvent records an event on a case's stream through the event store
// (for events whose commands another part of the system provides).
func appendEvent(t *testing.T, e *testenv.Env, id string, ev events.Event, actor events.Actor) {
	t.Helper()
	l, err := e.Store.Load(t.Context(), streamOf(e, id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Append(t.Context(), events.Append{Stream: streamOf(e, id), ExpectedSeq: l.LastSeq, ExpectedVersion: l.Version,
		Events: []events.Event{ev}, Meta: events.Metadata{Actor: actor, OccurredAt: e.Clock.Now()}}); err != nil {
		t.Fatal(err)
	}
}

// R-ORG-5: each month with a student enrolled, the origin school owes a
// co-counselling visit by the month's end; a month without one is
// overdue, and a visit in that month clears it. Only the school's own
// enrolled students may be covered.
func TestR_ORG_5_MonthWithoutCoCounsellingFlaggedAndVisitClearsIt(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := admitAndEnrol(t, e, a, "034501", true) // enrolled 2026-02-11
	other := e.Token(domain.RoleOriginSchool, "034502")
	otherID, _ := admitAndEnrol(t, e, a, "034502", true)

	got := duties(t, e, a.school, "kind=co_counselling&as_of=2026-03-05")
	if !slices.Equal(periods(got), []string{"2026-02", "2026-03"}) {
		t.Fatalf("co-counselling duties as of 2026-03-05: %v", got)
	}
	feb, mar := got[0], got[1]
	if feb["due_on"] != "2026-02-28" || feb["overdue"] != true || feb["since"] != "2026-02-11" || feb["rule"] != "R-ORG-5" || feb["party"] != "origin_school" {
		t.Fatalf("February: %v", feb)
	}
	if feb["age_days"] != float64(22) {
		t.Fatalf("February's age on 2026-03-05: %v, want 22", feb["age_days"])
	}
	if mar["due_on"] != "2026-03-31" || mar["overdue"] != false {
		t.Fatalf("March: %v", mar)
	}
	// Not yet overdue on its last day.
	if d := duties(t, e, a.school, "kind=co_counselling&as_of=2026-02-28"); len(d) != 1 || d[0]["overdue"] != false {
		t.Fatalf("as of 2026-02-28: %v", d)
	}

	e.Clock.Set(time.Date(2026, 3, 5, 9, 0, 0, 0, domain.Taipei))
	visit := func(token, on string, cases ...string) testenv.Response {
		var cs []map[string]any
		for _, c := range cases {
			cs = append(cs, map[string]any{"case_id": c, "note": "共同輔導紀錄"})
		}
		return e.Do("POST", "/v1/co-counselling-visits", token, map[string]any{"on": on, "cases": cs})
	}
	// Another school's student, and a day before the enrolment: refused
	// alike (R-ORG-5), nothing recorded.
	for _, r := range []testenv.Response{visit(a.school, "2026-02-25", otherID), visit(a.school, "2026-02-10", id)} {
		if r.Status != 422 || r.JSON(t)["rule"] != "R-ORG-5" {
			t.Fatalf("visit refused? %d %s", r.Status, r.Body)
		}
	}
	mustStatus(t, visit(a.school, "2026-03-06", id), 400) // in the future
	mustStatus(t, visit(a.school, "", id), 200)           // today: March
	if d := duties(t, e, a.school, "kind=co_counselling&as_of=2026-03-05"); !slices.Equal(periods(d), []string{"2026-02"}) {
		t.Fatalf("after a March visit: %v", d)
	}
	mustStatus(t, visit(a.school, "2026-02-25", id), 200)
	if d := duties(t, e, a.school, "kind=co_counselling&as_of=2026-03-05"); len(d) != 0 {
		t.Fatalf("after the February visit: %v", d)
	}
	// As of a day before the visit, February was still owed.
	if d := duties(t, e, a.school, "kind=co_counselling&as_of=2026-02-24"); !slices.Equal(periods(d), []string{"2026-02"}) {
		t.Fatalf("as of 2026-02-24: %v", d)
	}
	// The other school's months are its own.
	if d := duties(t, e, other, "kind=co_counselling&as_of=2026-03-05"); !slices.Equal(periods(d), []string{"2026-02", "2026-03"}) {
		t.Fatalf("the other school: %v", d)
	}
	if d := duties(t, e, other, "kind=co_counselling&overdue=true&as_of=2026-03-05"); !slices.Equal(periods(d), []string{"2026-02"}) {
		t.Fatalf("the other school's overdue: %v", d)
	}
}

// R-ORG-5: July and August are never owed; every other month of the
// enrolment is.
func TestR_ORG_5_JulyAndAugustNotFlagged(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	admitAndEnrol(t, e, a, "034501", true)
	got := periods(duties(t, e, a.school, "kind=co_counselling&as_of=2026-09-15"))
	want := []string{"2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-09"}
	if !slices.Equal(got, want) {
		t.Fatalf("co-counselling months as of 2026-09-15: %v, want %v", got, want)
	}
}

// R-ENR-2: each semester of the enrolment without a registration is a
// duty of the origin school, due by the semester's last day; recording
// it clears it. The branch's records of a semester are owed once it ends,
// kind by kind.
func TestR_ENR_2_SemesterWithoutRegistrationFlaggedAndCleared(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := admitAndEnrol(t, e, a, "034501", true) // 114-2

	reg := duties(t, e, a.school, "kind=registration&as_of=2026-03-01")
	if !slices.Equal(periods(reg), []string{"114-2"}) || reg[0]["due_on"] != "2026-07-31" || reg[0]["overdue"] != false ||
		reg[0]["rule"] != "R-ENR-2" || reg[0]["case_id"] != id {
		t.Fatalf("registrations as of 2026-03-01: %v", reg)
	}
	reg = duties(t, e, a.school, "kind=registration&as_of=2026-08-05")
	if !slices.Equal(periods(reg), []string{"114-2", "115-1"}) || reg[0]["overdue"] != true || reg[1]["overdue"] != false {
		t.Fatalf("registrations as of 2026-08-05: %v", reg)
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/registrations", a.school, map[string]any{"semester": "114-2"}), 200)
	if reg = duties(t, e, a.school, "kind=registration&as_of=2026-08-05"); !slices.Equal(periods(reg), []string{"115-1"}) {
		t.Fatalf("after registering 114-2: %v", reg)
	}

	// Records: none owed while the semester runs.
	if d := duties(t, e, a.sw, "kind=records_sent&as_of=2026-07-31"); len(d) != 0 {
		t.Fatalf("records owed during the semester: %v", d)
	}
	rec := duties(t, e, a.sw, "kind=records_sent&as_of=2026-08-05")
	if len(rec) != 1 || rec[0]["period"] != "114-2" || rec[0]["party"] != "branch" || rec[0]["due_on"] != nil || rec[0]["age_days"] != float64(4) {
		t.Fatalf("records as of 2026-08-05: %v", rec)
	}
	e.Clock.Set(time.Date(2026, 8, 5, 9, 0, 0, 0, domain.Taipei))
	path := "/v1/referrals/" + id + "/records-sent"
	mustStatus(t, e.Do("POST", path, a.school, map[string]any{"semester": "114-2", "kinds": []string{"grades"}}), 403)
	mustStatus(t, e.Do("POST", path, a.sw, map[string]any{"semester": "114-2", "kinds": []string{"marks"}}), 400)
	if r := e.Do("POST", path, a.sw, map[string]any{"semester": "114-1", "kinds": []string{"grades"}}); r.Status != 422 || r.JSON(t)["rule"] != "R-ENR-2" {
		t.Fatalf("a semester before the enrolment: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", path, a.sw, map[string]any{"semester": "114-2", "kinds": []string{"grades", "attendance"}}), 200)
	mustStatus(t, e.Do("POST", path, a.sw, map[string]any{"semester": "114-2", "kinds": []string{"grades"}}), 409)
	rec = duties(t, e, a.sw, "kind=records_sent")
	if len(rec) != 1 || fmt.Sprint(rec[0]["missing"]) != "[rewards_penalties learning]" {
		t.Fatalf("records after grades and attendance: %v", rec)
	}
	mustStatus(t, e.Do("POST", path, a.sw, map[string]any{"semester": "114-2", "kinds": []string{"learning", "rewards_penalties"}}), 200)
	if rec = duties(t, e, a.sw, "kind=records_sent"); len(rec) != 0 {
		t.Fatalf("records after all four: %v", rec)
	}
}

// R-ORG-4: a dropout episode the branch opened is a dropout report the
// origin school owes until it records having filed it.
func TestR_ORG_4_DropoutReportDutyAppearsAndClears(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := admitAndEnrol(t, e, a, "034501", true)
	e.Clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, domain.Taipei))
	sw := events.Actor{Role: domain.RoleSocialWorker, Branch: e.Branch.Code}
	appendEvent(t, e, id, events.DropoutOpened{Episode: 1, FirstDayAbsent: calendar.NewDate(2026, 3, 2), Whereabouts: "unknown", Reason: "family",
		Letter: events.Letter{ToSchool: "034501", StudentAlias: domain.Alias(id), Subject: "中輟通報", Outcome: "中輟", NextStep: "通報"}}, sw)

	d := duties(t, e, a.school, "kind=dropout_report")
	if len(d) != 1 || d[0]["period"] != "1" || d[0]["party"] != "origin_school" || d[0]["rule"] != "R-ORG-4" || d[0]["since"] != "2026-03-02" || d[0]["due_on"] != nil {
		t.Fatalf("dropout report duty: %v", d)
	}
	if d := duties(t, e, a.school, "kind=dropout_report&as_of=2026-03-01"); len(d) != 0 {
		t.Fatalf("owed before the episode: %v", d)
	}
	if d := duties(t, e, a.school, "kind=dropout_report&as_of=2026-03-12"); len(d) != 1 || d[0]["age_days"] != float64(10) {
		t.Fatalf("age on 2026-03-12: %v", d)
	}
	e.Clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, domain.Taipei))
	appendEvent(t, e, id, events.DropoutReported{Episode: 1, ReportedOn: calendar.NewDate(2026, 3, 3)},
		events.Actor{Role: domain.RoleOriginSchool, School: "034501"})
	if d := duties(t, e, a.school, "kind=dropout_report"); len(d) != 0 {
		t.Fatalf("after the report: %v", d)
	}
	if d := duties(t, e, a.school, "kind=dropout_report&as_of=2026-03-02"); len(d) != 1 {
		t.Fatalf("as of the day before the report: %v", d)
	}
}

// R-SOY-7, R-ORG-2: an admission owes the network-unit notice and the
// accompaniment (due on the reporting date) of the origin school, and the
// filing of the admitted list with the bureau; each clears when recorded.
// R-SUS-4, R-ORG-6: a suspension owes a notice and the help to leave, and
// ends the periodic duties.
func TestR_SOY_7_R_ORG_2_ResultDutiesAndFiling(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, meeting := admitAndEnrol(t, e, a, "034501", false)

	d := duties(t, e, a.school, "")
	if n := find(d, domain.DutyNetworkNotice, domain.ResultAdmitted); n == nil || n["rule"] != "R-SOY-7" || n["due_on"] != nil {
		t.Fatalf("network notice: %v", d)
	}
	acc := find(d, domain.DutyAccompaniment, "")
	if acc == nil || acc["due_on"] != "2026-04-07" || acc["rule"] != "R-ORG-2" {
		t.Fatalf("accompaniment: %v", d)
	}
	if find(d, domain.DutyAdmittedList, "") != nil {
		t.Fatalf("the school sees the branch's filing: %v", d)
	}
	if d := duties(t, e, a.school, "kind=accompaniment&overdue=true&as_of=2026-04-08"); len(d) != 1 {
		t.Fatalf("accompaniment overdue after the reporting date: %v", d)
	}
	// The bureau sees the filing and only the filing.
	bd := duties(t, e, a.bureau, "")
	if len(bd) != 1 || bd[0]["kind"] != domain.DutyAdmittedList || bd[0]["period"] != meeting || bd[0]["party"] != "branch" {
		t.Fatalf("bureau duties: %v", bd)
	}
	if r := e.Do("POST", "/v1/filings/admitted", a.bureau, map[string]any{"meeting_id": "m" + strings.Repeat("a", 24)}); r.Status != 404 {
		t.Fatalf("an unknown meeting: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/filings/admitted", a.sw, map[string]any{"meeting_id": meeting}), 200)
	mustStatus(t, e.Do("POST", "/v1/filings/admitted", a.bureau, map[string]any{"meeting_id": meeting}), 409)
	if bd := duties(t, e, a.bureau, ""); len(bd) != 0 {
		t.Fatalf("bureau duties after the filing: %v", bd)
	}

	notices := "/v1/referrals/" + id + "/network-notices"
	if r := e.Do("POST", notices, a.school, map[string]any{"result": "rejected"}); r.Status != 422 || r.JSON(t)["rule"] != "R-SOY-7" {
		t.Fatalf("a result the case never had: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", notices, a.school, map[string]any{"result": "admitted"}), 200)
	mustStatus(t, e.Do("POST", notices, a.school, map[string]any{"result": "admitted"}), 409)
	acc2 := "/v1/referrals/" + id + "/accompaniment"
	if r := e.Do("POST", acc2, a.school, map[string]any{"by": "parent"}); r.Status != 422 || r.JSON(t)["rule"] != "R-ORG-2" {
		t.Fatalf("a parent for a grade-8 student: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", acc2, a.school, map[string]any{"by": "staff"}), 200)
	if d := duties(t, e, a.school, "kind=network_notice"); len(d) != 0 {
		t.Fatalf("notices left: %v", d)
	}
	if d := duties(t, e, a.school, "kind=accompaniment"); len(d) != 0 {
		t.Fatalf("accompaniment left: %v", d)
	}

	// Enrolled, then suspended on 2026-05-20 by a meeting.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	leave := "/v1/referrals/" + id + "/leave-assistance"
	if r := e.Do("POST", leave, a.school, nil); r.Status != 422 || r.JSON(t)["rule"] != "R-ORG-6" {
		t.Fatalf("help to leave before a suspension: %d %s", r.Status, r.Body)
	}
	e.Clock.Set(time.Date(2026, 5, 20, 9, 0, 0, 0, domain.Taipei))
	appendEvent(t, e, id, events.Suspended{MeetingID: meeting, On: calendar.NewDate(2026, 5, 20), Destination: "origin_school",
		Letter: events.Letter{ToSchool: "034501", StudentAlias: domain.Alias(id), Subject: "中止就讀", Outcome: "中止就讀", NextStep: "返回原校"}},
		events.Actor{Role: domain.RoleCommittee, Branch: e.Branch.Code})
	d = duties(t, e, a.school, "as_of=2026-09-15")
	if n := find(d, domain.DutyNetworkNotice, domain.ResultSuspended); n == nil || n["rule"] != "R-SUS-4" {
		t.Fatalf("suspension notice: %v", d)
	}
	if l := find(d, domain.DutyLeave, ""); l == nil || l["rule"] != "R-ORG-6" {
		t.Fatalf("help to leave: %v", d)
	}
	cc := []string{}
	for _, x := range d {
		if x["kind"] == domain.DutyCoCounselling {
			cc = append(cc, x["period"].(string))
		}
	}
	if !slices.Equal(cc, []string{"2026-02", "2026-03", "2026-04", "2026-05"}) {
		t.Fatalf("co-counselling months of an enrolment that ended on 2026-05-20: %v", cc)
	}
	if r := find(d, domain.DutyRegistration, "115-1"); r != nil {
		t.Fatalf("a registration owed after the enrolment ended: %v", r)
	}
	mustStatus(t, e.Do("POST", notices, a.school, map[string]any{"result": "suspended"}), 200)
	mustStatus(t, e.Do("POST", leave, a.school, map[string]any{"on": "2026-05-20"}), 200)
	d = duties(t, e, a.school, "")
	if find(d, domain.DutyNetworkNotice, "") != nil || find(d, domain.DutyLeave, "") != nil {
		t.Fatalf("after the notice and the help to leave: %v", d)
	}
}

// Duties are scoped like referrals: an origin school sees only its own
// students' duties, the branch all of its branch's. A list pages with
// its cursor. R-MID-4: an open home visit is the branch's duty, due on
// the 10th working day after receipt.
func TestDutiesScopedLikeReferrals(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	other := e.Token(domain.RoleOriginSchool, "034502")
	mine, _ := admitAndEnrol(t, e, a, "034501", true)
	theirs, _ := admitAndEnrol(t, e, a, "034502", true)
	visit := mustStatus(t, e.Do("POST", "/v1/referrals", a.school, testenv.ValidReferral(testenv.NewNationalID())), 201).JSON(t)["id"].(string)

	for token, want := range map[string]string{a.school: mine, other: theirs} {
		d := duties(t, e, token, "as_of=2026-03-05")
		if len(d) == 0 {
			t.Fatal("no duties")
		}
		for _, x := range d {
			if c, ok := x["case_id"]; ok && c != want && c != visit {
				t.Fatalf("a school sees another school's duty: %v", x)
			}
			if x["kind"] == domain.DutyHomeVisit && token == other {
				t.Fatalf("another school's home visit: %v", x)
			}
		}
	}
	all := duties(t, e, a.sw, "as_of=2026-03-05")
	seen := map[any]bool{}
	for _, x := range all {
		seen[x["case_id"]] = true
	}
	if !seen[mine] || !seen[theirs] {
		t.Fatalf("the branch sees both schools' duties: %v", all)
	}
	hv := find(all, domain.DutyHomeVisit, "")
	if hv == nil || hv["case_id"] != visit || hv["due_on"] != "2026-03-05" || hv["overdue"] != false || hv["rule"] != "R-MID-4" {
		t.Fatalf("home visit duty: %v", hv)
	}
	if d := duties(t, e, a.sw, "kind=home_visit&overdue=true&as_of=2026-03-06"); len(d) != 1 {
		t.Fatalf("home visit overdue on 2026-03-06: %v", d)
	}
	// Paging: one at a time, the same duties in the same order.
	var paged []string
	cursor := ""
	for range len(all) + 1 {
		body := mustStatus(t, e.Do("GET", "/v1/duties?as_of=2026-03-05&limit=1&cursor="+cursor, a.sw, nil), 200).JSON(t)
		for _, it := range body["items"].([]any) {
			paged = append(paged, it.(map[string]any)["id"].(string))
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	var ids []string
	for _, x := range all {
		ids = append(ids, x["id"].(string))
	}
	if !slices.Equal(paged, ids) {
		t.Fatalf("paged %v\nwant  %v", paged, ids)
	}
	for _, q := range []string{"kind=nope", "party=bureau", "overdue=maybe", "as_of=2026-02-30", "cursor=x%20y", "limit=0"} {
		mustStatus(t, e.Do("GET", "/v1/duties?"+q, a.sw, nil), 400)
	}
	mustStatus(t, e.Do("GET", "/v1/duties", a.committee, nil), 403)
}

// R-ORG-5: a co-counselling visit is one event on the school's stream
// cihui.<branch>.cocounselling.<school>; a note about a student is sealed
// with that student's key, never in the clear; a retried request records
// nothing more.
func TestR_ORG_5_CoCounsellingVisitSealedAndIdempotent(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := admitAndEnrol(t, e, a, "034501", true)
	const note = "共同輔導備註：家庭狀況"
	body := map[string]any{"cases": []map[string]any{{"case_id": id, "note": note}}}
	first := mustStatus(t, e.Do("POST", "/v1/co-counselling-visits", a.school, body, "Idempotency-Key", "visit-1"), 200).JSON(t)
	again := mustStatus(t, e.Do("POST", "/v1/co-counselling-visits", a.school, body, "Idempotency-Key", "visit-1"), 200).JSON(t)
	if first["position"] != again["position"] || first["id"] != "034501" {
		t.Fatalf("first %v, retry %v", first, again)
	}
	l, err := e.Store.Load(t.Context(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateCoCounselling, ID: "034501"})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Events) != 1 {
		t.Fatalf("%d events on the school's stream, want 1", len(l.Events))
	}
	if strings.Contains(string(l.Events[0].Data), "家庭狀況") {
		t.Fatal("the note is in the clear in the log")
	}
	v := l.Events[0].Payload.(events.CoCounsellingVisited)
	if len(v.Cases) != 1 || v.Cases[0].CaseID != id || v.Cases[0].Note.IsZero() || v.On != calendar.NewDate(2026, 2, 11) {
		t.Fatalf("visit %+v", v)
	}
	var opened string
	if err := e.Sealer.Open(t.Context(), v.Cases[0].Note, &opened); err != nil || opened != note {
		t.Fatalf("the sealed note opens to %q (%v)", opened, err)
	}
}

// The duties read model is a fold of the log: rebuilt from the first
// event it answers the same for any date.
func TestDutiesSameAfterARebuild(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, meeting := admitAndEnrol(t, e, a, "034501", true)
	admitAndEnrol(t, e, a, "034502", true)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/registrations", a.school, map[string]any{"semester": "114-2"}), 200)
	mustStatus(t, e.Do("POST", "/v1/co-counselling-visits", a.school, map[string]any{"cases": []map[string]any{{"case_id": id}}}), 200)
	mustStatus(t, e.Do("POST", "/v1/filings/admitted", a.sw, map[string]any{"meeting_id": meeting}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/network-notices", a.school, map[string]any{"result": "admitted"}), 200)
	dates := []string{"2026-02-11", "2026-03-05", "2026-09-15"}
	before := map[string][]map[string]any{}
	for _, d := range dates {
		before[d] = duties(t, e, a.sw, "limit=500&as_of="+d)
	}
	e.StopProjector()
	if err := projections.Reset(t.Context(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	last, err := e.Store.LastPosition(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoint itself, not the API's cached position, says when
	// the rebuild has caught up.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cp, err := projections.Checkpoint(t.Context(), e.DB)
		if err != nil {
			t.Fatal(err)
		}
		if cp >= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rebuild did not catch up: at %d of %d", cp, last)
		}
	}
	for _, d := range dates {
		if after := duties(t, e, a.sw, "limit=500&as_of="+d); fmt.Sprint(after) != fmt.Sprint(before[d]) {
			t.Fatalf("as of %s:\nbefore %v\nafter  %v", d, before[d], after)
		}
	}
	if len(before["2026-09-15"]) < 5 {
		t.Fatalf("too few duties to compare: %v", before["2026-09-15"])
	}
}
