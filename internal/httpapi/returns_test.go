package httpapi_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// returned files a mid-year application with only item 1 handed in and
// has the social worker return it (R-MID-3).
func returned(t *testing.T, e *testenv.Env, a actors) string {
	t.Helper()
	id, _ := open(t, e, a.school, testenv.ValidReferral(testenv.NewNationalID()))
	mustStatus(t, e.Do("PUT", "/v1/referrals/"+id+"/documents/1", a.school, map[string]any{"pages": 1}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/return", a.sw, map[string]any{"note": "缺件"}), 200)
	return id
}

// reviewed takes a filed case through a complete checklist, the home visit
// and a first review that recommends it, all through the API.
func reviewed(t *testing.T, e *testenv.Env, a actors, id string) {
	t.Helper()
	completeChecklist(t, e, a, id, false)
	on := e.Clock.Now().In(domain.Taipei).Format("2006-01-02")
	visit(t, e, a, id, on, "contact", "visit", "interview", "report")
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "recommend"}), 200)
}

func queueIDs(t *testing.T, e *testenv.Env, sw string) []string {
	t.Helper()
	q := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/home-visits/queue?min_position=%d", lastPos(t, e)), sw, nil), 200).JSON(t)
	var out []string
	for _, it := range q["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

// R-MID-3 Decision, R-SOY-5: a re-submission takes its place in the
// receipt order and in the application order from the time it is
// complete, behind a complete application filed while it was returned.
func TestR_MID_3_ResubmissionTakesNewPosition(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	late := returned(t, e, a)
	early, _ := open(t, e, a.school, testenv.ValidReferral(testenv.NewNationalID()))
	completeChecklist(t, e, a, late, false)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+late+"/resubmission", a.school, nil), 200)

	pl := get(t, e, a.sw, late)["application_position"].(float64)
	pe := get(t, e, a.sw, early)["application_position"].(float64)
	if pl <= pe {
		t.Fatalf("the re-submitted application has position %v, the complete one filed meanwhile %v: it must come after", pl, pe)
	}
	if q := queueIDs(t, e, a.sw); !slices.Equal(q, []string{early, late}) {
		t.Fatalf("home-visit queue %v, want the complete one first, then the re-submission", q)
	}
}

// R-MID-3 Decision, R-MID-1: a re-submission must fall inside the window:
// the 114 mid-year window ends on Sat 2026-02-28, a day off, so it runs to
// Mon 2026-03-02; on 03-03 a re-submission is refused (422, R-MID-1) and
// changes nothing. An incomplete re-submission is refused too (R-MID-3).
func TestR_MID_3_ResubmissionOutsideWindowRefused(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, onLastDay := returned(t, e, a), returned(t, e, a)
	if r := e.Do("POST", "/v1/referrals/"+id+"/resubmission", a.school, nil); r.Status != 422 || r.JSON(t)["rule"] != "R-MID-3" {
		t.Fatalf("an incomplete re-submission: %d %s", r.Status, r.Body)
	}
	// On the window's extended last day it is accepted.
	e.Clock.Set(day(2026, 3, 2))
	completeChecklist(t, e, a, onLastDay, false)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+onLastDay+"/resubmission", a.school, nil), 200)

	e.Clock.Set(day(2026, 3, 3))
	completeChecklist(t, e, a, id, false)
	before := lastPos(t, e)
	r := e.Do("POST", "/v1/referrals/"+id+"/resubmission", a.school, nil)
	if r.Status != 422 || r.JSON(t)["rule"] != "R-MID-1" {
		t.Fatalf("a re-submission after the window: %d %s", r.Status, r.Body)
	}
	if lastPos(t, e) != before {
		t.Fatal("a refused re-submission appended an event")
	}
	if got := get(t, e, a.school, id); got["stage"] != "returned" {
		t.Fatalf("stage %v after a refused re-submission", got["stage"])
	}
}

