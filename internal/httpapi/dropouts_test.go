package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// enrolledCase takes a new recommended case through a meeting, the health
// check and the enrolment (on the clock's day), and returns its id.
func enrolledCase(t *testing.T, e *testenv.Env, a actors) string {
	t.Helper()
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	meeting := scheduleAndOpen(t, e, a.committee, "extra", "2026-03-23")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200) // R-SOY-6
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	return id
}

// contractChecker validates each response against the served contract.
func contractChecker(t *testing.T, e *testenv.Env) func(method, path, token string, body any, headers ...string) testenv.Response {
	spec, _, err := httpapi.Spec()
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path, token string, body any, headers ...string) testenv.Response {
		t.Helper()
		r := e.Do(method, path, token, body, headers...)
		req, _ := http.NewRequest(method, "http://localhost"+path, nil)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s %s is not in the contract: %v", method, path, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
			Body: io.NopCloser(bytes.NewReader(r.Body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s → %d does not match the contract: %v\n%s", method, path, r.Status, err, r.Body)
		}
		return r
	}
}

// coveredByDropoutTest reports whether TestR_ORG_4_DropoutEpisodesHTTP
// validates path's operations against the contract.
func coveredByDropoutTest(path string) bool {
	return strings.HasPrefix(path, "/v1/referrals/{id}/dropouts") || path == "/v1/referrals/{id}/grounds" || path == "/v1/suspension-grounds"
}

