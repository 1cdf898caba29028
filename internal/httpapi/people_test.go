package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/testenv"
)

// invite invites a person through the API and returns their id.
func invite(t *testing.T, e *testenv.Env, admin string, body map[string]any) string {
	t.Helper()
	return mustStatus(t, e.Do("POST", "/v1/people", admin, body), 201).JSON(t)["id"].(string)
}

// issue issues a token to a person through the API.
func issue(t *testing.T, e *testenv.Env, admin, person string, body map[string]any) string {
	t.Helper()
	return mustStatus(t, e.Do("POST", "/v1/people/"+person+"/tokens", admin, body), 201).JSON(t)["token"].(string)
}

// Issue 14: an admin invites, changes, suspends and removes a person;
// every change is recorded with who (the admin's person id), when, before
// and after, and a refused change records nothing.
func TestPeople_ChangesAreRecordedWithWhoBeforeAndAfter(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin, adminTok := e.TokenWithID(domain.RoleAdmin, "")
	adminID := e.PersonOf(adminTok)
	id := invite(t, e, admin, map[string]any{"name": "林小文", "email": "lin@example.edu.tw",
		"roles": []any{map[string]any{"role": "social_worker"}, map[string]any{"role": "committee"}}})
	p := mustStatus(t, e.Do("GET", "/v1/people/"+id, admin, nil), 200).JSON(t)
	roles := p["roles"].([]any)
	if p["status"] != "active" || p["reminders"] != "weekly" || len(roles) != 2 ||
		roles[0].(map[string]any)["branch"] != domain.DefaultBranchCode {
		t.Fatalf("the invited person: %v", p)
	}
	mustStatus(t, e.Do("PATCH", "/v1/people/"+id, admin, map[string]any{"reminders": "daily"}), 200)
	mustStatus(t, e.Do("PATCH", "/v1/people/"+id, admin, map[string]any{"reminders": "hourly"}), 400)
	mustStatus(t, e.Do("POST", "/v1/people/"+id+"/suspension", admin, nil), 200)
	mustStatus(t, e.Do("DELETE", "/v1/people/"+id+"/suspension", admin, nil), 200)
	mustStatus(t, e.Do("DELETE", "/v1/people/"+id, admin, nil), 200)
	mustStatus(t, e.Do("PATCH", "/v1/people/"+id, admin, map[string]any{"name": "改名"}), 409)

	h := mustStatus(t, e.Do("GET", "/v1/people/"+id+"/history", admin, nil), 200).JSON(t)["items"].([]any)
	wantStatus := []string{"active", "active", "suspended", "active", "removed"}
	if len(h) != len(wantStatus) {
		t.Fatalf("%d changes recorded, want %d: %v", len(h), len(wantStatus), h)
	}
	for i, c := range h {
		ch := c.(map[string]any)
		if ch["actor_id"] != adminID || ch["actor_role"] != "admin" || ch["at"] == "" ||
			ch["after"].(map[string]any)["status"] != wantStatus[i] {
			t.Errorf("change %d: %v", i, ch)
		}
		if (i == 0) != (ch["before"] == nil) {
			t.Errorf("change %d: before %v", i, ch["before"])
		}
	}
	second := h[1].(map[string]any)
	if second["before"].(map[string]any)["reminders"] != "weekly" || second["after"].(map[string]any)["reminders"] != "daily" {
		t.Errorf("the reminders change: %v", second)
	}
	// Removed people are listed only on request.
	for _, q := range []struct {
		query string
		has   bool
	}{{"", false}, {"?removed=true", true}} {
		found := false
		for _, it := range mustStatus(t, e.Do("GET", "/v1/people"+q.query, admin, nil), 200).JSON(t)["items"].([]any) {
			found = found || it.(map[string]any)["id"] == id
		}
		if found != q.has {
			t.Errorf("GET /v1/people%s lists the removed person: %v", q.query, found)
		}
	}
}

