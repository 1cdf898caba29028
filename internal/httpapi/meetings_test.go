package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// scheduleAndOpen schedules a meeting through the API and opens it.
func scheduleAndOpen(t *testing.T, e *testenv.Env, committee, kind, date string) string {
	t.Helper()
	r := mustStatus(t, e.Do("POST", "/v1/meetings", committee, map[string]any{"academic_year": 114, "kind": kind, "date": date}), http.StatusCreated)
	id := r.JSON(t)["id"].(string)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+id+"/open", committee, nil), 200)
	return id
}

func capacity(t *testing.T, e *testenv.Env, token string) map[string]any {
	t.Helper()
	return mustStatus(t, e.Do("GET", "/v1/capacity", token, nil), 200).JSON(t)
}

func waitingIDs(c map[string]any) []string {
	var out []string
	for _, w := range c["waiting_list"].([]any) {
		out = append(out, w.(map[string]any)["case_id"].(string))
	}
	return out
}

// R-SOY-5, R-CAP-1, R-MTG-2, R-MTG-3: a meeting with 150 recommended cases
// (cap 135, nobody enrolled) admits exactly the first 135 by application
// time and waitlists 15 in order; an exit frees a place and the first
// waiting case is offered it; R-ENR-1: a stale health check blocks
// enrolment.
func TestMeetingAdmitsInApplicationOrderUpToTheCap(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	const n = 150
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")

	// The docket lists every recommended case in application order.
	d := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, lastPos(t, e)), a.committee, nil), 200).JSON(t)
	var docket []string
	for _, c := range d["cases"].([]any) {
		docket = append(docket, c.(map[string]any)["case_id"].(string))
	}
	if !slices.Equal(docket, ids) || d["is_next_meeting"] != true {
		t.Fatalf("docket has %d cases (next=%v), want the %d in application order", len(docket), d["is_next_meeting"], n)
	}
	// Resolutions in reverse order: admission still follows application time.
	for i := n - 1; i >= 0; i-- {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": ids[i], "resolution": "admit"}), 200)
	}
	if r := e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": ids[0], "resolution": "reject", "reason": "x"}); r.Status != 422 || r.JSON(t)["rule"] != "R-MTG-3" {
		t.Fatalf("a second resolution: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)

	c := capacity(t, e, a.sw)
	if c["cap"] != float64(135) || c["admitted_awaiting_enrolment"] != float64(135) || c["enrolled"] != float64(0) || c["free"] != float64(0) {
		t.Fatalf("capacity after close: %v", c)
	}
	if w := waitingIDs(c); !slices.Equal(w, ids[135:]) {
		t.Fatalf("waiting list %v, want the last 15 in application order", w)
	}
	got135 := get(t, e, a.school, ids[134])
	if got135["stage"] != "admitted" || got135["admission"].(map[string]any)["report_by"] != "2026-04-07" {
		t.Fatalf("case 135: %v %v", got135["stage"], got135["admission"])
	}
	// R-MID-5, R-SOY-7: the admission letter names the reporting date set
	// for mid-year admissions and the duty to inform the network units.
	ls := got135["letters"].([]any)
	next := ls[len(ls)-1].(map[string]any)["next_step"].(string)
	if !strings.Contains(next, "民國115年4月7日") || !strings.Contains(next, "網絡單位") {
		t.Fatalf("admission letter: %s", next)
	}
	got := get(t, e, a.school, ids[135])
	if got["stage"] != "waitlisted" || got["admission"].(map[string]any)["waiting_list_rank"] != float64(1) {
		t.Fatalf("case 136: %v %v", got["stage"], got["admission"])
	}
	// The closed meeting keeps its docket with outcomes.
	d = mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, lastPos(t, e)), a.committee, nil), 200).JSON(t)
	outcomes := map[string]int{}
	for _, x := range d["cases"].([]any) {
		outcomes[x.(map[string]any)["outcome"].(string)]++
	}
	if outcomes["admitted"] != 135 || outcomes["waitlisted"] != 15 {
		t.Fatalf("closed docket outcomes %v", outcomes)
	}

	// An admitted student declines: the first waiting case is offered the place.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+ids[7]+"/withdrawal", a.sw, map[string]any{"reason": "declined_place", "reporting_date": "2026-04-07"}), 200)
	c = capacity(t, e, a.sw)
	if c["admitted_awaiting_enrolment"] != float64(135) || !slices.Equal(waitingIDs(c), ids[136:]) {
		t.Fatalf("after the exit: %v", c)
	}
	offered := get(t, e, a.school, ids[135])
	letters := offered["letters"].([]any)
	if offered["stage"] != "admitted" || !strings.Contains(letters[len(letters)-1].(map[string]any)["outcome"].(string), "候補遞補") {
		t.Fatalf("the first waiting case was not offered the place: %v %v", offered["stage"], letters)
	}

	// R-ENR-1: a health check older than two months blocks enrolment.
	id := ids[0]
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2025-12-10"}), 200)
	r := e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"})
	if r.Status != 422 || r.JSON(t)["rule"] != "R-ENR-1" {
		t.Fatalf("enrolment with a stale health check: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01", "infectious": true}), 200)
	if r := e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}); r.Status != 422 || r.JSON(t)["rule"] != "R-ENR-1" {
		t.Fatalf("enrolment before cure: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01", "infectious": true, "cleared_on": "2026-02-10"}), 200)
	en := mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200).JSON(t)
	if w := en["warnings"].([]any); len(w) == 0 || !strings.Contains(w[0].(string), "R-CAP-2") {
		t.Fatalf("a class of 1 is below the norm: warnings %v", w)
	}
	if c := capacity(t, e, a.sw); c["enrolled"] != float64(1) || c["admitted_awaiting_enrolment"] != float64(134) {
		t.Fatalf("after enrolment: %v", c)
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/registrations", a.school, map[string]any{"semester": "114-2"}), 200)
	if got := get(t, e, a.school, id); got["stage"] != "enrolled" || got["admission"].(map[string]any)["class"] != "8-1" {
		t.Fatalf("enrolled: %v %v", got["stage"], got["admission"])
	}
	// R-SOY-7: the filed list for the bureau.
	f := mustStatus(t, e.Do("GET", "/v1/filings/admitted?academic_year=114", a.bureau, nil), 200).JSON(t)
	if n := len(f["items"].([]any)); n != 135 || f["academic_year"] != float64(114) {
		t.Fatalf("filed list has %d for year %v, want 135 for 114", n, f["academic_year"])
	}
	// Issue 12: without a filter the list covers every year and claims
	// none (it said academic_year 0).
	all := mustStatus(t, e.Do("GET", "/v1/filings/admitted", a.bureau, nil), 200).JSON(t)
	if y, ok := all["academic_year"]; ok || len(all["items"].([]any)) != 135 {
		t.Fatalf("unfiltered filed list: academic_year %v (present %v), %d items", y, ok, len(all["items"].([]any)))
	}
}

