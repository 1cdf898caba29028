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
