package httpapi_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"cihui/internal/domain"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// coveredByStatisticsTest reports whether TestR_STAT_1_ConstructedYearHTTP
// validates path's operations against the contract.
func coveredByStatisticsTest(path string) bool {
	return strings.HasPrefix(path, "/v1/statistics/")
}

// enrolledCases takes n new recommended cases through one meeting, the
// health check and the enrolment (on the clock's day), and returns their
// ids.
func enrolledCases(t *testing.T, e *testenv.Env, a actors, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	meeting := scheduleAndOpen(t, e, a.committee, "extra", "2026-03-23")
	for _, id := range ids {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200) // R-SOY-6
	for _, id := range ids {
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1"}), 200)
	}
	return ids
}

// statFigures reads a row of the table's JSON: its counts and, for each
// rate, "num/den" or "undefined".
func statFigures(t *testing.T, row any) (map[string]int, map[string]string) {
	t.Helper()
	m := row.(map[string]any)
	counts := map[string]int{}
	for k, v := range m["counts"].(map[string]any) {
		counts[k] = int(v.(float64))
	}
	rates := map[string]string{}
	for k, v := range m["rates"].(map[string]any) {
		r := v.(map[string]any)
		num, den := int(r["numerator"].(float64)), int(r["denominator"].(float64))
		if r["value"] == nil {
			if den != 0 || !strings.Contains(fmt.Sprint(r["undefined"]), "is 0") {
				t.Errorf("rate %s: null value with %d/%d, reason %v", k, num, den, r["undefined"])
			}
			rates[k] = "undefined"
			continue
		}
		if math.Abs(r["value"].(float64)-float64(num)/float64(den)) > 1e-9 {
			t.Errorf("rate %s = %v, not %d/%d", k, r["value"], num, den)
		}
		rates[k] = fmt.Sprintf("%d/%d", num, den)
	}
	return counts, rates
}

func breakdownRow(t *testing.T, table map[string]any, dim, value string) any {
	t.Helper()
	for _, r := range table["breakdowns"].(map[string]any)[dim].([]any) {
		if r.(map[string]any)["value"] == value {
			return r
		}
	}
	t.Fatalf("no %s row %s", dim, value)
	return nil
}