// R-CAP-2: a 21st student in a class is refused without an override.
func TestClassOfTwentyOneNeedsOverride(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	ids := make([]string, 21)
	for i := range ids {
		ids[i] = e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	for _, id := range ids {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	for i, id := range ids {
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
		r := e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-2"})
		if i < 20 {
			mustStatus(t, r, 200)
			continue
		}
		if r.Status != 422 || r.JSON(t)["rule"] != "R-CAP-2" {
			t.Fatalf("21st student: %d %s", r.Status, r.Body)
		}
		w := mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-2", "override_reason": "手足同班"}), 200).JSON(t)
		if len(w["warnings"].([]any)) == 0 {
			t.Fatal("an override above the norm should still warn")
		}
	}
}

// R-MTG-2: the docket lists recommended, to-discuss and not-passed cases
// (appealed or not), with who attends; the printable page shows them
// with ROC dates. R-MTG-1: a fifth meeting in a year warns.
func TestDocketHTMLAndAppeals(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	rec := e.RecommendedCase("034501", domain.OutcomeRecommend)
	disc := e.RecommendedCase("034501", domain.OutcomeDiscuss)
	notPassed := e.RecommendedCase("034501", domain.OutcomeNotEligible)
	silent := e.RecommendedCase("034501", domain.OutcomeNotEligible)
	if r := e.Do("POST", "/v1/referrals/"+rec+"/appeals", a.school, map[string]any{"attendees": []string{"parent"}}); r.Status != 422 || r.JSON(t)["rule"] != "R-MID-5" {
		t.Fatalf("appeal of a recommended case: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+notPassed+"/appeals", a.school, map[string]any{"attendees": []string{"student", "parent", "network_unit"}, "documents": 2}), 200)

	for i, kind := range []string{"extra", "march", "october", "december"} {
		r := mustStatus(t, e.Do("POST", "/v1/meetings", a.committee, map[string]any{"academic_year": 114, "kind": kind, "date": fmt.Sprintf("2026-%02d-23", 3+i)}), 201).JSON(t)
		_ = r
	}
	w := mustStatus(t, e.Do("POST", "/v1/meetings", a.bureau, map[string]any{"academic_year": 114, "kind": "extra", "date": "2026-07-01"}), 201).JSON(t)
	if ws := w["warnings"].([]any); len(ws) == 0 || !strings.Contains(ws[0].(string), "R-MTG-1") {
		t.Fatalf("a fifth meeting should warn: %v", w)
	}
	meetings := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings?academic_year=114&min_position=%d", lastPos(t, e)), a.committee, nil), 200).JSON(t)["items"].([]any)
	next := meetings[0].(map[string]any)["id"].(string) // 2026-03-23
	later := meetings[1].(map[string]any)["id"].(string)

	d := mustStatus(t, e.Do("GET", "/v1/meetings/"+next+"/docket", a.sw, nil), 200).JSON(t)
	var got []string
	for _, c := range d["cases"].([]any) {
		got = append(got, c.(map[string]any)["case_id"].(string))
		if c.(map[string]any)["case_id"] == notPassed && len(c.(map[string]any)["attendees"].([]any)) != 3 {
			t.Fatalf("attendees: %v", c)
		}
	}
	if !slices.Equal(got, []string{rec, disc, notPassed, silent}) {
		t.Fatalf("docket %v, want recommended, to-discuss and not passed in application order", got)
	}
	if later := mustStatus(t, e.Do("GET", "/v1/meetings/"+later+"/docket", a.sw, nil), 200).JSON(t); len(later["cases"].([]any)) != 0 {
		t.Fatal("cases land on the next meeting's docket only")
	}

	page := e.Do("GET", "/v1/meetings/"+next+"/docket", a.committee, nil, "Accept", "text/html")
	html := string(page.Body)
	if page.Status != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("docket page: %d %s", page.Status, page.Header.Get("Content-Type"))
	}
	for _, want := range []string{"民國115年3月23日", "議程", domain.Alias(rec), domain.Alias(notPassed), "待討論", "未通過（申請列席說明）", "學生、家長、網絡單位代表", "民國115年2月11日"} {
		if !strings.Contains(html, want) {
			t.Errorf("the docket page lacks %q", want)
		}
	}
	if strings.Contains(html, "測試") || strings.Contains(html, "A123456789") {
		t.Error("the docket page shows personal data")
	}
	// One meeting open at a time.
	mustStatus(t, e.Do("POST", "/v1/meetings/"+next+"/open", a.committee, nil), 200)
	if r := e.Do("POST", "/v1/meetings/"+later+"/open", a.committee, nil); r.Status != 409 {
		t.Fatalf("a second open meeting: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+next+"/resolutions", a.committee, map[string]any{"case_id": notPassed, "resolution": "reject", "reason": "未符資格"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+next+"/close", a.committee, nil), 200)
	if got := get(t, e, a.school, notPassed); got["stage"] != "rejected" {
		t.Fatalf("rejected case: %v", got["stage"])
	}
	// Cases without a resolution carry over to the next meeting.
	d = mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", later, lastPos(t, e)), a.sw, nil), 200).JSON(t)
	if len(d["cases"].([]any)) != 3 {
		t.Fatalf("carried-over docket: %v", d["cases"])
	}
	// A decided case is on no docket.
	mustStatus(t, e.Do("POST", "/v1/meetings/"+later+"/open", a.committee, nil), 200)
	if r := e.Do("POST", "/v1/meetings/"+later+"/resolutions", a.committee, map[string]any{"case_id": notPassed, "resolution": "admit"}); r.Status != 422 || r.JSON(t)["rule"] != "R-MTG-2" {
		t.Fatalf("resolution on a case not on the docket: %d %s", r.Status, r.Body)
	}
}

// R-MTG-2: a not-passed case nobody appealed is on the next docket
// (listed as not passed), the committee confirms it with `reject`, the case
// ends rejected and the origin school gets the result letter.
func TestR_MTG_2_NotPassedWithoutAppealOnDocket(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	silent := e.RecommendedCase("034501", domain.OutcomeNotEligible)
	m := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	d := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", m, lastPos(t, e)), a.sw, nil), 200).JSON(t)
	cs := d["cases"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["case_id"] != silent || cs[0].(map[string]any)["list"] != "not_passed" {
		t.Fatalf("docket: %v", cs)
	}
	before := len(get(t, e, a.school, silent)["letters"].([]any))
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/resolutions", a.committee, map[string]any{"case_id": silent, "resolution": "reject", "reason": "確認初審未通過"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/close", a.committee, nil), 200)
	got := get(t, e, a.school, silent)
	ls := got["letters"].([]any)
	if got["stage"] != "rejected" || len(ls) != before+1 {
		t.Fatalf("after the close: stage %v letters %v", got["stage"], ls)
	}
	if l := ls[len(ls)-1].(map[string]any); l["to_school"] != "034501" || l["outcome"] != "複審未通過" {
		t.Fatalf("result letter: %v", l)
	}
}

// R-MTG-1: a meeting dated before today is refused (it would become the
// next meeting and collect the docket), and so is one whose academic year
// does not match its date; both 422 citing the rule, nothing scheduled.
func TestR_MTG_1_MeetingInThePastRefusedHTTP(t *testing.T) {
	e := testenv.New(t, testenv.Options{}) // today 2026-02-11
	a := newActors(e)
	for _, body := range []map[string]any{
		{"academic_year": 114, "kind": "extra", "date": "2026-02-10"},
		{"academic_year": 110, "kind": "march", "date": "2027-03-10"},
	} {
		if r := e.Do("POST", "/v1/meetings", a.committee, body); r.Status != 422 || r.JSON(t)["rule"] != "R-MTG-1" {
			t.Fatalf("%v: %d %s", body, r.Status, r.Body)
		}
	}
	mustStatus(t, e.Do("POST", "/v1/meetings", a.committee, map[string]any{"academic_year": 114, "kind": "extra", "date": "2026-02-11"}), 201)
	items := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings?min_position=%d", lastPos(t, e)), a.committee, nil), 200).JSON(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("meetings scheduled: %d, want only today's", len(items))
	}
}

// R-CAP-2: enrolment follows the branch's class norms and returns its
// warnings with the result: a grade's only class warns (fewer than two),
// a fourth class warns (more than three), a fifth is refused (8 classes,
// the other grades keep two each); after the branch moves to 9 classes of
// three a grade, a fourth class is refused.
func TestR_CAP_2_ClassNormsFromBranchSettings(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	for _, id := range ids {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	enrol := func(id, class string) testenv.Response {
		t.Helper()
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
		return e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": class})
	}
	warns := func(r testenv.Response, part string) bool {
		for _, w := range mustStatus(t, r, 200).JSON(t)["warnings"].([]any) {
			if strings.Contains(w.(string), "R-CAP-2") && strings.Contains(w.(string), part) {
				return true
			}
		}
		return false
	}
	if !warns(enrol(ids[0], "8-1"), "grade 8 has 1 class") {
		t.Fatal("grade 8's only class should warn: fewer than two")
	}
	enrol(ids[1], "8-2")
	enrol(ids[2], "8-3")
	if !warns(enrol(ids[3], "8-4"), "grade 8 has 4 classes") {
		t.Fatal("a fourth class of grade 8 should warn: more than three")
	}
	if r := enrol(ids[4], "8-5"); r.Status != 422 || r.JSON(t)["rule"] != "R-CAP-2" {
		t.Fatalf("a fifth class of grade 8: %d %s", r.Status, r.Body)
	}
	norms := map[string]any{"classes": 9, "min_classes_per_grade": 3, "max_classes_per_grade": 3, "min_per_class": 12, "max_per_class": 20}
	mustStatus(t, e.Do("PUT", "/v1/branches/"+domain.DefaultBranchCode, a.admin, map[string]any{"class_norms": norms}), 200)
	if r := enrol(ids[5], "8-4"); r.Status != 422 || r.JSON(t)["rule"] != "R-CAP-2" {
		t.Fatalf("a fourth class where the branch's norms allow three: %d %s", r.Status, r.Body)
	}
}
