package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// enrolledCase takes a new recommended case of school through a meeting
// that admits it, the health check and the enrolment (on the clock's
// day, 2026-02-11), through the API, and returns its id.
func enrolledCase(t *testing.T, e *testenv.Env, school string) string {
	t.Helper()
	id := e.RecommendedCase(school, domain.OutcomeRecommend)
	committee, sw := e.Token(domain.RoleCommittee, ""), e.Token(domain.RoleSocialWorker, "")
	must := func(r testenv.Response, status int) testenv.Response {
		t.Helper()
		if r.Status != status {
			t.Fatalf("seeding: %d %s", r.Status, r.Body)
		}
		return r
	}
	m := must(e.Do("POST", "/v1/meetings", committee, map[string]any{"academic_year": 114, "kind": "extra", "date": "2026-03-23"}), http.StatusCreated).JSON(t)["id"].(string)
	must(e.Do("POST", "/v1/meetings/"+m+"/open", committee, nil), 200)
	must(e.Do("POST", "/v1/meetings/"+m+"/resolutions", committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	must(e.Do("POST", "/v1/meetings/"+m+"/close", committee, map[string]any{"reporting_date": "2026-04-07"}), 200) // R-SOY-6
	must(e.Do("POST", "/v1/referrals/"+id+"/health-check", sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	must(e.Do("POST", "/v1/referrals/"+id+"/enrolment", sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	for deadline := time.Now().Add(5 * time.Second); e.Do("GET", "/v1/referrals/"+id, sw, nil).JSON(t)["stage"] != "enrolled"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the enrolment was never projected")
		}
	}
	return id
}

// episodes waits until the API shows the case's dropout episodes to
// token as want says, and returns how many follow-ups each has.
func episodes(t *testing.T, e *testenv.Env, token, id string, want func([]int) bool) []int {
	t.Helper()
	var got []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var v struct {
			Dropouts []struct {
				FollowUps int `json:"follow_ups"`
			} `json:"dropouts"`
		}
		r := e.Do("GET", "/v1/referrals/"+id, token, nil)
		if r.Status == http.StatusOK {
			r.Decode(t, &v)
			got = got[:0]
			for _, d := range v.Dropouts {
				got = append(got, d.FollowUps)
			}
			if want(got) {
				return got
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the episodes never were as expected: %v", got)
		}
	}
}

// A school sees the dropout episodes of its own students only: another
// school's case page of episodes answers as GET /v1/referrals/{id} answers
// that school (not found), and its follow-up form records nothing
// (R-ORG-4, issue 15: a page never shows what the API would not).
func TestDropoutPagesKeepTheAPIsScope(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := enrolledCase(t, e, "034501")
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	swTok, ownTok, otherTok := e.Token(domain.RoleSocialWorker, ""), e.Token(domain.RoleOriginSchool, "034501"), e.Token(domain.RoleOriginSchool, "999999")

	sw := newClient(t, e)
	sw.signIn(swTok)
	// A sub-reason outside the reason's closed list: the API's field
	// error beside the field, nothing recorded.
	bad := url.Values{"form": {"dropout-open"}, "idempotency_key": {"open-key-2"}, "first_day_absent": {"2026-03-20"},
		"whereabouts": {"known"}, "reason": {"family"}, "sub_reason": {"gang"}}
	if st, body, _ := sw.post("/ui/cases/"+id+"/dropouts", bad); st != http.StatusBadRequest || !strings.Contains(body, `<p class="ferr">請從選項中選擇。`) {
		t.Fatalf("a sub-reason of another reason: %d %.3000s", st, body)
	}

	// The social worker opens the episode through the page, twice with
	// the form's one key (a double submit): one episode.
	open := url.Values{"form": {"dropout-open"}, "idempotency_key": {"open-key-1"}, "first_day_absent": {"2026-03-02"},
		"whereabouts": {"unknown"}, "reason": {"family"}, "sub_reason": {"economic"}, "note": {"開案說明"}}
	for i := range 2 {
		st, body, path := sw.post("/ui/cases/"+id+"/dropouts", open)
		if st != http.StatusOK || path != "/ui/cases/"+id+"/dropouts" || !strings.Contains(body, "中輟已開案") || !strings.Contains(body, "民國 115 年 3 月 2 日") {
			t.Fatalf("open, post %d: %d %s %.1500s", i+1, st, path, body)
		}
	}
	episodes(t, e, swTok, id, func(f []int) bool { return len(f) == 1 })

	// A second open episode: refused (R-ORG-4); the form is no longer on
	// the page, so the rule heads it.
	bad.Set("idempotency_key", "open-key-3")
	bad.Del("sub_reason")
	if st, body, _ := sw.post("/ui/cases/"+id+"/dropouts", bad); st != http.StatusUnprocessableEntity || !strings.Contains(body, `<span class="rule">R-ORG-4</span>`) {
		t.Fatalf("a second open episode: %d %.3000s", st, body)
	}

	other := newClient(t, e)
	other.signIn(otherTok)
	api := e.Do("GET", "/v1/referrals/"+id, otherTok, nil)
	st, body := other.get("/ui/cases/" + id + "/dropouts")
	if st != api.Status || st != http.StatusNotFound || strings.Contains(body, "民國 115 年 3 月 2 日") || strings.Contains(body, "家庭經濟因素") {
		t.Fatalf("another school's episodes page: %d (API %d) %.800s", st, api.Status, body)
	}
	fu := url.Values{"form": {"follow-up-1"}, "idempotency_key": {"fu-other"}, "kind": {"search"}, "on": {"2026-03-05"}}
	apiFU := e.Do("POST", "/v1/referrals/"+id+"/dropouts/1/follow-ups", otherTok, map[string]any{"kind": "search", "on": "2026-03-05"})
	if st, body, _ := other.post("/ui/cases/"+id+"/dropouts/1/follow-ups", fu); st != apiFU.Status || st != http.StatusNotFound || strings.Contains(body, "民國 115 年 3 月 2 日") {
		t.Fatalf("another school's follow-up: %d (API %d) %.800s", st, apiFU.Status, body)
	}

	// The own school sees the episode, and its follow-up is recorded.
	own := newClient(t, e)
	own.signIn(ownTok)
	if st, body := own.get("/ui/cases/" + id + "/dropouts"); st != http.StatusOK || !strings.Contains(body, "民國 115 年 3 月 2 日") || !strings.Contains(body, "家庭經濟因素") ||
		!strings.Contains(body, `action="/ui/cases/`+id+`/dropouts/1/reported"`) {
		t.Fatalf("own school's episodes page: %d %.1500s", st, body)
	}
	fu.Set("idempotency_key", "fu-own")
	if st, body, _ := own.post("/ui/cases/"+id+"/dropouts/1/follow-ups", fu); st != http.StatusOK || !strings.Contains(body, "追蹤紀錄已登錄") {
		t.Fatalf("own school's follow-up: %d %.800s", st, body)
	}
	if got := episodes(t, e, swTok, id, func(f []int) bool { return len(f) == 1 && f[0] >= 1 }); fmt.Sprint(got) != "[1]" {
		t.Fatalf("follow-ups %v, want [1] (the other school's recorded nothing)", got)
	}
}

// Every enrolled-life page renders for each role that works in it, through
// the whole life of a case: enrolled, on the suspension docket, suspended
// (R-SUS-2..4); the branch sends a semester's records (R-ENR-2) and the
// school, once the student is suspended, informs the network units and
// helps the student leave (R-SUS-4, R-ORG-6).
func TestEnrolledPagesRenderForEveryRole(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := enrolledCase(t, e, "034501")
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	swTok, schoolTok, committeeTok := e.Token(domain.RoleSocialWorker, ""), e.Token(domain.RoleOriginSchool, "034501"), e.Token(domain.RoleCommittee, "")
	sw, school, committee := newClient(t, e), newClient(t, e), newClient(t, e)
	sw.signIn(swTok)
	school.signIn(schoolTok)
	committee.signIn(committeeTok)
	cs := "/ui/cases/" + id
	pages := func(stage string) {
		t.Helper()
		for _, c := range []struct {
			who  *client
			path string
		}{
			{sw, cs}, {sw, cs + "/dropouts"}, {sw, cs + "/suspension"}, {sw, cs + "/duties"}, {sw, "/ui/duties"}, {sw, "/ui/suspension-grounds?as_of=2026-03-01"},
			{school, cs}, {school, cs + "/dropouts"}, {school, cs + "/duties"}, {school, "/ui/duties"}, {school, "/ui/co-counselling"},
			{committee, "/ui/suspension-grounds"},
		} {
			if st, body := c.who.get(c.path); st != http.StatusOK || !strings.Contains(body, "</main>") {
				t.Fatalf("%s, %s: %d %.800s", stage, c.path, st, body)
			}
		}
	}
	pages("enrolled")
	if st, body := school.get("/ui/suspension-grounds"); st != http.StatusForbidden {
		t.Fatalf("the grounds list is the branch's and the committee's (as GET /v1/suspension-grounds): the school got %d %.300s", st, body)
	}
	post := func(c *client, path string, f url.Values, flash string) {
		t.Helper()
		f.Set("idempotency_key", newKeyFor(path))
		if st, body, _ := c.post(path, f); st != http.StatusOK || !strings.Contains(body, flash) {
			t.Fatalf("%s: %d %.1500s", path, st, body)
		}
	}
	post(sw, cs+"/records-sent", url.Values{"form": {"records"}, "semester": {"114-2"}, "kinds": {"grades", "attendance"}, "on": {"2026-04-01"}}, "學期紀錄寄送已登錄")
	post(sw, cs+"/grounds", url.Values{"form": {"ground"}, "ground": {"2"}, "on": {"2026-03-30"}, "evidence": {"家長來函表示無意願"}}, "中止就讀事由已登錄")
	post(sw, cs+"/adaptation-meetings", url.Values{"form": {"adaptation"}, "on": {"2026-03-31"}, "outcome": {"propose_end"}, "grounds": {"2"}}, "就讀輔導會議已登錄")
	post(sw, cs+"/suspension/visits", url.Values{"form": {"suspension-visit"}, "kind": {"home"}, "on": {"2026-04-01"}}, "訪視已登錄")
	post(sw, cs+"/suspension/visits", url.Values{"form": {"suspension-visit"}, "kind": {"origin_school"}, "on": {"2026-04-01"}}, "訪視已登錄")
	post(sw, cs+"/suspension/report", url.Values{"form": {"suspension-report"}, "on": {"2026-04-01"}}, "評估報告已送出")
	pages("on the docket")

	m := e.Do("POST", "/v1/meetings", committeeTok, map[string]any{"academic_year": 114, "kind": "extra", "date": "2026-04-20"})
	mid, _ := m.JSON(t)["id"].(string)
	for _, r := range []testenv.Response{
		e.Do("POST", "/v1/meetings/"+mid+"/open", committeeTok, nil),
		e.Do("POST", "/v1/meetings/"+mid+"/resolutions", committeeTok, map[string]any{"case_id": id, "resolution": "suspend", "destination": "origin_school"}),
		e.Do("POST", "/v1/meetings/"+mid+"/close", committeeTok, map[string]any{}),
	} {
		if r.Status != http.StatusOK {
			t.Fatalf("the suspension meeting: %d %s", r.Status, r.Body)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); e.Do("GET", "/v1/referrals/"+id, swTok, nil).JSON(t)["stage"] != "suspended"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the suspension was never projected")
		}
	}
	pages("suspended")
	if _, body := school.get(cs + "/duties"); !strings.Contains(body, `action="`+cs+`/leave-assistance"`) {
		t.Fatalf("a suspended student's school is not offered the help to leave: %.1500s", body)
	}
	if _, body := school.get(cs + "/duties"); !strings.Contains(body, `<li data-kind="leave_assistance">`) || !strings.Contains(body, `<li data-kind="network_notice">`) {
		t.Fatalf("the school's duties of a suspended student are not listed on the case: %.3000s", body)
	}
	post(school, cs+"/network-notices", url.Values{"form": {"notice"}, "result": {"suspended"}}, "通知網絡單位已登錄")
	post(school, cs+"/leave-assistance", url.Values{"form": {"leave"}}, "協助離校已登錄")
	if _, body := school.get(cs + "/duties"); strings.Contains(body, `<li data-kind="leave_assistance">`) {
		t.Fatalf("the help to leave, done, is still listed as owed: %.3000s", body)
	}
	// Done once: a second help to leave is refused, beside its form.
	if st, body, _ := school.post(cs+"/leave-assistance", url.Values{"form": {"leave"}, "idempotency_key": {"leave-again"}}); st != http.StatusConflict || !strings.Contains(body, `class="problem"`) {
		t.Fatalf("a second help to leave: %d %.1500s", st, body)
	}
}

var keys int

// newKeyFor is a fresh idempotency key for a test's form post.
func newKeyFor(path string) string { keys++; return fmt.Sprintf("%s#%d", path, keys) }
