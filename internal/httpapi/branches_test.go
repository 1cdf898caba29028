package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/postgres"
	"cihui/internal/testenv"
)

// Issue 12, branch administration: a second branch added through the API
// with its own school, social worker and committee keeps its cases, its
// home-visit queue, its docket and its capacity apart from the first, and
// its settings take effect without a restart.
func TestSecondBranchAddedThroughTheAPIIsKeptApart(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	const second = "nanshan"
	r := mustStatus(t, e.Do("PUT", "/v1/branches/"+second, a.admin, map[string]any{
		"name": "南山分校", "committee": "某市復學輔導就讀小組", "cap": 40,
	}), http.StatusCreated)
	if b := r.JSON(t); b["cap"] != float64(40) || b["class_norms"].(map[string]any)["max_per_class"] != float64(20) {
		t.Fatalf("added branch: %s", r.Body)
	}
	school2 := e.TokenIn(second, domain.RoleOriginSchool, "034599")
	sw2 := e.TokenIn(second, domain.RoleSocialWorker, "")
	committee2 := e.TokenIn(second, domain.RoleCommittee, "")

	// Cases: one recommended in each branch, one fresh referral in each.
	first1 := e.RecommendedCase("034501", domain.OutcomeRecommend)
	second1 := e.ReviewedCaseIn(second, "034599", domain.OutcomeRecommend, "B123456780")
	second2 := e.ReviewedCaseIn(second, "034599", domain.OutcomeRecommend, "C123456781")
	fresh1 := mustStatus(t, e.Do("POST", "/v1/referrals", a.school, testenv.ValidReferral("D123456782")), http.StatusCreated).JSON(t)["id"].(string)
	fresh2 := mustStatus(t, e.Do("POST", "/v1/referrals", school2, testenv.ValidReferral("E123456783")), http.StatusCreated).JSON(t)["id"].(string)
	q := fmt.Sprintf("?min_position=%d", lastPos(t, e))

	ids := func(token, path, key string) []string {
		t.Helper()
		var out []string
		for _, it := range mustStatus(t, e.Do("GET", path+q, token, nil), 200).JSON(t)[key].([]any) {
			m := it.(map[string]any)
			id, _ := m["id"].(string)
			if id == "" {
				id, _ = m["case_id"].(string)
			}
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	if got := ids(sw2, "/v1/referrals", "items"); !slices.Equal(got, sorted(second1, second2, fresh2)) {
		t.Fatalf("the second branch's cases: %v", got)
	}
	if got := ids(a.sw, "/v1/referrals", "items"); !slices.Equal(got, sorted(first1, fresh1)) {
		t.Fatalf("the first branch's cases: %v", got)
	}
	if r := e.Do("GET", "/v1/referrals/"+first1+q, sw2, nil); r.Status != http.StatusNotFound {
		t.Fatalf("the second branch's social worker reads a first-branch case: %d", r.Status)
	}
	if got := ids(sw2, "/v1/home-visits/queue", "items"); !slices.Equal(got, []string{fresh2}) {
		t.Fatalf("the second branch's home-visit queue: %v", got)
	}
	if got := ids(a.sw, "/v1/home-visits/queue", "items"); !slices.Equal(got, []string{fresh1}) {
		t.Fatalf("the first branch's home-visit queue: %v", got)
	}

	// Dockets: each committee sees its own branch's recommended cases.
	m2 := scheduleAndOpen(t, e, committee2, "march", "2026-03-23")
	m1 := scheduleAndOpen(t, e, a.committee, "march", "2026-03-24")
	q = fmt.Sprintf("?min_position=%d", lastPos(t, e))
	if got := ids(committee2, "/v1/meetings/"+m2+"/docket", "cases"); !slices.Equal(got, sorted(second1, second2)) {
		t.Fatalf("the second branch's docket: %v", got)
	}
	if got := ids(a.committee, "/v1/meetings/"+m1+"/docket", "cases"); !slices.Equal(got, []string{first1}) {
		t.Fatalf("the first branch's docket: %v", got)
	}
	if r := e.Do("GET", "/v1/meetings/"+m1+"/docket"+q, committee2, nil); r.Status != http.StatusNotFound {
		t.Fatalf("the second committee reads the first branch's docket: %d", r.Status)
	}
	for _, id := range []string{second1, second2} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+m2+"/resolutions", committee2, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m2+"/close", committee2, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)

	// Capacity: the second branch holds two seats of its 40; the first none of 135.
	if c := capacity(t, e, sw2); c["cap"] != float64(40) || c["admitted_awaiting_enrolment"] != float64(2) || c["free"] != float64(38) {
		t.Fatalf("the second branch's capacity: %v", c)
	}
	if c := capacity(t, e, a.sw); c["cap"] != float64(135) || c["admitted_awaiting_enrolment"] != float64(0) {
		t.Fatalf("the first branch's capacity: %v", c)
	}

	// R-CAP-1: the cap may not fall below the seats held; a cap of 2 may,
	// and takes effect at once (no restart).
	if r := e.Do("PUT", "/v1/branches/"+second, a.admin, map[string]any{"cap": 1}); r.Status != 422 || r.JSON(t)["rule"] != "R-CAP-1" {
		t.Fatalf("cap below the seats held: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("PUT", "/v1/branches/"+second, a.admin, map[string]any{"cap": 2}), 200)
	if c := capacity(t, e, sw2); c["cap"] != float64(2) || c["free"] != float64(0) {
		t.Fatalf("capacity after the cap changed: %v", c)
	}

	// Staff read their own branch only; the list and the history are an admin's.
	mustStatus(t, e.Do("GET", "/v1/branches/"+second, sw2, nil), 200)
	mustStatus(t, e.Do("GET", "/v1/branches/"+domain.DefaultBranchCode, sw2, nil), http.StatusNotFound)
	mustStatus(t, e.Do("GET", "/v1/branches", sw2, nil), http.StatusForbidden)
	mustStatus(t, e.Do("PUT", "/v1/branches/"+second, sw2, map[string]any{"cap": 30}), http.StatusForbidden)
	list := mustStatus(t, e.Do("GET", "/v1/branches", a.admin, nil), 200).JSON(t)["items"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["code"] != second || list[1].(map[string]any)["code"] != domain.DefaultBranchCode {
		t.Fatalf("branches: %v", list)
	}
}

// Issue 12: every change is recorded with who made it, when, before and
// after; refused changes record nothing.
func TestBranchChangesAreRecorded(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin, adminID := e.TokenWithID(domain.RoleAdmin, "")
	path := "/v1/branches/" + domain.DefaultBranchCode
	mustStatus(t, e.Do("PUT", path, admin, map[string]any{
		"overrides": map[string]any{"115": map[string]any{"start_of_year": map[string]any{"opens": "2026-04-07", "closes": "2026-05-20"}}},
	}), 200)
	mustStatus(t, e.Do("PUT", path, admin, map[string]any{"cap": 130}), 200)
	mustStatus(t, e.Do("PUT", path, admin, map[string]any{"cap": 0}), 400)

	h := mustStatus(t, e.Do("GET", path+"/history", admin, nil), 200).JSON(t)["items"].([]any)
	if len(h) != 2 {
		t.Fatalf("%d changes recorded, want 2", len(h))
	}
	last := h[1].(map[string]any)
	if last["actor_id"] != e.PersonOf(adminID) || last["actor_role"] != "admin" || last["at"] == "" ||
		last["before"].(map[string]any)["cap"] != float64(135) || last["after"].(map[string]any)["cap"] != float64(130) {
		t.Fatalf("the recorded change: %v", last)
	}
	first := h[0].(map[string]any)["after"].(map[string]any)["overrides"].(map[string]any)["115"].(map[string]any)
	if first["start_of_year"].(map[string]any)["closes"] != "2026-05-20" {
		t.Fatalf("the recorded override: %v", first)
	}
	// The override is the window commands use now.
	b, _ := e.App.Branches(domain.DefaultBranchCode)
	if w := b.Window(domain.RouteStartOfYear, 115); w.Closes.String() != "2026-05-20" || b.Cap != 130 {
		t.Fatalf("the service reads window %v cap %d", w, b.Cap)
	}
}

// Issue 12: malformed settings are 400 with per-field errors; settings
// that break R-CAP-2 are 422 with the rule id; neither changes anything.
func TestBranchSettingsAreValidated(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.Token(domain.RoleAdmin, "")
	path := "/v1/branches/" + domain.DefaultBranchCode
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"a window closing before it opens", map[string]any{"overrides": map[string]any{"115": map[string]any{"mid_year": map[string]any{"opens": "2026-07-01", "closes": "2026-06-30"}}}}, "overrides.115.mid_year"},
		{"a date that does not exist", map[string]any{"overrides": map[string]any{"115": map[string]any{"mid_year": map[string]any{"opens": "2026-02-30", "closes": "2027-02-28"}}}}, "overrides.115.mid_year.opens"},
		{"a rule closing before it opens", map[string]any{"start_of_year": map[string]any{"open": map[string]any{"month": 5, "day": 14}, "close": map[string]any{"month": 4, "day": 12}}}, "start_of_year"},
		{"a month-day that does not exist", map[string]any{"mid_year": map[string]any{"open": map[string]any{"month": 2, "day": 29}, "close": map[string]any{"month": 3, "day": 1}}}, "mid_year.open"},
		{"a code in the body not the path's", map[string]any{"code": "other"}, "code"},
		{"an empty name", map[string]any{"name": " "}, "name"},
		{"a year that is not an academic year", map[string]any{"overrides": map[string]any{"2026": map[string]any{}}}, "overrides"},
		{"min above max", map[string]any{"class_norms": map[string]any{"classes": 8, "min_classes_per_grade": 3, "max_classes_per_grade": 2, "min_per_class": 12, "max_per_class": 20}}, "class_norms.min_classes_per_grade"},
	} {
		r := e.Do("PUT", path, admin, tc.body)
		if r.Status != 400 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			continue
		}
		if errs, _ := r.JSON(t)["errors"].(map[string]any); errs[tc.field] == nil {
			t.Errorf("%s: no error for %s: %s", tc.name, tc.field, r.Body)
		}
	}
	mustStatus(t, e.Do("PUT", "/v1/branches/bad.code", admin, map[string]any{"cap": 3}), 400)

	// R-CAP-2: 12–20 per class, 2–3 classes per grade, a cap the classes hold.
	for name, body := range map[string]map[string]any{
		"10 per class": {"class_norms": map[string]any{"classes": 8, "min_classes_per_grade": 2, "max_classes_per_grade": 3, "min_per_class": 10, "max_per_class": 20}},
		"4 per grade":  {"class_norms": map[string]any{"classes": 8, "min_classes_per_grade": 2, "max_classes_per_grade": 4, "min_per_class": 12, "max_per_class": 20}},
		"12 classes":   {"class_norms": map[string]any{"classes": 12, "min_classes_per_grade": 2, "max_classes_per_grade": 3, "min_per_class": 12, "max_per_class": 20}},
		"cap 200":      {"cap": 200},
	} {
		if r := e.Do("PUT", path, admin, body); r.Status != 422 || r.JSON(t)["rule"] != "R-CAP-2" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if h := mustStatus(t, e.Do("GET", path+"/history", admin, nil), 200).JSON(t)["items"].([]any); len(h) != 0 {
		t.Fatalf("refused changes recorded %d changes", len(h))
	}
	if b, _ := e.App.Branches(domain.DefaultBranchCode); b.Cap != 135 || b.ClassNorms != domain.DefaultClassNorms() {
		t.Fatalf("refused changes changed the branch: %+v", b)
	}
}

// The branch routes' responses, good and bad, match the served contract.
func TestBranchRoutesMatchTheContract(t *testing.T) {
	spec, _, err := httpapi.Spec()
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := testenv.New(t, testenv.Options{})
	admin := e.Token(domain.RoleAdmin, "")
	sw := e.Token(domain.RoleSocialWorker, "")
	check := func(method, path, token string, body any, want int) {
		t.Helper()
		r := e.Do(method, path, token, body)
		if r.Status != want {
			t.Errorf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
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
	}
	check("PUT", "/v1/branches/nanshan", admin, map[string]any{"name": "南山分校", "committee": "小組", "cap": 40,
		"overrides": map[string]any{"115": map[string]any{"mid_year": map[string]any{"opens": "2026-07-01", "closes": "2027-03-01"}}}}, 201)
	check("PUT", "/v1/branches/nanshan", admin, map[string]any{"cap": 41}, 200)
	check("PUT", "/v1/branches/nanshan", admin, map[string]any{"cap": -1}, 400)
	check("PUT", "/v1/branches/nanshan", admin, map[string]any{"cap": 400}, 422)
	check("PUT", "/v1/branches/nanshan", sw, map[string]any{"cap": 41}, 403)
	check("PUT", "/v1/branches/brandnew", admin, map[string]any{"cap": 41}, 400) // a new branch names itself
	check("GET", "/v1/branches", admin, nil, 200)
	check("GET", "/v1/branches/nanshan", admin, nil, 200)
	check("GET", "/v1/branches/"+domain.DefaultBranchCode, sw, nil, 200)
	check("GET", "/v1/branches/nanshan", sw, nil, 404)
	check("GET", "/v1/branches/nanshan/history", admin, nil, 200)
	check("GET", "/v1/branches/nanshan/history", sw, nil, 403)
	check("GET", "/v1/branches", "", nil, 401)
}

// Issue 12, R-MTG-1: a branch's meeting months are what scheduling warns
// against, changed without a restart.
func TestBranchMeetingMonthsTakeEffect(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	schedule := func(date string) []any {
		t.Helper()
		r := mustStatus(t, e.Do("POST", "/v1/meetings", a.committee, map[string]any{"academic_year": 114, "kind": "march", "date": date}), http.StatusCreated)
		return r.JSON(t)["warnings"].([]any)
	}
	if w := schedule("2026-04-13"); len(w) != 1 {
		t.Fatalf("a march meeting in April, default months: warnings %v", w)
	}
	mustStatus(t, e.Do("PUT", "/v1/branches/"+domain.DefaultBranchCode, a.admin, map[string]any{"meeting_months": map[string]any{"march": 4}}), 200)
	if b, _ := e.App.Branches(domain.DefaultBranchCode); b.MeetingMonths["october"] != 10 || b.MeetingMonths["march"] != 4 {
		t.Fatalf("meeting months after moving march: %v", b.MeetingMonths)
	}
	if w := schedule("2026-04-14"); len(w) != 0 {
		t.Fatalf("a march meeting in April, months moved to April: warnings %v", w)
	}
	if r := e.Do("PUT", "/v1/branches/"+domain.DefaultBranchCode, a.admin, map[string]any{"meeting_months": map[string]any{"march": 13}}); r.Status != 400 {
		t.Fatalf("month 13: %d %s", r.Status, r.Body)
	}
}

// Issue 12: two admins changing a branch from the same settings: the
// second change is refused (409), never silently lost.
func TestBranchConcurrentChangeIsAConflict(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "t1"}
	ctx := t.Context()
	base, err := e.App.GetBranch(ctx, admin, domain.DefaultBranchCode)
	if err != nil {
		t.Fatal(err)
	}
	first, second := base, base
	first.Cap, second.Name = 120, "另一個名稱"
	if _, err := e.App.ConfigureBranch(ctx, admin, domain.BranchPut, &base, first); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.ConfigureBranch(ctx, admin, domain.BranchPut, &base, second); domain.ErrorCode(err) != domain.EConflict {
		t.Fatalf("a change from stale settings: %v, want a conflict", err)
	}
	if b, _ := e.App.Branches(domain.DefaultBranchCode); b.Cap != 120 || b.Name != base.Name {
		t.Fatalf("after the conflict: cap %d name changed %v", b.Cap, b.Name != base.Name)
	}
}

// Issue 12, "takes effect without a restart", for another API instance:
// its cache over the same database serves the change within its TTL.
func TestBranchChangeReachesAnotherInstance(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	other := app.NewBranchCache(postgres.NewBranches(e.DB), 50*time.Millisecond)
	if b, ok := other.Get(domain.DefaultBranchCode); !ok || b.Cap != 135 {
		t.Fatalf("the other instance reads %v %d", ok, b.Cap)
	}
	admin := e.Token(domain.RoleAdmin, "")
	mustStatus(t, e.Do("PUT", "/v1/branches/"+domain.DefaultBranchCode, admin, map[string]any{"cap": 100}), 200)
	deadline := time.Now().Add(2 * time.Second)
	for {
		if b, _ := other.Get(domain.DefaultBranchCode); b.Cap == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other instance still serves the old cap after 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
