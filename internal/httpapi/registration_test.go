package httpapi_test

import (
	"slices"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// R-ENR-2: a registration names a semester of the enrolment; the case
// detail lists each semester of the enrolment up to the current one
// without a registration, by the clock at read time.
func TestR_ENR_2_HTTPRegistrationsAndMissing(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	m := mustStatus(t, e.Do("POST", "/v1/meetings", a.committee, map[string]any{"academic_year": 114, "kind": "march", "date": "2026-03-23"}), 201).JSON(t)["id"].(string)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/open", a.committee, nil), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/close", a.committee, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200) // 2026-02-11: 114-2

	missing := func() []string {
		var out []string
		for _, s := range get(t, e, a.school, id)["admission"].(map[string]any)["missing_registrations"].([]any) {
			out = append(out, s.(string))
		}
		return out
	}
	if got := missing(); !slices.Equal(got, []string{"114-2"}) {
		t.Fatalf("missing registrations %v, want [114-2]", got)
	}
	path := "/v1/referrals/" + id + "/registrations"
	mustStatus(t, e.Do("POST", path, a.school, map[string]any{"semester": "abc-1"}), 400)
	for _, s := range []string{"114-1", "115-2"} {
		if r := e.Do("POST", path, a.school, map[string]any{"semester": s}); r.Status != 422 || r.JSON(t)["rule"] != "R-ENR-2" {
			t.Fatalf("semester %s: %d %s", s, r.Status, r.Body)
		}
	}
	mustStatus(t, e.Do("POST", path, a.school, map[string]any{"semester": "114-2"}), 200)
	if got := missing(); len(got) != 0 {
		t.Fatalf("missing registrations %v after 114-2, want none", got)
	}
	e.Clock.Set(time.Date(2026, 9, 1, 9, 0, 0, 0, domain.Taipei))
	if got := missing(); !slices.Equal(got, []string{"115-1"}) {
		t.Fatalf("on 2026-09-01: missing registrations %v, want [115-1]", got)
	}
}
