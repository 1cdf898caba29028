package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// bureauYear gives the branch academic year 114 with three enrolled
// students and two dropout episodes (R-ORG-4): one whereabouts-unknown
// and still out, one known and returned. It returns the cases with an
// episode and the bureau's token; the clock stands at 2026-04-01.
func bureauYear(t *testing.T, e *testenv.Env) (dropped []string, bureau string) {
	t.Helper()
	committee := e.TokenIn(e.Branch.Code, domain.RoleCommittee, "")
	sw := e.TokenIn(e.Branch.Code, domain.RoleSocialWorker, "")
	bureau = e.TokenIn(e.Branch.Code, domain.RoleBureau, "")
	must := func(r testenv.Response, want int) testenv.Response {
		t.Helper()
		if r.Status != want {
			t.Fatalf("%d, want %d: %s", r.Status, want, r.Body)
		}
		return r
	}
	ids := make([]string, 3)
	for i := range ids {
		ids[i] = e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	m := must(e.Do("POST", "/v1/meetings", committee, map[string]any{"academic_year": 114, "kind": "extra", "date": "2026-03-23"}), http.StatusCreated).JSON(t)["id"].(string)
	must(e.Do("POST", "/v1/meetings/"+m+"/open", committee, nil), 200)
	for _, id := range ids {
		must(e.Do("POST", "/v1/meetings/"+m+"/resolutions", committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	must(e.Do("POST", "/v1/meetings/"+m+"/close", committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	for _, id := range ids {
		must(e.Do("POST", "/v1/referrals/"+id+"/health-check", sw, map[string]any{"examined_on": "2026-02-01"}), 200)
		must(e.Do("POST", "/v1/referrals/"+id+"/enrolment", sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	}
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	must(e.Do("POST", "/v1/referrals/"+ids[0]+"/dropouts", sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family"}), http.StatusCreated)
	must(e.Do("POST", "/v1/referrals/"+ids[1]+"/dropouts", sw, map[string]any{"first_day_absent": "2026-03-05", "whereabouts": "known", "reason": "school"}), http.StatusCreated)
	r := must(e.Do("POST", "/v1/referrals/"+ids[1]+"/dropouts/1/returned", sw, map[string]any{"returned_on": "2026-03-20"}), 200)
	pos := int(r.JSON(t)["position"].(float64))
	// The table as the pages will read it: both episodes projected.
	must(e.Do("GET", "/v1/statistics/dropouts?academic_year=114&min_position="+strconv.Itoa(pos), bureau, nil), 200)
	return ids[:2], bureau
}

// The bureau's pages, without JavaScript: the statistics table with the
// API's figures (R-STAT-1), the drill-down listing exactly the students
// the API counts, the CSV, the five reports (R-STAT-2), the trend chart,
// the filed list (R-SOY-7) and the award evidence (R-AWD-1). A school,
// which the API does not let read statistics, sees them refused.
func TestBureauPagesShowWhatTheAPIAnswers(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	dropped, bureau := bureauYear(t, e)
	c := newClient(t, e)
	c.signIn(bureau)
	q := "?academic_year=114&as_of=2026-04-01"

	st, body := c.get("/ui/statistics" + q)
	if st != http.StatusOK || !strings.Contains(body, `<tr id="fig-A"><th scope="row">A</th><td>該學年度輟學人數</td><td class="num">2</td>`) {
		t.Fatalf("the table: %d %.2000s", st, body)
	}
	if !strings.Contains(body, `<tr id="fig-P"><th scope="row">P</th><td>列印日未復學生數</td><td class="num">1</td>`) {
		t.Errorf("P, the students still out on the print date, is not 1")
	}
	if len(body) > 150<<10 {
		t.Errorf("the statistics page weighs %d bytes", len(body))
	}
	_, body = c.get("/ui/statistics" + q + "&explain=A")
	for _, id := range dropped {
		if !strings.Contains(body, `href="/ui/cases/`+id+`"`) || !strings.Contains(body, domain.Alias(id)+" 第 1 次中輟") {
			t.Errorf("the drill-down into A does not list %s: %.3000s", id, body)
		}
	}
	_, body = c.get("/ui/statistics" + q + "&explain=P")
	if !strings.Contains(body, `href="/ui/cases/`+dropped[0]+`"`) || strings.Contains(body, `href="/ui/cases/`+dropped[1]+`"`) {
		t.Errorf("the drill-down into P lists other students than the one still out")
	}
	if st, body := c.get("/ui/statistics" + q + "&explain=Z"); st != http.StatusBadRequest || !strings.Contains(body, "explain") {
		t.Errorf("an unknown figure: %d %.500s", st, body)
	}
	res, err := c.http.Get(c.base + "/ui/statistics/dropouts.csv" + q)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("the CSV: %d %v", res.StatusCode, res.Header)
	}
	for code, want := range map[string]string{"dropouts": "性別", "background": "背景", "indigenous": "身分", "returns": "性別", "reasons": "輟學原因"} {
		st, body := c.get("/ui/statistics/reports/" + code + q)
		if st != 200 || !strings.Contains(body, `<th scope="col">`+want+`</th>`) || !strings.Contains(body, `<tr class="total"><th scope="row">合計</th>`) {
			t.Errorf("report %s: %d %.1500s", code, st, body)
		}
	}
	res, err = c.http.Get(c.base + "/ui/statistics/reports/reasons/csv" + q)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(csv), "\uFEFF輟學原因,A ") {
		t.Errorf("the reasons report as CSV: %d %.200s", res.StatusCode, csv)
	}
	if st, _ := c.get("/ui/statistics/reports/nope" + q); st != http.StatusNotFound {
		t.Errorf("an unknown report: %d", st)
	}
	st, body = c.get("/ui/statistics/trend?from=112&to=114")
	_, svg, _ := strings.Cut(body, "<svg")
	svg, _, _ = strings.Cut(svg, "</svg>")
	if st != 200 || !strings.Contains(svg, `<title id="chart-title">`) || strings.Contains(svg, "<script") ||
		!strings.Contains(svg, `>66.67%</text>`) || !strings.Contains(body, `<th scope="row">114</th><td class="num">3</td><td class="num">66.67%</td>`) {
		t.Errorf("the trend: %d %.3000s", st, svg)
	}
	if st, body := c.get("/ui/statistics/trend?from=114&to=112"); st != http.StatusBadRequest || !strings.Contains(body, `class="ferr"`) {
		t.Errorf("a reversed range is not refused beside the field: %d %.800s", st, body)
	}
	if st, body := c.get("/ui/filings?academic_year=114"); st != 200 || strings.Count(body, `href="/ui/cases/`) != 3 {
		t.Errorf("the filed list: %d %.1500s", st, body)
	}
	_, body = c.get("/ui/filings?academic_year=114")
	key := between(body, `name="idempotency_key" value="`, `"`)
	meeting := between(body, `<option value="`, `"`)
	if st, body, path := c.post("/ui/filings", url.Values{"idempotency_key": {key}, "academic_year": {"114"}, "meeting_id": {meeting}}); st != 200 || path != "/ui/filings" || !strings.Contains(body, "已報教育局備查") {
		t.Errorf("recording the filing: %d %s %.2000s", st, path, body)
	}
	if st, body := c.get("/ui/award?academic_year=114"); st != 200 || !strings.Contains(body, "配分") {
		t.Errorf("the award evidence: %d %.1500s", st, body)
	}

	school := newClient(t, e)
	school.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	if st, _ := school.get("/ui/statistics" + q); st != http.StatusForbidden {
		t.Errorf("a school reads the statistics page: %d", st)
	}
	if st, _ := school.get("/ui/statistics" + q + "&explain=A"); st != http.StatusForbidden {
		t.Errorf("a school reads the drill-down: %d", st)
	}
}

// between returns the text of s after the first from, up to to.
func between(s, from, to string) string {
	_, s, _ = strings.Cut(s, from)
	s, _, _ = strings.Cut(s, to)
	return s
}
