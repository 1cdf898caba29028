package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// lastPosition is the stream's last sequence.
func lastPosition(t *testing.T, e *testenv.Env) uint64 {
	t.Helper()
	p, err := e.Store.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// problem checks a 400 problem+json and returns its per-field errors.
func problem(t *testing.T, r testenv.Response, what string) map[string]string {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s = %d %s, want 400 problem+json: %s", what, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	var p struct {
		Code   string            `json:"code"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if p.Code != "invalid" || len(p.Errors) == 0 {
		t.Fatalf("%s: want code invalid with per-field errors, got %s", what, r.Body)
	}
	return p.Errors
}

// Issue 7, finding 1: a student name with NUL, and a page count no column
// can hold, went into the append-only log and froze every read model. Now
// both are 400 with per-field errors, the value is not echoed, and the
// stream's last sequence does not move.
func TestFinding1NULNameAndHugePagesAre400AndAppendNothing(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	before := lastPosition(t, e)

	bad := testenv.ValidReferral("B123456780")
	bad["student"].(map[string]any)["name"] = "王\u0000明"
	r := e.Do("POST", "/v1/referrals", a.school, bad)
	if errs := problem(t, r, "NUL in the student's name"); errs["student.name"] == "" {
		t.Fatalf("want an error on student.name, got %v", errs)
	}
	if strings.Contains(string(r.Body), "王") {
		t.Fatalf("the problem echoes the name: %s", r.Body)
	}
	// Free text too, and a raw NUL byte as well as the escape.
	bad = testenv.ValidReferral("B123456780")
	bad["reason"] = "原因\u0000"
	problem(t, e.Do("POST", "/v1/referrals", a.school, bad), "NUL in the reason")
	problem(t, e.Do("POST", "/v1/referrals", a.school, `{"route":"mid_year","student":{"name":"a`+"\xff"+`"}}`), "invalid UTF-8 body")

	for _, pages := range []string{"9223372036854775807", "501", "0", "-1"} {
		r := e.Do("PUT", referralPath(id)+"/documents/3", a.school, `{"pages":`+pages+`}`)
		if errs := problem(t, r, "pages "+pages); errs["pages"] == "" {
			t.Fatalf("pages %s: want an error on pages, got %v", pages, errs)
		}
	}
	if after := lastPosition(t, e); after != before {
		t.Fatalf("stream moved from %d to %d: a refused request appended", before, after)
	}
	mustStatus(t, e.Do("PUT", referralPath(id)+"/documents/3", a.school, `{"pages":500}`), http.StatusOK)
}

// Issue 7, finding 5: bad ids and query parameters gave 500 (PostgreSQL
// 22021 and 22003). Each is now 400 problem+json naming the field, and
// the answer never repeats what was sent.
func TestFinding5BadIdsAndParamsAre400(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	for _, c := range []struct{ path, token, field string }{
		{"/v1/referrals/r%00", a.school, "id"},
		{"/v1/referrals/r%00/events", a.sw, "id"},
		{"/v1/referrals?school=%00", a.sw, "school"},
		{"/v1/referrals?status=%ff", a.sw, "status"},
		{"/v1/referrals?status=bogus", a.sw, "status"},
		{"/v1/referrals?cursor=%c3%28", a.sw, "cursor"},
		{"/v1/referrals?cursor=garbage", a.sw, "cursor"},
		{"/v1/referrals?academic_year=-99999999999", a.sw, "academic_year"},
		{"/v1/referrals?limit=99999999999999999999", a.sw, "limit"},
		{"/v1/meetings?academic_year=-99999999999", a.committee, "academic_year"},
		{"/v1/filings/admitted?academic_year=99999999999", a.bureau, "academic_year"},
		{"/v1/meetings/m%00", a.committee, "id"},
		{"/v1/meetings/m%00/docket", a.committee, "id"},
		{"/v1/meetings/" + strings.Repeat("m", 300), a.committee, "id"},
	} {
		r := e.Do("GET", c.path, c.token, nil)
		if errs := problem(t, r, "GET "+c.path); errs[c.field] == "" {
			t.Errorf("GET %s: want an error on %s, got %v", c.path, c.field, errs)
		}
		var p map[string]any
		r.Decode(t, &p)
		delete(p, "instance") // the request's own path (errors.go)
		if b, _ := json.Marshal(p); strings.Contains(string(b), "bogus") || strings.Contains(string(b), "garbage") || strings.Contains(string(b), "mmmmmmmm") {
			t.Errorf("GET %s: the problem echoes the value: %s", c.path, b)
		}
	}
}

// Issue 7, finding 5: a withdrawal or an enrolment with an id that is no
// referral id was loaded before it was validated: 500 "invalid stream
// id". Now the id is checked first: 400, never 5xx, and nothing is
// appended. The same holds for every command on a referral or a meeting.
func TestFinding5MalformedPathIdsNever5xx(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	before := lastPosition(t, e)
	ids := []string{"r>", "r*", "..", strings.Repeat("r", 300), "r.a", "R" + strings.Repeat("a", 24), "r" + strings.Repeat("a", 23) + "1", "%00", "%ff"}
	for _, id := range ids {
		p := url.PathEscape(id)
		if strings.HasPrefix(id, "%") {
			p = id
		}
		for _, c := range []struct{ method, path, token, body string }{
			{"POST", "/v1/referrals/" + p + "/withdrawal", a.sw, `{"reason":"left"}`},
			{"POST", "/v1/referrals/" + p + "/enrolment", a.sw, `{"grade":8,"class":"8-1"}`},
			{"POST", "/v1/referrals/" + p + "/health-check", a.sw, `{"examined_on":"2026-02-01"}`},
			{"PUT", "/v1/referrals/" + p + "/documents/1", a.school, `{"pages":1}`},
			{"POST", "/v1/referrals/" + p + "/registrations", a.school, `{"semester":"114-2"}`},
			{"POST", "/v1/meetings/" + strings.Replace(p, "r", "m", 1) + "/open", a.committee, ``},
			{"POST", "/v1/meetings/" + strings.Replace(p, "r", "m", 1) + "/close", a.committee, ``},
			{"POST", "/v1/meetings/" + strings.Replace(p, "r", "m", 1) + "/resolutions", a.committee, `{"case_id":"r","resolution":"admit"}`},
		} {
			r := e.Do(c.method, c.path, c.token, c.body)
			if r.Status >= 500 || (r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound) {
				t.Errorf("%s %s = %d, want 400 or 404: %s", c.method, c.path, r.Status, r.Body)
			}
		}
	}
	// A well-formed id that names nothing is 404.
	r := e.Do("POST", "/v1/referrals/r"+strings.Repeat("a", 24)+"/withdrawal", a.sw, `{"reason":"left"}`)
	mustStatus(t, r, http.StatusNotFound)
	if after := lastPosition(t, e); after != before {
		t.Fatalf("stream moved from %d to %d", before, after)
	}
}

// Issue 7, finding 6: ?cursor=<another school's case> told whether that
// case exists, because the cursor subquery ignored scope. The cursor is
// now scoped like the list it pages: another school's case, an unknown
// id and garbage get the very same answer.
func TestFinding6CursorScopedLikeTheList(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	other := e.Token(domain.RoleOriginSchool, "034502")
	mine1, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	open(t, e, a.school, testenv.ValidReferral("B123456780"))
	theirs, pos := open(t, e, other, testenv.ValidReferral("C123456781"))

	answer := func(cursor string) string {
		r := e.Do("GET", fmt.Sprintf("/v1/referrals?min_position=%d&cursor=%s", pos, url.QueryEscape(cursor)), a.school, nil)
		problem(t, r, "cursor "+cursor)
		var p map[string]any
		r.Decode(t, &p)
		delete(p, "instance")
		b, _ := json.Marshal(p)
		return string(b)
	}
	cross, unknown, garbage := answer(theirs), answer("r"+strings.Repeat("a", 24)), answer("garbage")
	if cross != unknown || cross != garbage {
		t.Fatalf("another school's case as cursor answers differently:\n cross   %s\n unknown %s\n garbage %s", cross, unknown, garbage)
	}
	// The other school itself may page from its own case, and staff may
	// page across schools.
	mustStatus(t, e.Do("GET", "/v1/referrals?cursor="+theirs, other, nil), http.StatusOK)
	mustStatus(t, e.Do("GET", "/v1/referrals?cursor="+theirs, a.sw, nil), http.StatusOK)

	// Paging still works: two pages of one, then the end.
	seen := map[string]bool{}
	cursor := ""
	for range 2 {
		r := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/referrals?limit=1&min_position=%d&cursor=%s", pos, cursor), a.school, nil), http.StatusOK).JSON(t)
		items := r["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("page after %q = %v", cursor, items)
		}
		id := items[0].(map[string]any)["id"].(string)
		if seen[id] || id == theirs || r["next_cursor"] != id {
			t.Fatalf("page after %q: item %s, next_cursor %v", cursor, id, r["next_cursor"])
		}
		seen[id], cursor = true, id
	}
	if !seen[mine1] {
		t.Fatalf("the pages miss %s", mine1)
	}
	r := mustStatus(t, e.Do("GET", "/v1/referrals?limit=1&cursor="+cursor, a.school, nil), http.StatusOK).JSON(t)
	if len(r["items"].([]any)) != 0 {
		t.Fatalf("page after the last = %v", r["items"])
	}
}

// Issue 7, finding 6: a birth date in 2099 was accepted. A birth date
// must be real, not in the future and plausible for a junior-high
// student.
func TestFinding6ImplausibleBirthDatesAre400(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	before := lastPosition(t, e)
	for _, d := range []string{"2099-01-01", "2026-02-12", "1900-01-01", "2025-01-01", "2012-02-30", "2012-1-1"} {
		body := testenv.ValidReferral("A123456789")
		body["student"].(map[string]any)["birth_date"] = d
		if errs := problem(t, e.Do("POST", "/v1/referrals", a.school, body), "birth date "+d); errs["student.birth_date"] == "" {
			t.Errorf("birth date %s: want an error on student.birth_date, got %v", d, errs)
		}
	}
	if after := lastPosition(t, e); after != before {
		t.Fatalf("stream moved from %d to %d", before, after)
	}
}

// Issue 7, finding 6: a lower-case national ID was accepted as is. It is
// normalised to upper case: stored so, and the same person (one data
// key) as the upper-case form.
func TestFinding6LowercaseNationalIDIsTheSamePerson(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	lower, _ := open(t, e, a.school, testenv.ValidReferral(" a123456789 "))
	// Another school: one school refers a student once (R-CAP-1).
	upper, _ := open(t, e, e.Token(domain.RoleOriginSchool, "034502"), testenv.ValidReferral("A123456789"))
	opened := func(id string) events.ReferralOpened {
		l, err := e.Store.Load(context.Background(), streamOf(e, id))
		if err != nil || len(l.Events) == 0 {
			t.Fatalf("load %s: %v", id, err)
		}
		return l.Events[0].Payload.(events.ReferralOpened)
	}
	lo, up := opened(lower), opened(upper)
	if lo.PersonKey != up.PersonKey {
		t.Fatalf("a123456789 and A123456789 have different data keys: %s, %s", lo.PersonKey, up.PersonKey)
	}
	var p domain.Person
	if err := e.Sealer.Open(context.Background(), lo.Personal, &p); err != nil {
		t.Fatal(err)
	}
	if p.NationalID != "A123456789" {
		t.Fatalf("stored national ID %q, want it normalised to upper case", p.NationalID)
	}
	// Only ASCII letters are mapped: U+017F would upper-case to S, and
	// S123456784 is a valid number.
	problem(t, e.Do("POST", "/v1/referrals", a.school, testenv.ValidReferral("\u017f123456784")), "non-ASCII national ID")
}

// A problem never echoes the path: whatever a client typed where an id
// belongs (here a national ID and a name) stays out of the answer.
func TestProblemNeverEchoesThePath(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	tok := e.Token(domain.RoleSocialWorker, "")
	for _, p := range []string{"/v1/referrals/A123456789", "/v1/referrals/" + url.PathEscape("王小明"), "/v1/no-such/A123456789"} {
		r := e.Do("GET", p, tok, nil)
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("GET %s = %d", p, r.Status)
		}
		if strings.Contains(string(r.Body), "A123456789") || strings.Contains(string(r.Body), "王小明") || strings.Contains(string(r.Body), "%E7") {
			t.Errorf("GET %s echoed the path: %s", p, r.Body)
		}
	}
}
