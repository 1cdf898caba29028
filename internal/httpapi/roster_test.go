package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// R-SUS-1 decision (leaving), R-ENR-4, issue 10 "Exits": withdrawal is
// only for a place not yet taken up. On an enrolled student it is 422
// citing R-SUS-1 and changes nothing; an admitted student declines
// (end state declined, the first waiting case is offered the place); a
// waiting case leaves the list (end state withdrawn). The end state and
// its reason show on the case and in lists.
func TestR_SUS_1_WithdrawalOnlyForAPlaceNotTakenUp(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	enrolled := e.RecommendedCase("034501", domain.OutcomeRecommend)
	declining := e.RecommendedCase("034501", domain.OutcomeRecommend)
	waiting := e.RecommendedCase("034501", domain.OutcomeRecommend)
	leaving := e.RecommendedCase("034501", domain.OutcomeRecommend)
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	for _, id := range []string{enrolled, declining} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	for _, id := range []string{waiting, leaving} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "waitlist"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+enrolled+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+enrolled+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200)

	before := lastPos(t, e)
	r := e.Do("POST", "/v1/referrals/"+enrolled+"/withdrawal", a.sw, map[string]any{"reason": "left"})
	if r.Status != 422 || r.JSON(t)["rule"] != "R-SUS-1" || !strings.Contains(string(r.Body), "committee") {
		t.Fatalf("withdrawal of an enrolled student: %d %s", r.Status, r.Body)
	}
	if lastPos(t, e) != before {
		t.Fatal("a refused withdrawal recorded something")
	}

	mustStatus(t, e.Do("POST", "/v1/referrals/"+leaving+"/withdrawal", a.sw, map[string]any{"reason": "family moved"}), 200)
	if c := capacity(t, e, a.sw); len(waitingIDs(c)) != 1 || waitingIDs(c)[0] != waiting {
		t.Fatalf("waiting list after a waiting case left: %v", waitingIDs(c))
	}
	mustStatus(t, e.Do("POST", "/v1/referrals/"+declining+"/withdrawal", a.sw, map[string]any{"reason": "declined_place", "reporting_date": "2026-04-07"}), 200)
	if c := capacity(t, e, a.sw); len(waitingIDs(c)) != 0 || c["held"] != float64(2) {
		t.Fatalf("after the decline the waiting case holds the place: %v", c)
	}
	for id, want := range map[string]string{declining: "declined", leaving: "withdrawn"} {
		g := get(t, e, a.school, id)
		if g["stage"] != "left" || g["end_state"] != want || !strings.Contains(fmt.Sprint(g["end_reason"]), "R-SUS-1") || g["ended_on"] == nil {
			t.Fatalf("%s: stage %v end %v (%v) on %v", want, g["stage"], g["end_state"], g["end_reason"], g["ended_on"])
		}
	}
	if g := get(t, e, a.school, waiting); g["stage"] != "admitted" || g["end_state"] != nil {
		t.Fatalf("the offered case: %v %v", g["stage"], g["end_state"])
	}
	if g := get(t, e, a.school, enrolled); g["stage"] != "enrolled" || g["end_state"] != nil {
		t.Fatalf("the enrolled student: %v %v", g["stage"], g["end_state"])
	}
	list := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/referrals?status=left&min_position=%d", lastPos(t, e)), a.sw, nil), 200).JSON(t)
	states := map[string]bool{}
	for _, it := range list["items"].([]any) {
		states[fmt.Sprint(it.(map[string]any)["end_state"])] = true
	}
	if !states["declined"] || !states["withdrawn"] {
		t.Fatalf("the list shows end states %v", states)
	}
}

// R-CAP-1 (dated): GET /v1/capacity?on= answers for any date from the
// projected roster; a bad date is 400.
func TestR_CAP_1_CapacityOnADate(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	e.Clock.Set(e.Clock.Now().AddDate(0, 0, 40)) // 2026-03-23
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)
	for on, held := range map[string]int{"2026-03-22": 0, "2026-03-23": 1, "2027-07-31": 1, "2027-08-01": 0} {
		c := mustStatus(t, e.Do("GET", "/v1/capacity?on="+on, a.sw, nil), 200).JSON(t)
		if c["held"] != float64(held) || c["on"] != on || c["free"] != float64(135-held) {
			t.Fatalf("capacity on %s: %v (a grade-8 seat from the close to 2027-07-31)", on, c)
		}
	}
	mustStatus(t, e.Do("GET", "/v1/capacity?on=2026-02-30", a.sw, nil), 400)
}