// R-STAT-1, R-STAT-2 through the real path (issue 11 acceptance): a year
// constructed with the commands (referrals, a meeting, enrolments,
// categories, dropout episodes), projected, and the HTTP table checked
// against figures counted by hand; explain lists exactly the students
// counted; the CSV and the reports open with their headings; and the same
// year rebuilt from the event log gives the same table.
//
// Academic year 115: the period is 2026-08-01 – 2027-07-31, printed on
// 2027-08-05. Seven students are enrolled on 2026-02-11 in grade 8 (the
// seat held to the planned graduation, 2027-07-31); s8 of them is
// suspended in June 2026 (not in AA); s7 is never enrolled.
//
//	s1 out from 2026-06-10 (before Aug 1), still out            B, P
//	s2 two episodes in the year, each returned                  A, C, G, H
//	s3 out from 2026-05-01, found and returned in the year      B, D, F
//	   and again from 2027-01-05, whereabouts unknown, found,   A, E, P, H
//	   still out on the print date
//	s4 out 2027-07-31, back 2027-08-01 (after the period)       A (not C, not P)
//	s5 never out                                                AA only
//	s6 out 2026-07-31, back 2026-08-01 (on the period's start)  B, D
//
// AA 6; A 3 (s2 s3 s4); B 3 (s1 s3 s6); C 1 (s2); D 2 (s3 s6); E 1 (s3);
// F 1 (s3); G 1 (s2); H 2 (s2 s3); P 2 (s1 s3).
// I = G/A 1/3; J = H/(A+B) 2/6; K = C/A 1/3; L = D/B 2/3;
// M = (C+D)/(A+B) 3/6; N = A/AA 3/6; O = P/AA 2/6.
// Every student is F (the seeding files girls): the M row's denominators
// are all 0, so its rates are undefined, not 0.
func TestR_STAT_1_ConstructedYearHTTP(t *testing.T) {
	// The printed reports are HTML: validated as a string, as text/plain is.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	check := contractChecker(t, e)
	ids := enrolledCases(t, e, a, 7)
	s1, s2, s3, s4, s5, s6 := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	e.RecommendedCase("034501", domain.OutcomeRecommend) // s7: never enrolled, in no figure
	// s8 is suspended (中止就讀) by the meeting that closes on 2026-06-15:
	// in year 114's AA, not in 115's.
	s8 := ids[6]
	recordGrounds(t, e, a, s8, 3)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+s8+"/suspension", a.sw, map[string]any{"grounds": []int{3}, "on": "2026-02-11"}), 200)
	procedure(t, e, a, s8)
	m := scheduleAndOpen(t, e, a.committee, "extra", "2026-03-30")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/resolutions", a.committee, map[string]any{"case_id": s8, "resolution": "suspend", "destination": "origin_school"}), 200)
	e.Clock.Set(time.Date(2026, 6, 15, 9, 0, 0, 0, domain.Taipei))
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/close", a.committee, map[string]any{"reporting_date": "2026-06-29"}), 200)

	cats := map[string]map[string]any{
		s1: {"family_background": "single_parent", "identity": []string{}},
		s2: {"family_background": "both_parents", "identity": []string{"indigenous"}},
		s3: {"family_background": "no_parent", "identity": []string{"institutional_care"}},
		s5: {"family_background": "both_parents", "identity": []string{}},
		s6: {"family_background": "single_parent", "identity": []string{}},
		// s4: none recorded: unknown.
	}
	for id, c := range cats {
		mustStatus(t, e.Do("PUT", "/v1/referrals/"+id+"/categories", a.sw, c), 200)
	}

	e.Clock.Set(time.Date(2027, 8, 5, 9, 0, 0, 0, domain.Taipei))
	do := func(id, path string, body map[string]any, status int) {
		t.Helper()
		mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/dropouts"+path, a.sw, body), status)
	}
	open := func(id, start, where, reason string) {
		t.Helper()
		do(id, "", map[string]any{"first_day_absent": start, "whereabouts": where, "reason": reason}, 201)
	}
	open(s1, "2026-06-10", "unknown", "family")

	open(s2, "2026-10-01", "known", "personal")
	do(s2, "/1/returned", map[string]any{"returned_on": "2026-10-20"}, 200)
	do(s2, "/1/close", map[string]any{"closed_on": "2026-10-21", "outcome": "returned"}, 200)
	open(s2, "2027-03-02", "known", "school")
	do(s2, "/2/returned", map[string]any{"returned_on": "2027-03-10"}, 200)
	do(s2, "/2/close", map[string]any{"closed_on": "2027-03-11", "outcome": "returned"}, 200)

	open(s3, "2026-05-01", "unknown", "social")
	do(s3, "/1/found", map[string]any{"found_on": "2026-09-10"}, 200)
	do(s3, "/1/returned", map[string]any{"returned_on": "2026-09-15"}, 200)
	do(s3, "/1/close", map[string]any{"closed_on": "2026-09-16", "outcome": "returned"}, 200)
	open(s3, "2027-01-05", "unknown", "social")
	do(s3, "/2/found", map[string]any{"found_on": "2027-01-20"}, 200)

	open(s4, "2027-07-31", "known", "school")
	do(s4, "/1/returned", map[string]any{"returned_on": "2027-08-01"}, 200)

	open(s6, "2026-07-31", "known", "other")
	do(s6, "/1/returned", map[string]any{"returned_on": "2026-08-01"}, 200)
	do(s6, "/1/close", map[string]any{"closed_on": "2026-08-01", "outcome": "returned"}, 200)

	last := lastPos(t, e)
	base := "/v1/statistics/dropouts?academic_year=115&as_of=2027-08-05"
	table := func() map[string]any {
		t.Helper()
		return mustStatus(t, check("GET", fmt.Sprintf("%s&min_position=%d", base, last), a.bureau, nil), 200).JSON(t)
	}
	tab := table()
	counts, rates := statFigures(t, tab["total"])
	wantCounts := map[string]int{"AA": 6, "A": 3, "B": 3, "C": 1, "D": 2, "E": 1, "F": 1, "G": 1, "H": 2, "P": 2}
	wantRates := map[string]string{"I": "1/3", "J": "2/6", "K": "1/3", "L": "2/3", "M": "3/6", "N": "3/6", "O": "2/6"}
	for k, v := range wantCounts {
		if counts[k] != v {
			t.Errorf("%s = %d, want %d", k, counts[k], v)
		}
	}
	for k, v := range wantRates {
		if rates[k] != v {
			t.Errorf("%s = %s, want %s", k, rates[k], v)
		}
	}
	if !strings.Contains(fmt.Sprint(tab["note"]), "AA") {
		t.Errorf("no note on AA: %v", tab["note"])
	}
	// The zero denominators: no boy in the table.
	mc, mr := statFigures(t, breakdownRow(t, tab, "sex", "M"))
	if mc["AA"] != 0 || mc["A"] != 0 {
		t.Fatalf("M row: %v", mc)
	}
	for _, k := range domain.StatRates {
		if mr[k] != "undefined" {
			t.Errorf("M row rate %s = %s, want undefined", k, mr[k])
		}
	}
	// Breakdowns by category (the latest A or B episode's, for whereabouts
	// and reason).
	for _, c := range []struct {
		dim, value string
		want       map[string]int
	}{
		{"sex", "F", wantCounts},
		{"background", "single_parent", map[string]int{"AA": 2, "A": 0, "B": 2, "D": 1, "P": 1}},
		{"background", "unknown", map[string]int{"AA": 1, "A": 1, "B": 0}},
		{"identity", "indigenous", map[string]int{"AA": 1, "A": 1, "G": 1}},
		{"identity", "unknown", map[string]int{"AA": 1, "A": 1}},
		{"identity", "new_immigrant_parent", map[string]int{"AA": 0, "A": 0}},
		{"whereabouts", "unknown", map[string]int{"A": 1, "B": 2, "P": 2}},
		{"reason", "school", map[string]int{"A": 2, "G": 1}},
		{"reason", "other", map[string]int{"B": 1, "D": 1}},
	} {
		got, _ := statFigures(t, breakdownRow(t, tab, c.dim, c.value))
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s %s: %s = %d, want %d", c.dim, c.value, k, got[k], v)
			}
		}
	}

	// explain lists exactly the students counted, with their episodes.
	explain := func(fig string) string {
		t.Helper()
		body := mustStatus(t, check("GET", base+"&explain="+fig, a.sw, nil), 200).JSON(t)
		var out []string
		for _, st := range body["students"].([]any) {
			m := st.(map[string]any)
			var eps []string
			for _, ep := range m["episodes"].([]any) {
				eps = append(eps, fmt.Sprint(ep.(map[string]any)["episode"]))
			}
			out = append(out, fmt.Sprint(m["case_ids"].([]any)[0])+":"+strings.Join(eps, ","))
		}
		if int(body["count"].(float64)) != len(out) || len(out) != wantCounts[fig] {
			t.Errorf("explain %s: count %v, %d listed, table %d", fig, body["count"], len(out), wantCounts[fig])
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	sorted := func(s ...string) string { slices.Sort(s); return strings.Join(s, " ") }
	for fig, want := range map[string]string{
		"H":  sorted(s2+":1,2", s3+":1,2"),
		"B":  sorted(s1+":1", s3+":1", s6+":1"),
		"A":  sorted(s2+":1,2", s3+":2", s4+":1"),
		"P":  sorted(s1+":1", s3+":2"),
		"D":  sorted(s3+":1", s6+":1"),
		"AA": sorted(s1+":", s2+":", s3+":", s4+":", s5+":", s6+":"),
	} {
		if got := explain(fig); got != want {
			t.Errorf("explain %s:\n got %s\nwant %s", fig, got, want)
		}
	}

	// CSV: UTF-8 with BOM and the national headings in order.
	csv := check("GET", base+"&format=csv", a.sw, nil)
	mustStatus(t, csv, 200)
	if !strings.HasPrefix(string(csv.Body), "\uFEFFAA 在學學生總數,性別：男,性別：女,背景：雙親") ||
		!strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %q %s", csv.Header.Get("Content-Type"), csv.Body)
	}
	lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\r\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "6,0,3,") || !strings.Contains(lines[0], "P 列印日未復學生數") ||
		!strings.HasSuffix(lines[1], ",33.33%,33.33%,33.33%,66.67%,50.00%,50.00%,33.33%,2") {
		t.Fatalf("CSV lines: %q", lines)
	}
	if r := check("GET", "/v1/statistics/dropouts?academic_year=115", a.sw, nil, "Accept", "text/csv"); !strings.HasPrefix(string(r.Body), "\uFEFF") {
		t.Fatalf("Accept text/csv: %s", r.Body)
	}
	// The reports: a page per report, with its heading; CSV with BOM.
	for code, title := range map[string]string{"dropouts": "中輟學生統計", "background": "家庭背景統計", "indigenous": "原住民統計",
		"returns": "復學就讀統計", "reasons": "輟學原因統計"} {
		r := mustStatus(t, check("GET", "/v1/statistics/dropouts/reports/"+code+"?academic_year=115&as_of=2027-08-05", a.bureau, nil), 200)
		if !strings.Contains(string(r.Body), "<h1>115 學年度"+title+"</h1>") || !strings.Contains(string(r.Body), "民國116年8月5日") {
			t.Errorf("report %s: %s", code, r.Body)
		}
		c := mustStatus(t, check("GET", "/v1/statistics/dropouts/reports/"+code+"?academic_year=115&as_of=2027-08-05&format=csv", a.bureau, nil), 200)
		if !strings.HasPrefix(string(c.Body), "\uFEFF") || !strings.Contains(string(c.Body), "合計") {
			t.Errorf("report %s CSV: %s", code, c.Body)
		}
	}
	// Trend: year 114's AA is the seven enrolled in Feb 2026 (s8 was
	// suspended in June), and s1, s3 and s6 dropped out in its period; 113 had nobody.
	tr := mustStatus(t, check("GET", "/v1/statistics/dropouts/trend?from=113&to=115", a.bureau, nil), 200).JSON(t)
	years := tr["years"].([]any)
	y113, y114, y115 := years[0].(map[string]any), years[1].(map[string]any), years[2].(map[string]any)
	if y113["aa"] != float64(0) || y113["n"].(map[string]any)["value"] != nil || y114["n_change"] != nil {
		t.Errorf("trend 113/114: %v %v", y113, y114)
	}
	// 114: N = 3/7; 115: N = 3/6, a change of 3/6 − 3/7 (a rise: the fall
	// is negative).
	change, fall := y115["n_change"], y115["n_fall"]
	if y114["aa"] != float64(7) || y114["n"].(map[string]any)["numerator"] != float64(3) || y115["as_of"] != "2027-08-05" ||
		change == nil || fall == nil || math.Abs(change.(float64)-(3.0/6-3.0/7)) > 1e-9 || math.Abs(fall.(float64)+(3.0/6-3.0/7)) > 1e-9 {
		t.Errorf("trend 114/115: %v %v", y114, y115)
	}
	// Refused: no year, a bad figure, a bad report, the wrong role.
	wantProblem(t, check("GET", "/v1/statistics/dropouts", a.sw, nil), 400, "")
	wantProblem(t, check("GET", base+"&explain=I", a.sw, nil), 400, "")
	wantProblem(t, check("GET", "/v1/statistics/dropouts/reports/nope?academic_year=115", a.sw, nil), 400, "")
	wantProblem(t, check("GET", "/v1/statistics/dropouts/trend?from=115&to=110", a.sw, nil), 400, "")
	wantProblem(t, check("GET", base, a.school, nil), 403, "")
	wantProblem(t, check("GET", "/v1/statistics/dropouts/trend?from=110&to=115", a.committee, nil), 403, "")

	// The same year rebuilt from the event log gives the same table.
	strip := func(m map[string]any) string { delete(m, "read_position"); return fmt.Sprint(m) }
	before := strip(tab)
	e.StopProjector()
	if err := projections.Reset(context.Background(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if cp, err := projections.Checkpoint(context.Background(), e.DB); err == nil && cp >= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rebuild did not reach the end of the log")
		}
	}
	if after := strip(table()); after != before {
		t.Fatalf("after a rebuild:\n%s\nbefore:\n%s", after, before)
	}
}
