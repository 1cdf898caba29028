package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"cihui/internal/testenv"
)

// checkFunc validates one request and its response against the contract.
type checkFunc func(method, path, token string, body any, headers ...string) testenv.Response

// suspensionContractChecks takes an enrolled case through the 中止就讀
// procedure and a meeting that suspends it, validating each response
// (R-ENR-4, R-SUS-2..4) against the contract.
func suspensionContractChecks(t *testing.T, e *testenv.Env, check checkFunc, sw, committee, school, id string) {
	t.Helper()
	p := "/v1/referrals/" + id
	check("POST", p+"/adaptation-meetings", sw, `{"on":"2026-02-11","outcome":"continue","notes":"適應良好"}`)
	check("POST", p+"/adaptation-meetings", sw, `{"on":"2026-02-11","outcome":"continue","grounds":[6]}`) // 400
	check("POST", p+"/suspension", sw, `{"grounds":[2,6],"on":"2026-02-11","note":"評估"}`)                 // 422 R-SUS-1: no evidence yet
	check("POST", p+"/grounds", sw, `{"ground":2,"on":"2026-02-11","evidence":"不願就讀"}`)
	check("POST", p+"/grounds", sw, `{"ground":6,"on":"2026-02-11","evidence":"無法適應住宿"}`)
	check("POST", p+"/suspension", sw, `{"grounds":[2,6],"on":"2026-02-11","note":"評估"}`)
	check("POST", p+"/suspension", sw, `{"grounds":[7],"on":"2026-02-11"}`) // 400
	check("POST", p+"/suspension", sw, `{"grounds":[2],"on":"2026-02-11"}`) // 409: under way
	check("POST", p+"/suspension/report", sw, `{"on":"2026-02-11"}`)        // 422 R-SUS-2
	check("POST", p+"/suspension/visits", sw, `{"kind":"home","on":"2026-02-11","note":"家訪"}`)
	check("POST", p+"/suspension/visits", sw, `{"kind":"origin_school","on":"2026-02-11"}`)
	check("POST", p+"/suspension/visits", sw, `{"kind":"party","on":"2026-02-11"}`) // 400
	check("POST", p+"/suspension/report", sw, `{"on":"2026-02-11","report":"評估報告"}`)
	check("POST", p+"/appeals", school, `{"attendees":["parent"],"documents":1}`)
	r := check("POST", "/v1/meetings", committee, `{"academic_year":114,"kind":"extra","date":"2026-03-30"}`)
	meeting := r.JSON(t)["id"].(string)
	check("POST", "/v1/meetings/"+meeting+"/open", committee, "")
	last, _ := e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, last), committee, nil)
	check("POST", "/v1/meetings/"+meeting+"/resolutions", committee, `{"case_id":"`+id+`","resolution":"admit"}`)   // 422 R-SUS-3
	check("POST", "/v1/meetings/"+meeting+"/resolutions", committee, `{"case_id":"`+id+`","resolution":"suspend"}`) // 400: destination
	check("POST", "/v1/meetings/"+meeting+"/resolutions", committee, `{"case_id":"`+id+`","resolution":"suspend","destination":"origin_school"}`)
	check("POST", "/v1/meetings/"+meeting+"/close", committee, `{"reporting_date":"2026-04-07"}`)
	last, _ = e.Store.LastPosition(context.Background())
	check("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, last), committee, nil)
	check("GET", fmt.Sprintf("%s?min_position=%d", p, last), sw, nil)
	check("GET", fmt.Sprintf("/v1/referrals?status=suspended&min_position=%d", last), sw, nil)
}
