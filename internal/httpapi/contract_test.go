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
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/testenv"
)

// Every response of a realistic session is validated against the served
// contract: status, content type and body schema.
func TestResponsesMatchTheContract(t *testing.T) {
	spec, _, err := httpapi.Spec()
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	sw := e.Token(domain.RoleSocialWorker, "")

	covered := map[string]bool{}
	check := func(method, path, token string, body any, headers ...string) testenv.Response {
		t.Helper()
		r := e.Do(method, path, token, body, headers...)
		var reqBody []byte
		switch b := body.(type) {
		case string:
			reqBody = []byte(b)
		case nil:
		default:
			reqBody = []byte(fmt.Sprint(b))
		}
		req, _ := http.NewRequest(method, "http://localhost"+path, bytes.NewReader(reqBody))
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

	check("GET", "/healthz", "", nil)
	check("GET", "/readyz", "", nil)
	check("GET", "/openapi.json", "", nil)
	r := check("POST", "/v1/referrals", school, `{"route":"mid_year","channel":"direct","grade":8,
		"student":{"name":"測試","sex":"M","birth_date":"2012-01-01","national_id":"A123456789"},
		"guardian":{"name":"家長","relationship":"父"},"grounds":["low_income_risk"],
		"guardian_consent":true,"student_willing":true,"reason":"測試"}`)
	id := r.JSON(t)["id"].(string)
	pos := uint64(r.JSON(t)["position"].(float64))
	check("POST", "/v1/referrals", school, `{"route":"nope"}`) // 400
	check("POST", "/v1/referrals", "", `{}`)                   // 401
	check("POST", "/v1/referrals", sw, `{}`)                   // 403
	check("PUT", "/v1/referrals/"+id+"/documents/5", school, `{"pages":2,"issued_on":"2026-02-01"}`)
	check("PUT", "/v1/referrals/"+id+"/documents/5", sw, `{"conforms":true}`)
	check("PUT", "/v1/referrals/"+id+"/documents/6", sw, `{"conforms":true}`)                    // 422 not submitted
	check("PUT", "/v1/referrals/"+id+"/documents/5", sw, `{"conforms":true}`, "If-Match", `"1"`) // 412
	check("PUT", "/v1/referrals/"+id+"/categories", school, `{"family_background":"single_parent","identity":["indigenous"]}`)
	check("PUT", "/v1/referrals/"+id+"/categories", sw, `{"identity":["nope"]}`)                          // 400
	check("PUT", "/v1/referrals/"+id+"/categories", e.Token(domain.RoleCommittee, ""), `{"identity":[]}`) // 403
	check("POST", "/v1/referrals", e.Token(domain.RoleOriginSchool, "034502"), `{"route":"mid_year","channel":"direct","grade":8,
		"student":{"name":"測試","sex":"M","birth_date":"2012-01-01","national_id":"A123456789"},
		"guardian":{"name":"家長","relationship":"父"},"grounds":["low_income_risk"],
		"guardian_consent":true,"student_willing":true,"reason":"測試","categories":{"family_background":"no_parent","identity":[]}}`) // flagged (R-CAP-1)
	check("POST", "/v1/referrals", school, `{"route":"mid_year","channel":"direct","grade":8,
		"student":{"name":"測試","sex":"M","birth_date":"2012-01-01","national_id":"A123456789"},
		"guardian":{"name":"家長","relationship":"父"},"grounds":["low_income_risk"],
		"guardian_consent":true,"student_willing":true,"reason":"測試"}`) // 409 R-CAP-1
	check("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", id, pos+2), school, nil)
	check("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", id, pos+5), sw, nil)
	check("GET", "/v1/referrals/"+id+"/events", sw, nil)
	check("GET", "/v1/referrals?limit=10", sw, nil)
	check("GET", "/v1/referrals?limit=0", sw, nil)                       // 400
	check("GET", "/v1/referrals/raaaaaaaaaaaaaaaaaaaaaaaa", school, nil) // 404
	check("GET", "/v1/referrals/nope", school, nil)                      // 400: not a referral id
	check("GET", "/v1/referrals?cursor=nope", sw, nil)                   // 400: invalid cursor
	check("GET", "/v1/meetings?academic_year=-99999999999", sw, nil)     // 400
	check("POST", "/v1/referrals/"+id+"/home-visits", sw, `{"kind":"visit","on":"2026-02-11","note":"n"}`)
	check("POST", "/v1/referrals/"+id+"/home-visits", sw, `{"kind":"party","on":"2026-02-11"}`) // 400
	check("POST", "/v1/referrals/"+id+"/first-review", sw, `{"outcome":"recommend"}`)           // 422
	check("POST", "/v1/referrals/"+id+"/return", sw, `{"note":"缺件"}`)
	check("POST", "/v1/referrals/"+id+"/resubmission", school, "")                                       // 422: still incomplete (R-MID-3)
	check("POST", "/v1/referrals/"+id+"/acceptance", sw, `{"special_reason":"特殊原因","owed_items":[1,2]}`) // 422: returned
	check("GET", "/v1/home-visits/queue", sw, nil)
	check("GET", "/v1/home-visits/queue", school, nil) // 403
	check("GET", "/v1/calendar/workdays?from=2026-02-11&add=10", sw, nil)
	check("GET", "/v1/calendar/workdays?from=2040-02-11", sw, nil) // 422
	admin := e.Token(domain.RoleAdmin, "")
	check("POST", "/v1/calendar/closures", admin, `{"date":"2026-02-24","reason":"颱風"}`)
	check("PUT", "/v1/calendar/2026", admin, "garbage") // 400
	last0, _ := e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", id, last0), school, nil)

	committee := e.Token(domain.RoleCommittee, "")
	bureau := e.Token(domain.RoleBureau, "")
	rec := e.RecommendedCase("034501", domain.OutcomeRecommend)
	disc := e.RecommendedCase("034501", domain.OutcomeDiscuss)
	r = check("POST", "/v1/meetings", committee, `{"academic_year":114,"kind":"march","date":"2026-03-23"}`)
	meeting := r.JSON(t)["id"].(string)
	check("POST", "/v1/meetings", committee, `{"academic_year":114,"kind":"sometime","date":"2026-03-23"}`) // 400
	check("POST", "/v1/meetings/"+meeting+"/open", committee, "")
	check("POST", "/v1/referrals/"+disc+"/appeals", school, `{"attendees":["parent","school"],"documents":1}`)
	check("POST", "/v1/meetings/"+meeting+"/resolutions", committee, `{"case_id":"`+rec+`","resolution":"admit"}`)
	check("POST", "/v1/meetings/"+meeting+"/resolutions", committee, `{"case_id":"`+disc+`","resolution":"waitlist"}`)
	last, _ := e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/meetings?min_position=%d", last), committee, nil)
	check("GET", "/v1/meetings/"+meeting, bureau, nil)
	check("GET", "/v1/meetings/"+meeting+"/docket", sw, nil)
	check("POST", "/v1/meetings/"+meeting+"/close", committee, `{"reporting_date":"2026-04-07"}`)
	check("GET", "/v1/capacity", sw, nil)
	check("POST", "/v1/referrals/"+rec+"/health-check", sw, `{"examined_on":"2026-02-01"}`)
	check("POST", "/v1/referrals/"+rec+"/enrolment", sw, `{"grade":8,"class":"8-1"}`)
	check("POST", "/v1/referrals/"+rec+"/registrations", school, `{"semester":"114-2"}`)
	// Duties (issue 10).
	check("POST", "/v1/referrals/"+rec+"/network-notices", school, `{"result":"admitted"}`)
	check("POST", "/v1/referrals/"+rec+"/network-notices", school, `{"result":"rejected"}`) // 422
	check("POST", "/v1/referrals/"+rec+"/accompaniment", school, `{"by":"staff","on":"2026-02-11"}`)
	check("POST", "/v1/referrals/"+rec+"/records-sent", sw, `{"semester":"114-2","kinds":["grades"]}`)
	check("POST", "/v1/referrals/"+rec+"/leave-assistance", school, "") // 422: not suspended
	check("POST", "/v1/co-counselling-visits", school, `{"cases":[{"case_id":"`+rec+`","note":"共同輔導"}]}`)
	check("POST", "/v1/co-counselling-visits", school, `{"cases":[]}`) // 400
	check("POST", "/v1/filings/admitted", bureau, `{"meeting_id":"`+meeting+`"}`)
	last, _ = e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/duties?as_of=2026-08-05&min_position=%d", last), school, nil)
	check("GET", "/v1/duties?kind=nope", sw, nil) // 400
	check("GET", fmt.Sprintf("/v1/letters?limit=10&min_position=%d", last), school, nil)
	check("GET", "/v1/letters?cursor=x", school, nil)                 // 400
	suspensionContractChecks(t, e, check, sw, committee, school, rec) // suspension_contract_test.go
	check("POST", "/v1/referrals/"+rec+"/withdrawal", sw, `{"reason":"left","reporting_date":"2026-04-07"}`)
	check("GET", "/v1/capacity?on=2026-08-01", sw, nil)
	check("POST", "/v1/referrals/"+disc+"/major-reason", sw, `{"reason":"重大事由"}`)
	check("POST", "/v1/academic-years/114/roll-over", sw, "")
	check("POST", "/v1/academic-years/114/classes/confirmation", sw, "")
	last, _ = e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", disc, last), school, nil)
	check("GET", fmt.Sprintf("/v1/filings/admitted?academic_year=114&min_position=%d", last), bureau, nil)

	check("POST", "/v1/referrals/"+rec+"/erasure", admin, `{"reason":"entered_in_error"}`)
	check("POST", "/v1/referrals/"+rec+"/erasure", admin, `{"reason":"because"}`) // 400
	check("POST", "/v1/referrals/"+disc+"/legal-hold", admin, `{"reason":"litigation","note":"測試"}`)
	check("POST", "/v1/referrals/"+disc+"/legal-hold", admin, `{"reason":"audit"}`) // 409
	check("DELETE", "/v1/referrals/"+disc+"/legal-hold", admin, nil)
	last, _ = e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/referrals/%s/export?min_position=%d", disc, last), admin, nil)
	check("GET", "/v1/retention/due", admin, nil)
	check("POST", "/v1/retention/runs", admin, nil)
	check("GET", "/v1/projections/quarantine", admin, nil)
	check("POST", "/v1/projections/quarantine/retry", admin, nil)
	check("POST", "/v1/projections/quarantine/1/retry", admin, nil) // 404
	check("GET", "/v1/access-log?limit=5", admin, nil)
	check("GET", "/v1/access-log?limit=0", admin, nil) // 400

	check("GET", "/metrics", "", nil)
	// Every operation of the contract is exercised: here, or (the branch
	// routes) in TestBranchRoutesMatchTheContract, (dropouts and grounds)
	// in TestR_ORG_4_DropoutEpisodesHTTP, (people) in
	// TestPeopleRoutesMatchTheContract, (sign-in) in
	// TestSignInRoutesMatchTheContract and TestSignIn_OpenIDConnect,
	// (statistics) in TestR_STAT_1_ConstructedYearHTTP.
	for path, item := range spec.Paths.Map() {
		for method := range item.Operations() {
			if !covered[method+" "+path] && !strings.HasPrefix(path, "/v1/branches") && !coveredByDropoutTest(path) && !coveredByAwardTest(path) && !coveredByStatisticsTest(path) &&
				!strings.HasPrefix(path, "/v1/people") && path != "/v1/me" && !strings.HasPrefix(path, "/v1/me/") &&
				!strings.HasPrefix(path, "/auth/") && !strings.HasPrefix(path, "/v1/sessions") && path != "/v1/reminders/failures" {
				t.Errorf("%s %s is never validated against the contract", method, path)
			}
		}
	}

	m := e.Do("GET", "/metrics", "", nil)
	if m.Status != 200 || !strings.Contains(string(m.Body), "cihui_http_requests_total") {
		t.Fatalf("metrics: %d", m.Status)
	}
	for _, secret := range []string{"A123456789", "測試"} {
		if strings.Contains(string(m.Body), secret) {
			t.Fatalf("metrics expose personal data")
		}
	}
}