// R-MID-3 Decision: a return carries a letter to the origin school naming
// what is missing, by checklist item number and name (never anything of
// the student), and the last day to re-submit.
func TestR_MID_3_ReturnCarriesLetter(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := returned(t, e, a)
	got := get(t, e, a.school, id)
	ret, _ := got["return"].(map[string]any)
	if ret["resubmit_by"] != "2026-03-02" {
		t.Fatalf("return: %v", got["return"])
	}
	letters, _ := got["letters"].([]any)
	if len(letters) != 1 {
		t.Fatalf("letters after a return: %v", got["letters"])
	}
	l := letters[0].(map[string]any)
	text := l["subject"].(string) + l["outcome"].(string) + l["next_step"].(string)
	for _, want := range []string{"退件", "項目 2「轉介就讀申請表」", "項目 5「全戶戶籍謄本正本」", "民國115年3月2日"} {
		if !strings.Contains(text, want) {
			t.Errorf("the return letter does not say %q: %s", want, text)
		}
	}
	// Item 1 was handed in and waits for the check; item 11 is the branch
	// school's own visit report (channel direct): neither is asked for.
	for _, not := range []string{"項目 1「", "項目 11「", "測試學生", "測試家長"} {
		if strings.Contains(text, not) {
			t.Errorf("the return letter says %q: %s", not, text)
		}
	}
	if l["to_school"] != "034501" || !strings.HasPrefix(l["student_alias"].(string), "個案 ") {
		t.Fatalf("letter: %v", l)
	}
}