// Issue 14 acceptance: a token of a removed person is refused at once; a
// suspended person's token is refused until they are reinstated; a token
// whose role the person no longer holds is refused.
func TestPeople_RemovedOrSuspendedPersonsTokenRefusedAtOnce(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.Token(domain.RoleAdmin, "")
	id := invite(t, e, admin, map[string]any{"name": "陳社工", "email": "chen@example.edu.tw",
		"roles": []any{map[string]any{"role": "social_worker"}, map[string]any{"role": "committee"}}})
	sw := issue(t, e, admin, id, map[string]any{"role": "social_worker", "branch": domain.DefaultBranchCode, "label": "laptop"})
	committee := issue(t, e, admin, id, map[string]any{"role": "committee", "label": "committee"})
	// A role the person does not hold is not issued.
	mustStatus(t, e.Do("POST", "/v1/people/"+id+"/tokens", admin, map[string]any{"role": "admin"}), 400)

	mustStatus(t, e.Do("GET", "/v1/capacity", sw, nil), 200)
	mustStatus(t, e.Do("GET", "/v1/capacity", committee, nil), 200)
	me := mustStatus(t, e.Do("GET", "/v1/me", committee, nil), 200).JSON(t)
	if me["person"].(map[string]any)["id"] != id || me["acting"].(map[string]any)["role"] != "committee" {
		t.Fatalf("/v1/me: %v", me)
	}

	mustStatus(t, e.Do("POST", "/v1/people/"+id+"/suspension", admin, nil), 200)
	mustStatus(t, e.Do("GET", "/v1/capacity", sw, nil), 401)
	mustStatus(t, e.Do("DELETE", "/v1/people/"+id+"/suspension", admin, nil), 200)
	mustStatus(t, e.Do("GET", "/v1/capacity", sw, nil), 200)

	// Taking the committee role away takes its token with it.
	mustStatus(t, e.Do("PATCH", "/v1/people/"+id, admin, map[string]any{"roles": []any{map[string]any{"role": "social_worker"}}}), 200)
	mustStatus(t, e.Do("GET", "/v1/capacity", committee, nil), 401)
	mustStatus(t, e.Do("GET", "/v1/capacity", sw, nil), 200)

	mustStatus(t, e.Do("DELETE", "/v1/people/"+id, admin, nil), 200)
	mustStatus(t, e.Do("GET", "/v1/capacity", sw, nil), 401)
	// And stays refused: removal revoked the tokens for good.
	mustStatus(t, e.Do("GET", "/v1/people/"+id+"/tokens", admin, nil), 200)
	if n := len(mustStatus(t, e.Do("GET", "/v1/people/"+id+"/tokens", admin, nil), 200).JSON(t)["items"].([]any)); n != 0 {
		t.Fatalf("a removed person keeps %d tokens", n)
	}
}

// Issue 14 acceptance: `actor` in events and access records carries the
// person's id, never their name; the access log names the person.
func TestPeople_ActorInEventsAndAccessLogIsThePersonsID(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.Token(domain.RoleAdmin, "")
	const name, email = "黃校方", "huang@example.edu.tw"
	id := invite(t, e, admin, map[string]any{"name": name, "email": email,
		"roles": []any{map[string]any{"role": "origin_school", "school": "034501"}}})
	school := issue(t, e, admin, id, map[string]any{"role": "origin_school", "school": "034501"})
	r := mustStatus(t, e.Do("POST", "/v1/referrals", school, `{"route":"mid_year","channel":"direct","grade":8,
		"student":{"name":"測試","sex":"M","birth_date":"2012-01-01","national_id":"`+testenv.NewNationalID()+`"},
		"guardian":{"name":"家長","relationship":"父"},"grounds":["low_income_risk"],
		"guardian_consent":true,"student_willing":true,"reason":"測試"}`), 201).JSON(t)
	caseID := r["id"].(string)
	loaded, err := e.Store.Load(context.Background(), events.StreamID{Branch: domain.DefaultBranchCode, Type: events.AggregateReferral, ID: caseID})
	if err != nil || len(loaded.Events) == 0 {
		t.Fatalf("loading the referral: %v", err)
	}
	for _, ev := range loaded.Events {
		if ev.Actor.UserID != id {
			t.Errorf("event %s: actor %v, want the person %s", ev.Type, ev.Actor, id)
		}
	}
	mustStatus(t, e.Do("GET", fmt.Sprintf("%s?min_position=%d", referralPath(caseID), uint64(r["position"].(float64))), school, nil), 200)
	recs := accessLog(t, e, admin, "actor="+id)
	if len(recs) != 1 || recs[0]["actor_person"] != id {
		t.Fatalf("the access log of the person: %v", recs)
	}
	all := mustStatus(t, e.Do("GET", "/v1/access-log?limit=1000", admin, nil), 200)
	if bytes.Contains(all.Body, []byte(name)) || bytes.Contains(all.Body, []byte(email)) {
		t.Fatal("the access log holds the person's name or e-mail")
	}
}

