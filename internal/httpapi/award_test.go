package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// coveredByAwardTest reports whether the award tests validate path's
// operations against the contract.
func coveredByAwardTest(path string) bool { return strings.HasPrefix(path, "/v1/award/") }

// evidenceOf reads the evidence pack once the read models reflect
// everything written, indexed by criterion and item code.
func evidenceOf(t *testing.T, e *testenv.Env, check func(string, string, string, any, ...string) testenv.Response, token, query string) (map[string]map[string]any, map[string]map[string]any) {
	t.Helper()
	body := mustStatus(t, check("GET", fmt.Sprintf("/v1/award/evidence?%s&min_position=%d", query, lastPos(t, e)), token, nil), 200).JSON(t)
	crit := map[string]map[string]any{}
	items := map[string]map[string]any{}
	for _, c := range body["criteria"].([]any) {
		cm := c.(map[string]any)
		crit[cm["code"].(string)] = cm
		for _, it := range cm["items"].([]any) {
			im := it.(map[string]any)
			items[im["code"].(string)] = im
		}
	}
	return crit, items
}

func ids(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	slices.Sort(out)
	return out
}

// R-AWD-1: the evidence pack counts what the events record, per
// criterion, with the ids behind each count; the criteria the events say
// nothing about say so; another academic year counts nothing.
func TestR_AWD_1_EvidencePackDrawnFromTheEvents(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	check := contractChecker(t, e)
	id := enrolledCase(t, e, a)
	other := e.RecommendedCase("034501", domain.OutcomeRecommend) // referred, never enrolled
	const second = "nanshan"
	mustStatus(t, e.Do("PUT", "/v1/branches/"+second, a.admin, map[string]any{"name": "南山分校", "committee": "某市復學輔導就讀小組", "cap": 40}), http.StatusCreated)
	otherBranch := e.ReviewedCaseIn(second, "034599", domain.OutcomeRecommend, testenv.NewNationalID())
	bureau2 := e.TokenIn(second, domain.RoleBureau, "")
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	base := "/v1/referrals/" + id + "/dropouts"
	mustStatus(t, e.Do("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family"}), 201)
	mustStatus(t, e.Do("POST", base+"/1/follow-ups", a.school, map[string]any{"kind": "search", "on": "2026-03-04", "note": "原校協尋"}), 200)
	mustStatus(t, e.Do("POST", base+"/1/follow-ups", a.sw, map[string]any{"kind": "search", "on": "2026-03-05"}), 200)
	mustStatus(t, e.Do("POST", base+"/1/follow-ups", a.sw, map[string]any{"kind": "counselling", "on": "2026-03-06"}), 200)
	mustStatus(t, e.Do("POST", base+"/1/found", a.sw, map[string]any{"found_on": "2026-03-10"}), 200)
	mustStatus(t, e.Do("POST", base+"/1/returned", a.sw, map[string]any{"returned_on": "2026-03-12"}), 200)
	mustStatus(t, e.Do("POST", base+"/1/follow-ups", a.school, map[string]any{"kind": "follow_up", "on": "2026-03-13"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/network-notices", a.school, map[string]any{"result": "admitted"}), 200)
	mustStatus(t, e.Do("POST", "/v1/co-counselling-visits", a.school, map[string]any{"on": "2026-03-20", "cases": []map[string]any{{"case_id": id, "note": "協同輔導"}}}), 200)
	mustStatus(t, e.Do("POST", "/v1/co-counselling-visits", a.school, map[string]any{"on": "2026-03-27", "cases": []map[string]any{{"case_id": id}}}), 200)

	crit, items := evidenceOf(t, e, check, a.bureau, "academic_year=114")
	if len(crit) != len(domain.AwardCriteria) {
		t.Fatalf("criteria %v", crit)
	}
	want := map[string]struct {
		count int
		cases []string
	}{
		"network_notices":       {1, []string{id}},
		"referrals":             {2, sorted(id, other)},
		"searches":              {2, []string{id}},
		"found":                 {1, []string{id}},
		"returns":               {1, []string{id}},
		"follow_up_notes":       {2, []string{id}},
		"co_counselling_visits": {2, []string{id}},
	}
	for code, w := range want {
		it := items[code]
		if it == nil || it["count"] != float64(w.count) || !slices.Equal(ids(it["case_ids"]), w.cases) {
			t.Errorf("%s: %v, want %d %v", code, it, w.count, w.cases)
		}
	}
	if m := items["meetings_held"]; m["count"] != float64(1) || len(m["meeting_ids"].([]any)) != 1 {
		t.Errorf("meetings held: %v", m)
	}
	if it := items["referrals_with_dropout_record"]; it["count"] != float64(0) {
		t.Errorf("with dropout record: %v", it)
	}
	// Return rates as the statistics table counts them (R-STAT-1):
	// A = 1, C = 1, B = 0.
	rates := crit[domain.CriterionReturn]["rates"].(map[string]any)
	if k := rates["K"].(map[string]any); k["value"] != float64(1) || k["formula"] != "C/A" {
		t.Errorf("K %v", k)
	}
	if l := rates["L"].(map[string]any); l["value"] != nil || l["undefined"] == "" {
		t.Errorf("L with B = 0 must be undefined: %v", l)
	}
	if m := rates["M"].(map[string]any); m["value"] != float64(1) {
		t.Errorf("M %v", m)
	}
	for _, c := range []string{domain.CriterionInnovation, domain.CriterionOther} {
		if crit[c]["no_evidence"] == nil || len(crit[c]["items"].([]any)) != 0 {
			t.Errorf("%s must say it has no evidence: %v", c, crit[c])
		}
	}
	// Cut at as_of: before the return, none counted.
	_, early := evidenceOf(t, e, check, a.sw, "academic_year=114&as_of=2026-03-11")
	if early["returns"]["count"] != float64(0) || early["found"]["count"] != float64(1) || early["co_counselling_visits"]["count"] != float64(0) {
		t.Errorf("as of Mar 11: returns %v found %v visits %v", early["returns"], early["found"], early["co_counselling_visits"])
	}
	// Another year counts nothing.
	_, prev := evidenceOf(t, e, check, a.bureau, "academic_year=113")
	for code, it := range prev {
		if it["count"] != float64(0) {
			t.Errorf("year 113 %s: %v", code, it)
		}
	}
	// Another branch's cases and sheets are its own.
	if _, it := evidenceOf(t, e, check, a.bureau, "academic_year=114"); it["referrals"]["count"] != float64(2) {
		t.Fatalf("the default branch counts another branch's referral: %v", it["referrals"])
	}
	if _, it := evidenceOf(t, e, check, bureau2, "academic_year=114"); it["referrals"]["count"] != float64(1) || ids(it["referrals"]["case_ids"])[0] != otherBranch || it["searches"]["count"] != float64(0) {
		t.Fatalf("the second branch: %v %v", it["referrals"], it["searches"])
	}

	// A rebuild from the first event gives the same pack and sheets.
	mustStatus(t, e.Do("POST", "/v1/award/score-sheets", a.bureau, map[string]any{"academic_year": 114, "ratings": fullRatings(3), "reviewer": "評審甲"}), 201)
	packBefore := e.Do("GET", fmt.Sprintf("/v1/award/evidence?academic_year=114&min_position=%d", lastPos(t, e)), a.bureau, nil).Body
	sheetsBefore := withoutReadPosition(e.Do("GET", "/v1/award/score-sheets?academic_year=114", a.bureau, nil).JSON(t))
	rebuild(t, e)
	if after := e.Do("GET", "/v1/award/evidence?academic_year=114", a.bureau, nil).Body; string(after) != string(packBefore) {
		t.Fatalf("after a rebuild:\n%s\n%s", packBefore, after)
	}
	if after := withoutReadPosition(e.Do("GET", "/v1/award/score-sheets?academic_year=114", a.bureau, nil).JSON(t)); fmt.Sprint(after) != fmt.Sprint(sheetsBefore) || len(after["items"].([]any)) != 1 {
		t.Fatalf("sheets after a rebuild:\n%v\n%v", sheetsBefore, after)
	}

	wantProblem(t, check("GET", "/v1/award/evidence", a.bureau, nil), 400, "")
	wantProblem(t, check("GET", "/v1/award/evidence?academic_year=114&as_of=2026-02-30", a.bureau, nil), 400, "")
	wantProblem(t, check("GET", "/v1/award/evidence?academic_year=114", a.school, nil), 403, "")
}

func sorted(s ...string) []string { slices.Sort(s); return s }

func fullRatings(r int) map[string]int {
	out := map[string]int{}
	for _, c := range domain.AwardCriteria {
		out[c.Code] = r
	}
	return out
}

// R-AWD-1 Decision: a rating r of a criterion of weight w gives w·r/5
// points, so five 5s make 100; the reviewer's name and comments are
// sealed in the log; a correction supersedes the sheet and keeps its
// history; bad input changes nothing.
func TestR_AWD_1_ScoreSheetTotalSealedAndCorrected(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	check := contractChecker(t, e)
	const reviewer, comments = "評審委員林小華", "組織運作完善，協尋紀錄詳實"
	ratings := map[string]int{"organisation": 4, "prevention": 5, "search": 3, "return": 4, "follow_up": 5, "innovation": 2, "other": 1}
	// 10·4/5 + 20·5/5 + 10·3/5 + 20·4/5 + 20·5/5 + 15·2/5 + 5·1/5 = 8+20+6+16+20+6+1
	const wantTotal = 77
	body := map[string]any{"academic_year": 114, "ratings": ratings, "reviewer": reviewer, "comments": comments}

	// Bad input: 400 and nothing recorded.
	before := lastPos(t, e)
	for name, bad := range map[string]map[string]any{
		"rating 6":          {"academic_year": 114, "ratings": map[string]int{"organisation": 6, "prevention": 5, "search": 3, "return": 4, "follow_up": 5, "innovation": 2, "other": 1}, "reviewer": reviewer},
		"rating 0":          {"academic_year": 114, "ratings": fullRatings(0), "reviewer": reviewer},
		"missing criterion": {"academic_year": 114, "ratings": map[string]int{"organisation": 4}, "reviewer": reviewer},
		"unknown criterion": {"academic_year": 114, "ratings": map[string]any{"organisation": 4, "prevention": 5, "search": 3, "return": 4, "follow_up": 5, "innovation": 2, "other": 1, "bonus": 5}, "reviewer": reviewer},
		"no reviewer":       {"academic_year": 114, "ratings": ratings, "reviewer": "  "},
		"reviewer too long": {"academic_year": 114, "ratings": ratings, "reviewer": strings.Repeat("林", 51)},
		"reviewer newline":  {"academic_year": 114, "ratings": ratings, "reviewer": "林\n華"},
		"comments too long": {"academic_year": 114, "ratings": ratings, "reviewer": reviewer, "comments": strings.Repeat("好", 2001)},
		"comments NUL":      {"academic_year": 114, "ratings": ratings, "reviewer": reviewer, "comments": "a\x00b"},
		"no year":           {"ratings": ratings, "reviewer": reviewer},
		"year out of range": {"academic_year": 99, "ratings": ratings, "reviewer": reviewer},
	} {
		if r := check("POST", "/v1/award/score-sheets", a.bureau, bad); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	wantProblem(t, check("POST", "/v1/award/score-sheets", a.sw, body), 403, "")
	if lastPos(t, e) != before {
		t.Fatal("a refused score sheet recorded an event")
	}

	r := mustStatus(t, check("POST", "/v1/award/score-sheets", a.bureau, body, "Idempotency-Key", "sheet-1"), http.StatusCreated)
	id := r.JSON(t)["id"].(string)
	if r.Header.Get("Location") != "/v1/award/score-sheets/"+id {
		t.Fatalf("Location %q", r.Header.Get("Location"))
	}
	if again := check("POST", "/v1/award/score-sheets", a.bureau, body, "Idempotency-Key", "sheet-1"); again.JSON(t)["id"] != id || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s", again.Body)
	}

	// In the log: the total, and the reviewer and comments sealed.
	l, err := e.Store.Load(t.Context(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateScoreSheet, ID: id})
	if err != nil || len(l.Events) != 1 {
		t.Fatalf("stream: %v %d", err, len(l.Events))
	}
	for _, env := range l.Events {
		if strings.Contains(string(env.Data), reviewer) || strings.Contains(string(env.Data), "林小華") || strings.Contains(string(env.Data), "協尋紀錄") {
			t.Fatalf("plaintext in the log: %s", env.Data)
		}
	}
	filled := l.Events[0].Payload.(events.ScoreSheetFilled)
	if filled.Total != wantTotal || filled.Reviewer.IsZero() || filled.Comments.IsZero() || filled.Reviewer.KeyID != filled.Comments.KeyID {
		t.Fatalf("event %+v", filled)
	}

	sheet := mustStatus(t, check("GET", fmt.Sprintf("/v1/award/score-sheets/%s?min_position=%d", id, lastPos(t, e)), a.bureau, nil), 200).JSON(t)
	if sheet["total"] != float64(wantTotal) || sheet["reviewer"] != reviewer || sheet["comments"] != comments || sheet["corrections"] != float64(0) {
		t.Fatalf("sheet %v", sheet)
	}
	points := map[string]float64{}
	for _, s := range sheet["scores"].([]any) {
		sm := s.(map[string]any)
		points[sm["criterion"].(string)] = sm["points"].(float64)
	}
	if points["organisation"] != 8 || points["innovation"] != 6 || points["other"] != 1 || points["search"] != 6 {
		t.Fatalf("points %v", points)
	}
	// Social workers see the scores, not the reviewer's name or comments.
	swView := mustStatus(t, check("GET", "/v1/award/score-sheets/"+id, a.sw, nil), 200).JSON(t)
	if _, ok := swView["reviewer"]; ok || swView["total"] != float64(wantTotal) {
		t.Fatalf("social worker's view %v", swView)
	}

	// A correction: five 5s make 100.
	corr := map[string]any{"ratings": fullRatings(5), "reviewer": reviewer, "comments": "更正"}
	wantProblem(t, check("POST", "/v1/award/score-sheets/"+id+"/corrections", a.bureau, corr, "If-Match", `"7"`), 412, "")
	wantProblem(t, check("POST", "/v1/award/score-sheets/"+id+"/corrections", a.bureau, map[string]any{"academic_year": 113, "ratings": fullRatings(5), "reviewer": reviewer}), 400, "")
	wantProblem(t, check("POST", "/v1/award/score-sheets/saaaaaaaaaaaaaaaaaaaaaaaa/corrections", a.bureau, corr), 404, "")
	wantProblem(t, check("POST", "/v1/award/score-sheets/nope/corrections", a.bureau, corr), 400, "")
	mustStatus(t, check("POST", "/v1/award/score-sheets/"+id+"/corrections", a.bureau, corr, "If-Match", `"1"`), 200)
	list := mustStatus(t, check("GET", fmt.Sprintf("/v1/award/score-sheets?academic_year=114&min_position=%d", lastPos(t, e)), a.bureau, nil), 200).JSON(t)
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("list %v", list)
	}
	got := items[0].(map[string]any)
	if got["total"] != float64(100) || got["corrections"] != float64(1) || got["comments"] != "更正" || got["version"] != float64(2) {
		t.Fatalf("corrected %v", got)
	}
	if other := mustStatus(t, check("GET", "/v1/award/score-sheets?academic_year=113", a.bureau, nil), 200).JSON(t); len(other["items"].([]any)) != 0 {
		t.Fatalf("year 113: %v", other)
	}
	wantProblem(t, check("GET", "/v1/award/score-sheets/saaaaaaaaaaaaaaaaaaaaaaaa", a.bureau, nil), 404, "")
	// Another branch's bureau token does not see the sheet.
	mustStatus(t, e.Do("PUT", "/v1/branches/nanshan", a.admin, map[string]any{"name": "南山分校", "committee": "某市復學輔導就讀小組", "cap": 40}), http.StatusCreated)
	wantProblem(t, check("GET", "/v1/award/score-sheets/"+id, e.TokenIn("nanshan", domain.RoleBureau, ""), nil), 404, "")
	wantProblem(t, check("POST", "/v1/award/score-sheets/"+id+"/corrections", e.TokenIn("nanshan", domain.RoleBureau, ""), corr), 404, "")
	wantProblem(t, check("GET", "/v1/award/score-sheets", a.school, nil), 403, "")
	// The log keeps both versions.
	if l, _ := e.Store.Load(t.Context(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateScoreSheet, ID: id}); len(l.Events) != 2 {
		t.Fatalf("events %d", len(l.Events))
	}
}

// rebuild empties the read models and waits until the projector has
// applied every event again.
func rebuild(t *testing.T, e *testenv.Env) {
	t.Helper()
	e.StopProjector()
	if err := projections.Reset(t.Context(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	last := lastPos(t, e)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cp, err := projections.Checkpoint(t.Context(), e.DB)
		if err != nil {
			t.Fatal(err)
		}
		if cp >= last {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rebuild did not catch up: at %d of %d", cp, last)
		}
	}
}