func wantProblem(t *testing.T, r testenv.Response, status int, rule string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if rule != "" && r.JSON(t)["rule"] != rule {
		t.Fatalf("rule %v, want %s: %s", r.JSON(t)["rule"], rule, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q", ct)
	}
}

// R-ORG-4, R-SUS-1, R-STAT-2 through HTTP: an episode opened with its
// letter, reported by the origin school, followed up by both schools,
// found, returned and closed; the invariants refused with their rule ids
// (a second open episode, found on a whereabouts-known episode, a case
// not enrolled, the wrong role, a date out of order); idempotent retry
// and If-Match; the grounds on the case and in the as-of list; every
// response matching the contract.
func TestR_ORG_4_DropoutEpisodesHTTP(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	check := contractChecker(t, e)
	id := enrolledCase(t, e, a)
	waiting := e.RecommendedCase("034501", domain.OutcomeRecommend)
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	base := "/v1/referrals/" + id + "/dropouts"

	// Not enrolled: refused.
	wantProblem(t, check("POST", "/v1/referrals/"+waiting+"/dropouts", a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family"}), 422, "R-ORG-4")
	// Wrong role, bad fields.
	wantProblem(t, check("POST", base, a.school, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family"}), 403, "")
	wantProblem(t, check("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "lost", "reason": "family"}), 400, "")
	wantProblem(t, check("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family", "sub_reason": "gang"}), 400, "")
	wantProblem(t, check("POST", base, a.sw, map[string]any{"first_day_absent": "2026-04-02", "whereabouts": "unknown", "reason": "family"}), 400, "")

	const note1, note2, note3 = "中輟開案備註甲乙丙", "原校協尋紀錄丁戊己", "分校輔導紀錄庚辛壬"
	open1 := map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family", "sub_reason": "economic", "note": note1}
	r := check("POST", base, a.sw, open1, "Idempotency-Key", "dropout-1")
	mustStatus(t, r, http.StatusCreated)
	if r.JSON(t)["episode"] != float64(1) || r.Header.Get("Location") != base+"/1" {
		t.Fatalf("opened: %s (Location %q)", r.Body, r.Header.Get("Location"))
	}
	again := check("POST", base, a.sw, open1, "Idempotency-Key", "dropout-1")
	if again.Status != http.StatusCreated || again.Header.Get("Idempotent-Replayed") != "true" || again.JSON(t)["episode"] != float64(1) ||
		again.JSON(t)["position"] != r.JSON(t)["position"] {
		t.Fatalf("retry: %d %s", again.Status, again.Body)
	}
	// A second open episode.
	wantProblem(t, check("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-20", "whereabouts": "known", "reason": "school"}), 422, "R-ORG-4")

	wantProblem(t, check("POST", base+"/1/reported", a.sw, map[string]any{"reported_on": "2026-03-03"}), 403, "")
	wantProblem(t, check("POST", base+"/1/reported", a.school, map[string]any{"reported_on": "2026-03-01"}), 422, "R-ORG-4")
	wantProblem(t, check("POST", base+"/2/reported", a.school, map[string]any{"reported_on": "2026-03-03"}), 404, "")
	wantProblem(t, check("POST", base+"/0/reported", a.school, map[string]any{"reported_on": "2026-03-03"}), 400, "")
	mustStatus(t, check("POST", base+"/1/reported", a.school, map[string]any{"reported_on": "2026-03-03"}), 200)
	mustStatus(t, check("POST", base+"/1/follow-ups", a.school, map[string]any{"kind": "search", "on": "2026-03-04", "note": note2}), 200)
	mustStatus(t, check("POST", base+"/1/follow-ups", a.sw, map[string]any{"kind": "counselling", "on": "2026-03-05", "note": note3}), 200)
	wantProblem(t, check("POST", base+"/1/follow-ups", a.committee, map[string]any{"kind": "search", "on": "2026-03-04"}), 403, "")
	wantProblem(t, check("POST", base+"/1/returned", a.sw, map[string]any{"returned_on": "2026-03-12"}), 422, "R-SUS-1") // found first
	wantProblem(t, check("POST", base+"/1/found", a.sw, map[string]any{"found_on": "2026-03-10"}, "If-Match", `"1"`), 412, "")
	mustStatus(t, check("POST", base+"/1/found", a.sw, map[string]any{"found_on": "2026-03-10"}), 200)
	mustStatus(t, check("POST", base+"/1/returned", a.sw, map[string]any{"returned_on": "2026-03-12"}), 200)
	wantProblem(t, check("POST", base+"/1/close", a.sw, map[string]any{"closed_on": "2026-03-11", "outcome": "returned"}), 422, "R-ORG-4")
	mustStatus(t, check("POST", base+"/1/close", a.sw, map[string]any{"closed_on": "2026-03-13", "outcome": "returned"}), 200)

	// Episode 2: whereabouts known; found refused (R-STAT-2).
	mustStatus(t, check("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-16", "whereabouts": "known", "reason": "social", "sub_reason": "internet"}), 201)
	wantProblem(t, check("POST", base+"/2/found", a.sw, map[string]any{"found_on": "2026-03-17"}), 422, "R-STAT-2")
	mustStatus(t, check("POST", base+"/2/returned", a.sw, map[string]any{"returned_on": "2026-03-17"}), 200)
	mustStatus(t, check("POST", base+"/2/close", a.sw, map[string]any{"closed_on": "2026-03-18", "outcome": "returned"}), 200)
	// Episode 3: whereabouts unknown, still open on Apr 1 (12 days).
	mustStatus(t, check("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-20", "whereabouts": "unknown", "reason": "personal"}), 201)

	// Recorded ground (3) with its evidence.
	const evidence = "嚴重偏差行為之佐證說明"
	wantProblem(t, check("POST", "/v1/referrals/"+id+"/grounds", a.sw, map[string]any{"ground": 4, "on": "2026-03-25", "evidence": "x"}), 400, "")
	wantProblem(t, check("POST", "/v1/referrals/"+id+"/grounds", a.school, map[string]any{"ground": 3, "on": "2026-03-25", "evidence": "x"}), 403, "")
	mustStatus(t, check("POST", "/v1/referrals/"+id+"/grounds", a.sw, map[string]any{"ground": 3, "on": "2026-03-25", "evidence": evidence}), 200)

	last := lastPos(t, e)
	detail := check("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", id, last), a.sw, nil).JSON(t)
	eps := detail["dropouts"].([]any)
	if len(eps) != 3 {
		t.Fatalf("episodes %v", eps)
	}
	ep1 := eps[0].(map[string]any)
	if ep1["reported_on"] != "2026-03-03" || ep1["found_on"] != "2026-03-10" || ep1["returned_on"] != "2026-03-12" || ep1["closed_on"] != "2026-03-13" ||
		ep1["follow_ups"] != float64(2) || ep1["open"] != false || ep1["sub_reason_label"] != "家庭經濟因素" || ep1["outcome"] != "returned" {
		t.Fatalf("episode 1: %v", ep1)
	}
	if eps[2].(map[string]any)["open"] != true {
		t.Fatalf("episode 3: %v", eps[2])
	}
	g := detail["suspension_grounds"].(map[string]any)
	if g["as_of"] != "2026-04-01" || fmt.Sprint(g["detected"]) != "[5]" || fmt.Sprint(g["recorded"]) != "[3]" {
		t.Fatalf("grounds on the case: %v", g)
	}
	// The letter to the origin school.
	var letter bool
	for _, l := range detail["letters"].([]any) {
		if l.(map[string]any)["subject"] == "慈輝班學生中輟通知" && l.(map[string]any)["to_school"] == "034501" {
			letter = true
		}
	}
	if !letter {
		t.Fatalf("no dropout letter: %v", detail["letters"])
	}

	// The list as of a date: ground (5) from day 8 of episode 3, (4)
	// from day 21; ground (3) recorded on Mar 25.
	list := func(asOf string) string {
		t.Helper()
		body := check("GET", fmt.Sprintf("/v1/suspension-grounds?as_of=%s&min_position=%d", asOf, last), a.sw, nil).JSON(t)
		var got []string
		for _, it := range body["items"].([]any) {
			m := it.(map[string]any)
			if m["id"] == id {
				sg := m["suspension_grounds"].(map[string]any)
				got = append(got, fmt.Sprint(sg["recorded"], sg["detected"]))
			}
		}
		return strings.Join(got, ";")
	}
	for asOf, want := range map[string]string{
		"2026-03-24": "",          // day 4, and (3) not yet recorded: not listed
		"2026-03-27": "[3] []",    // day 7: no (5) yet; (3) recorded on Mar 25
		"2026-03-28": "[3] [5]",   // day 8
		"2026-04-09": "[3] [5]",   // day 20
		"2026-04-10": "[3] [4 5]", // day 21
	} {
		if got := list(asOf); got != want {
			t.Errorf("as of %s: %q, want %q", asOf, got, want)
		}
	}
	if body := check("GET", "/v1/suspension-grounds", a.sw, nil).JSON(t); body["as_of"] != "2026-04-01" {
		t.Fatalf("default as_of: %v", body["as_of"])
	}
	var listed bool
	for _, rec := range accessLog(t, e, a.admin, "case="+id) {
		listed = listed || rec["route"] == "/v1/suspension-grounds"
	}
	if !listed {
		t.Fatal("the suspension-grounds list is not in the access log")
	}
	wantProblem(t, check("GET", "/v1/suspension-grounds?as_of=2026-13-01", a.sw, nil), 400, "")
	wantProblem(t, check("GET", "/v1/suspension-grounds", a.school, nil), 403, "")
	// The timeline says what happened without the notes.
	tl := check("GET", fmt.Sprintf("/v1/referrals/%s/events?min_position=%d", id, last), a.sw, nil)
	if !strings.Contains(string(tl.Body), "第 1 次中輟") {
		t.Fatalf("timeline: %s", tl.Body)
	}

	// Sealed: the notes and the evidence are in no read-model table in
	// plaintext, and no event of the log holds them in the clear; they
	// open with the student's key.
	secrets := []string{note1, note2, note3, evidence}
	for _, table := range []string{"dropout_episodes", "suspension_grounds", "cases", "case_timeline", "letters", "case_visits"} {
		var rows []string
		if err := e.DB.Select(&rows, `SELECT to_jsonb(t)::text FROM `+table+` t`); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(strings.Join(rows, "\n"), s) {
				t.Errorf("table %s holds a note in plaintext", table)
			}
		}
	}
	ctx := context.Background()
	loaded, err := e.Store.Load(ctx, events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	var opened []string
	for _, env := range loaded.Events {
		var sealed events.Sealed
		switch p := env.Payload.(type) {
		case events.DropoutOpened:
			sealed = p.Note
		case events.DropoutFollowUpLogged:
			sealed = p.Note
		case events.SuspensionGroundRecorded:
			sealed = p.Evidence
		default:
			continue
		}
		if sealed.IsZero() {
			continue
		}
		var text string
		if err := e.Sealer.Open(ctx, sealed, &text); err != nil {
			t.Fatal(err)
		}
		opened = append(opened, text)
	}
	if !slices.Equal(opened, secrets) {
		t.Fatalf("opened %q, want %q", opened, secrets)
	}
	st, err := e.Store.JetStream().Stream(ctx, e.Store.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(m.Data), s) {
				t.Fatalf("event %d holds a note in the clear", seq)
			}
		}
	}

	// A rebuild from the log gives the same episodes and grounds.
	dump := func() string {
		t.Helper()
		var rows []string
		if err := e.DB.Select(&rows, `SELECT to_jsonb(d)::text FROM dropout_episodes d UNION ALL SELECT to_jsonb(g)::text FROM suspension_grounds g ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(rows, "\n")
	}
	before := dump()
	if strings.Count(before, "first_day_absent") != 3 || strings.Count(before, `"ground"`) != 1 {
		t.Fatalf("read model: %s", before)
	}
	e.StopProjector()
	if err := projections.Reset(ctx, e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if cp, err := projections.Checkpoint(ctx, e.DB); err == nil && cp >= info.State.LastSeq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rebuild did not reach the end of the log")
		}
	}
	if after := dump(); after != before {
		t.Fatalf("after a rebuild:\n%s\nbefore:\n%s", after, before)
	}
}
