package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// lastLetter returns a case's letters count and its last letter.
func lastLetter(t *testing.T, e *testenv.Env, token, id string) (int, map[string]any) {
	t.Helper()
	ls := get(t, e, token, id)["letters"].([]any)
	if len(ls) == 0 {
		return 0, nil
	}
	return len(ls), ls[len(ls)-1].(map[string]any)
}

func wantRule(t *testing.T, r testenv.Response, rule, what string) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity || r.JSON(t)["rule"] != rule {
		t.Fatalf("%s: %d %s, want 422 %s", what, r.Status, r.Body, rule)
	}
}

// R-SOY-6 (Decision): the reporting date is set by the branch: the
// committee's close carries it, and so does the social worker's offer of a
// freed place. It must be a working day of the office calendar on or
// after the close or the offer; the system proposes none of its own, so a
// close that admits anyone, or an offer, without one is refused and
// changes nothing. The admission letter shows it.
func TestR_SOY_6_ReportingDateFromTheCloseAndTheOffer(t *testing.T) {
	e := testenv.New(t, testenv.Options{Cap: 1}) // today 2026-02-11
	a := newActors(e)
	first := e.RecommendedCase("034501", domain.OutcomeRecommend)
	second := e.RecommendedCase("034501", domain.OutcomeRecommend)
	m := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	for _, id := range []string{first, second} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	closePath := "/v1/meetings/" + m + "/close"
	wantRule(t, e.Do("POST", closePath, a.committee, nil), "R-SOY-6", "a close admitting without a reporting date")
	wantRule(t, e.Do("POST", closePath, a.committee, map[string]any{"reporting_date": "2026-02-28"}), "R-SOY-6", "a reporting date on a day off (Saturday, 和平紀念日)")
	wantRule(t, e.Do("POST", closePath, a.committee, map[string]any{"reporting_date": "2026-02-27"}), "R-SOY-6", "a reporting date on 2026-02-27 (和平紀念日 observed)")
	wantRule(t, e.Do("POST", closePath, a.committee, map[string]any{"reporting_date": "2026-02-10"}), "R-SOY-6", "a reporting date before the close")
	mustStatus(t, e.Do("POST", closePath, a.committee, map[string]any{"reporting_date": "2026-04-3"}), http.StatusBadRequest)
	if got := get(t, e, a.school, first); got["stage"] != "recommended" {
		t.Fatalf("a refused close changed the case: %v", got["stage"])
	}

	mustStatus(t, e.Do("POST", closePath, a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	got := get(t, e, a.school, first)
	if got["stage"] != "admitted" || got["admission"].(map[string]any)["report_by"] != "2026-04-07" {
		t.Fatalf("admitted case: %v %v", got["stage"], got["admission"])
	}
	if _, l := lastLetter(t, e, a.school, first); l["to_school"] != "034501" || !strings.Contains(l["next_step"].(string), "民國115年4月7日") {
		t.Fatalf("admission letter: %v", l)
	}
	if got := get(t, e, a.school, second); got["stage"] != "waitlisted" {
		t.Fatalf("second case: %v", got["stage"])
	}

	// The place is declined: the offer to the first on the waiting list
	// carries its reporting date, a working day on or after today.
	wd := "/v1/referrals/" + first + "/withdrawal"
	wantRule(t, e.Do("POST", wd, a.sw, map[string]any{"reason": "declined_place"}), "R-SOY-6", "an offer without a reporting date")
	wantRule(t, e.Do("POST", wd, a.sw, map[string]any{"reason": "declined_place", "reporting_date": "2026-04-04"}), "R-SOY-6", "an offer reporting on a Saturday")
	wantRule(t, e.Do("POST", wd, a.sw, map[string]any{"reason": "declined_place", "reporting_date": "2026-02-10"}), "R-SOY-6", "an offer reporting before today")
	if got := get(t, e, a.school, first); got["stage"] != "admitted" {
		t.Fatalf("a refused withdrawal changed the case: %v", got["stage"])
	}
	mustStatus(t, e.Do("POST", wd, a.sw, map[string]any{"reason": "declined_place", "reporting_date": "2026-04-08"}), 200)
	got = get(t, e, a.school, second)
	if got["stage"] != "admitted" || got["admission"].(map[string]any)["report_by"] != "2026-04-08" {
		t.Fatalf("offered case: %v %v", got["stage"], got["admission"])
	}
	if _, l := lastLetter(t, e, a.school, second); !strings.Contains(l["outcome"].(string), "候補遞補") || !strings.Contains(l["next_step"].(string), "民國115年4月8日") {
		t.Fatalf("offer letter: %v", l)
	}
	// No one waits: a release offers nothing and needs no date.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+second+"/withdrawal", a.sw, map[string]any{"reason": "left"}), 200)
}

// R-MTG-2 (Decision): not-passed cases nobody appealed reach the committee,
// which confirms (reject) or overturns them (waitlist, admit); every
// resolution sends one letter to the origin school with its result, the
// admission's with the reporting date (R-SOY-6).
func TestR_MTG_2_EveryResolutionSendsALetter(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	rejected := e.RecommendedCase("034501", domain.OutcomeNotEligible)
	waiting := e.RecommendedCase("034501", domain.OutcomeNotEligible)
	admitted := e.RecommendedCase("034501", domain.OutcomeNotEligible)
	m := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	d := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", m, lastPos(t, e)), a.sw, nil), 200).JSON(t)
	if cs := d["cases"].([]any); len(cs) != 3 {
		t.Fatalf("docket: %v, want the three not-passed cases", cs)
	}
	before := map[string]int{}
	for _, id := range []string{rejected, waiting, admitted} {
		before[id], _ = lastLetter(t, e, a.school, id)
	}
	for id, res := range map[string]string{rejected: "reject", waiting: "waitlist", admitted: "admit"} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": res, "reason": "委員會決議"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	for id, want := range map[string]struct{ stage, text string }{
		rejected: {"rejected", "複審未通過"},
		waiting:  {"waitlisted", "候補"},
		admitted: {"admitted", "民國115年4月7日"},
	} {
		n, l := lastLetter(t, e, a.school, id)
		if st := get(t, e, a.school, id)["stage"]; st != want.stage || n != before[id]+1 || l["to_school"] != "034501" {
			t.Fatalf("%s: stage %v, %d letters (before %d), last %v", want.stage, st, n, before[id], l)
		}
		if !strings.Contains(l["outcome"].(string)+l["next_step"].(string), want.text) {
			t.Fatalf("%s letter: %v, want %q", want.stage, l, want.text)
		}
	}
}