// Issue 14: staff names and e-mails are personal data too. A clash of
// e-mail addresses, a malformed one and a bad name are refused with
// messages that name the field, not the value.
func TestPeople_RefusalsNeverEchoNamesOrEmails(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	admin := e.Token(domain.RoleAdmin, "")
	const email = "wang.taken@example.edu.tw"
	invite(t, e, admin, map[string]any{"name": "王一", "email": email, "roles": []any{map[string]any{"role": "bureau"}}})
	for _, c := range []struct {
		body   map[string]any
		status int
		secret string
	}{
		{map[string]any{"name": "王二", "email": strings.ToUpper(email), "roles": []any{map[string]any{"role": "bureau"}}}, 409, "wang.taken"},
		{map[string]any{"name": "王三", "email": "王三 <not an address", "roles": []any{map[string]any{"role": "bureau"}}}, 400, "王三"},
		{map[string]any{"name": "王四\n第二行", "roles": []any{map[string]any{"role": "bureau"}}}, 400, "王四"},
		{map[string]any{"name": "王五", "roles": []any{map[string]any{"role": "origin_school"}}}, 400, "王五"},
		{map[string]any{"name": "王六", "roles": []any{map[string]any{"role": "social_worker", "branch": "nowhere"}}}, 400, "王六"},
	} {
		r := e.Do("POST", "/v1/people", admin, c.body)
		if r.Status != c.status || bytes.Contains(bytes.ToLower(r.Body), []byte(strings.ToLower(c.secret))) {
			t.Errorf("%v: %d %s", c.body, r.Status, r.Body)
		}
	}
	sw := e.Token(domain.RoleSocialWorker, "")
	mustStatus(t, e.Do("GET", "/v1/people", sw, nil), 403)
	mustStatus(t, e.Do("POST", "/v1/people", sw, map[string]any{"name": "x", "roles": []any{map[string]any{"role": "admin"}}}), 403)
}

// validated checks a response against the contract and marks its
// operation covered.
func validated(t *testing.T, router routers.Router, covered map[string]bool, method, path string, want int, r testenv.Response) testenv.Response {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	req, _ := http.NewRequest(method, "http://localhost"+path, nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the contract: %v", method, path, err)
	}
	covered[method+" "+route.Path] = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body: io.NopCloser(bytes.NewReader(r.Body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s → %d does not match the contract: %v\n%s", method, path, r.Status, err, r.Body)
	}
	return r
}

// Every /v1/people operation answers as the contract says.
func TestPeopleRoutesMatchTheContract(t *testing.T) {
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
	covered := map[string]bool{}
	check := func(method, path, token string, body any, want int) testenv.Response {
		t.Helper()
		return validated(t, router, covered, method, path, want, e.Do(method, path, token, body))
	}
	id := check("POST", "/v1/people", admin, map[string]any{"name": "測員", "email": "t@example.edu.tw",
		"roles": []any{map[string]any{"role": "bureau"}}}, 201).JSON(t)["id"].(string)
	check("POST", "/v1/people", admin, map[string]any{"name": ""}, 400)
	check("POST", "/v1/people", sw, map[string]any{"name": "x"}, 403)
	check("GET", "/v1/people", admin, nil, 200)
	check("GET", "/v1/people/"+id, admin, nil, 200)
	check("GET", "/v1/people/per_0000000000000000", admin, nil, 404)
	check("GET", "/v1/me", sw, nil, 200)
	check("PATCH", "/v1/people/"+id, admin, map[string]any{"reminders": "off"}, 200)
	tok := check("POST", "/v1/people/"+id+"/tokens", admin, map[string]any{"role": "bureau", "label": "desk"}, 201).JSON(t)
	check("GET", "/v1/people/"+id+"/tokens", admin, nil, 200)
	check("DELETE", "/v1/people/"+id+"/tokens/"+tok["id"].(string), admin, nil, 204)
	check("POST", "/v1/people/"+id+"/suspension", admin, nil, 200)
	check("DELETE", "/v1/people/"+id+"/suspension", admin, nil, 200)
	check("GET", "/v1/people/"+id+"/history", admin, nil, 200)
	check("POST", "/v1/people/"+id+"/password-reset", admin, nil, 200) // admin_people_reset.go
	check("DELETE", "/v1/people/"+id+"/totp", admin, nil, 204)
	check("DELETE", "/v1/people/"+id, admin, nil, 200)
	check("GET", "/v1/reminders/failures", admin, nil, 200)
	check("GET", "/v1/reminders/failures", sw, nil, 403)
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			if (strings.HasPrefix(path, "/v1/people") || path == "/v1/me" || path == "/v1/reminders/failures") && !covered[method+" "+path] {
				t.Errorf("%s %s is never validated against the contract", method, path)
			}
		}
	}
}