// R-ELIG-4 Decision: a social worker accepts an incomplete application by
// recording the special reason (sealed, shown to social workers only) and
// the items still owed; the first review may then decide, and each owed
// item stays shown on the case until it is handed in and checked as
// conforming.
func TestR_ELIG_4_AcceptIncompleteWithItemsOwed(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral(testenv.NewNationalID()))
	for _, item := range []int{1, 3, 4, 6, 8, 10} {
		submitAndCheck(t, e, a, id, item, nil)
	}
	submitAndCheck(t, e, a, id, 9, map[string]any{"with_accident_insurance": true})
	// Items 2 and 5 are owed. Naming only one of them is refused.
	accept := func(owed ...int) testenv.Response {
		return e.Do("POST", "/v1/referrals/"+id+"/acceptance", a.sw, map[string]any{"special_reason": "家庭急難，先行安置", "owed_items": owed})
	}
	if r := accept(2); r.Status != 422 || r.JSON(t)["rule"] != "R-ELIG-4" {
		t.Fatalf("acceptance naming part of what is owed: %d %s", r.Status, r.Body)
	}
	if r := accept(2, 5, 7); r.Status != 422 || r.JSON(t)["rule"] != "R-ELIG-4" {
		t.Fatalf("acceptance naming an item not owed: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/v1/referrals/"+id+"/acceptance", a.sw, map[string]any{"owed_items": []int{2, 5}}); r.Status != 400 {
		t.Fatalf("acceptance without a reason: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/v1/referrals/"+id+"/acceptance", a.school, map[string]any{"special_reason": "x", "owed_items": []int{2, 5}}); r.Status != 403 {
		t.Fatalf("acceptance by the school: %d %s", r.Status, r.Body)
	}
	mustStatus(t, accept(5, 2), 200)

	stillOwed := func(token string) ([]float64, map[string]any) {
		t.Helper()
		acc, _ := get(t, e, token, id)["acceptance"].(map[string]any)
		var out []float64
		for _, m := range acc["still_owed"].([]any) {
			out = append(out, m.(map[string]any)["item"].(float64))
		}
		return out, acc
	}
	if owed, acc := stillOwed(a.sw); !slices.Equal(owed, []float64{2, 5}) || acc["special_reason"] != "家庭急難，先行安置" {
		t.Fatalf("acceptance as the social worker sees it: %v", acc)
	}
	if _, acc := stillOwed(a.school); acc["special_reason"] != nil {
		t.Fatalf("the school sees the special reason: %v", acc)
	}
	// The reason is sealed in the log.
	l, err := e.Store.Load(t.Context(), streamOf(e, id))
	if err != nil {
		t.Fatal(err)
	}
	ev, ok := l.Events[len(l.Events)-1].Payload.(events.IncompleteAccepted)
	raw, _ := json.Marshal(ev)
	if !ok || !slices.Equal(ev.Owed, []int{2, 5}) || ev.Reason.IsZero() || strings.Contains(string(raw), "家庭急難") {
		t.Fatalf("the accepted event: %s", raw)
	}

	// The first review decides although items 2 and 5 are owed.
	visit(t, e, a, id, "2026-02-11", "contact", "visit", "interview", "report")
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/first-review", a.sw, map[string]any{"outcome": "recommend"}), 200)

	// Item 2 arrives after the review: it is no longer owed.
	submitAndCheck(t, e, a, id, 2, nil)
	if owed, _ := stillOwed(a.school); !slices.Equal(owed, []float64{5}) {
		t.Fatalf("still owed after item 2 arrived: %v", owed)
	}
	// An item not owed is not handed in after the review.
	if r := e.Do("PUT", "/v1/referrals/"+id+"/documents/3", a.school, map[string]any{"pages": 1}); r.Status != 409 {
		t.Fatalf("an item not owed after the review: %d %s", r.Status, r.Body)
	}
}

// R-SOY-5, R-MID-3 (acceptance): a returned application re-submitted after
// a complete one was filed is admitted after it. Three recommended cases,
// one place: the complete one filed first is admitted, the re-submitted
// one waits first, ahead of the one filed after its re-submission, and is
// offered the place when it frees.
func TestR_SOY_5_ResubmittedAfterCompleteIsAdmittedAfterIt(t *testing.T) {
	e := testenv.New(t, testenv.Options{Cap: 1})
	a := newActors(e)
	resub := returned(t, e, a) // filed first, returned incomplete
	first, _ := open(t, e, a.school, testenv.ValidReferral(testenv.NewNationalID()))
	reviewed(t, e, a, first)
	completeChecklist(t, e, a, resub, false)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+resub+"/resubmission", a.school, nil), 200)
	visit(t, e, a, resub, "2026-02-11", "contact", "visit", "interview", "report")
	mustStatus(t, e.Do("POST", "/v1/referrals/"+resub+"/first-review", a.sw, map[string]any{"outcome": "recommend"}), 200)
	last, _ := open(t, e, a.school, testenv.ValidReferral(testenv.NewNationalID()))
	reviewed(t, e, a, last)

	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	d := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, lastPos(t, e)), a.committee, nil), 200).JSON(t)
	var docket []string
	for _, c := range d["cases"].([]any) {
		docket = append(docket, c.(map[string]any)["case_id"].(string))
	}
	if want := []string{first, resub, last}; !slices.Equal(docket, want) {
		t.Fatalf("docket %v, want %v (application order)", docket, want)
	}
	for _, id := range []string{last, resub, first} {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)

	if s := get(t, e, a.school, first)["stage"]; s != "admitted" {
		t.Fatalf("the complete application filed first: %v", s)
	}
	c := capacity(t, e, a.sw)
	if w := waitingIDs(c); !slices.Equal(w, []string{resub, last}) {
		t.Fatalf("waiting list %v, want the re-submitted one, then the last", w)
	}
	// The place frees: the re-submitted application is admitted after the
	// complete one.
	mustStatus(t, e.Do("POST", "/v1/referrals/"+first+"/withdrawal", a.sw, map[string]any{"reason": "declined_place", "reporting_date": "2026-04-08"}), 200)
	if s := get(t, e, a.school, resub)["stage"]; s != "admitted" {
		t.Fatalf("the re-submitted application after the place freed: %v", s)
	}
	if w := waitingIDs(capacity(t, e, a.sw)); !slices.Equal(w, []string{last}) {
		t.Fatalf("waiting list after the offer: %v", w)
	}
}
