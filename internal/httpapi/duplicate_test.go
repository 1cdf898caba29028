package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// keysOf returns the sorted keys of a JSON object.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// R-CAP-1 (issue 9 defect 13): the same origin school filing a student
// who has an open referral at the branch gets 409 (code conflict, rule
// R-CAP-1) and nothing is appended; a lower-case national ID is the same
// student. The problem never holds the national ID. Once the referral
// has lapsed (the end of its academic year), the school may refer the
// student again.
func TestR_CAP_1_SameSchoolOpenReferralIsConflict(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	first, _ := open(t, e, school, testenv.ValidReferral("A123456789"), "Idempotency-Key", "first")

	for _, nid := range []string{"A123456789", "a123456789"} {
		before := lastPosition(t, e)
		r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral(nid), "Idempotency-Key", "second-"+nid)
		if r.Status != http.StatusConflict {
			t.Fatalf("second filing (%s) = %d, want 409: %s", nid, r.Status, r.Body)
		}
		p := r.JSON(t)
		if p["code"] != "conflict" || p["rule"] != "R-CAP-1" || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("problem: %s", r.Body)
		}
		if strings.Contains(strings.ToUpper(string(r.Body)), "A123456789") {
			t.Fatalf("the problem holds the national ID: %s", r.Body)
		}
		if !strings.Contains(string(r.Body), first) {
			t.Fatalf("the problem should name the school's own open case %s: %s", first, r.Body)
		}
		if after := lastPosition(t, e); after != before {
			t.Fatalf("a refused filing appended %d events", after-before)
		}
	}
	// A retry of the first filing's own request is answered, not refused.
	if retry, _ := open(t, e, school, testenv.ValidReferral("A123456789"), "Idempotency-Key", "first"); retry != first {
		t.Fatalf("the retry answered %s, want %s", retry, first)
	}

	// The application lapses at the end of academic year 114 (Jul 31,
	// 2026); on Aug 3 a mid-year application for 115 is accepted.
	e.Clock.Set(time.Date(2026, 8, 3, 10, 0, 0, 0, domain.Taipei))
	again, _ := open(t, e, school, testenv.ValidReferral("A123456789"))
	if again == first {
		t.Fatal("the new filing answered the old case")
	}
}

// R-CAP-1: a filing by another school is accepted and flagged to the
// branch's social workers as a possible duplicate, on both cases, in the
// case and in the list. The filing school learns nothing of the other
// case: its answer has the shape of any filing's, and its views of its
// own case (detail, list, timeline) never name the other case or carry
// the flag.
func TestR_CAP_1_OtherSchoolFlaggedToSocialWorkersOnly(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	schoolA := e.Token(domain.RoleOriginSchool, "034501")
	schoolB := e.Token(domain.RoleOriginSchool, "034502")
	schoolC := e.Token(domain.RoleOriginSchool, "034503")
	sw := e.Token(domain.RoleSocialWorker, "")
	committee := e.Token(domain.RoleCommittee, "")

	a, _ := open(t, e, schoolA, testenv.ValidReferral("A123456789"))
	flagged := e.Do("POST", "/v1/referrals", schoolB, testenv.ValidReferral("A123456789"))
	clean := e.Do("POST", "/v1/referrals", schoolC, testenv.ValidReferral(testenv.NewNationalID()))
	if flagged.Status != http.StatusCreated || clean.Status != http.StatusCreated {
		t.Fatalf("filings: %d %s / %d %s", flagged.Status, flagged.Body, clean.Status, clean.Body)
	}
	fj, cj := flagged.JSON(t), clean.JSON(t)
	if !slices.Equal(keysOf(fj), keysOf(cj)) || fj["version"] != cj["version"] {
		t.Fatalf("a flagged filing's answer differs from a clean one's: %s vs %s", flagged.Body, clean.Body)
	}
	for _, h := range []string{"Location", "ETag", "Content-Type"} {
		if (flagged.Header.Get(h) == "") != (clean.Header.Get(h) == "") {
			t.Fatalf("header %s differs: %q vs %q", h, flagged.Header.Get(h), clean.Header.Get(h))
		}
	}
	b := fj["id"].(string)
	if strings.Contains(string(flagged.Body), a) {
		t.Fatalf("the answer names the other school's case: %s", flagged.Body)
	}

	// The branch's social workers see the flag on both cases.
	if got := get(t, e, sw, b); fmt.Sprint(got["possible_duplicates"]) != fmt.Sprint([]any{a}) {
		t.Fatalf("social worker's view of the new case: possible_duplicates %v", got["possible_duplicates"])
	}
	if got := get(t, e, sw, a); fmt.Sprint(got["possible_duplicates"]) != fmt.Sprint([]any{b}) {
		t.Fatalf("social worker's view of the earlier case: possible_duplicates %v", got["possible_duplicates"])
	}
	list := mustStatus(t, e.Do("GET", "/v1/referrals", sw, nil), 200).JSON(t)
	flags := map[string]string{}
	for _, it := range list["items"].([]any) {
		m := it.(map[string]any)
		flags[m["id"].(string)] = fmt.Sprint(m["possible_duplicates"])
	}
	if flags[a] != fmt.Sprint([]any{b}) || flags[b] != fmt.Sprint([]any{a}) || flags[cj["id"].(string)] != "[]" {
		t.Fatalf("social worker's list: %v", flags)
	}

	// Nobody else sees it; the filing school sees nothing of case a.
	for who, tok := range map[string]string{"school B": schoolB, "committee": committee} {
		got := get(t, e, tok, b)
		if _, ok := got["possible_duplicates"]; ok {
			t.Fatalf("%s sees possible_duplicates", who)
		}
	}
	for _, path := range []string{"/v1/referrals/" + b, "/v1/referrals", "/v1/referrals/" + b + "/events"} {
		r := mustStatus(t, e.Do("GET", path, schoolB, nil), 200)
		if strings.Contains(string(r.Body), a) || strings.Contains(string(r.Body), "duplicate") {
			t.Fatalf("GET %s as school B names the other case: %s", path, r.Body)
		}
	}
	if r := e.Do("GET", "/v1/referrals/"+a, schoolB, nil); r.Status != http.StatusNotFound {
		t.Fatalf("school B reading school A's case: %d", r.Status)
	}
}

// R-CAP-1 under a race: concurrent identical filings of one student by
// one school (each its own request, no Idempotency-Key) give exactly one
// 201; the others are 409 R-CAP-1, and the log holds one referral. The
// check is guarded by the student's person stream in the log, not by the
// read models (the projector is stopped throughout).
func TestR_CAP_1_ConcurrentIdenticalFilingsExactlyOneWins(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	school := e.Token(domain.RoleOriginSchool, "034501")
	body, err := json.Marshal(testenv.ValidReferral("A123456789"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	type answer struct {
		status int
		body   string
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", e.HTTP.URL+"/v1/referrals", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+school)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers[i] = answer{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers[i] = answer{resp.StatusCode, string(b)}
		}()
	}
	close(start)
	wg.Wait()
	created := 0
	for _, a := range answers {
		switch {
		case a.status == http.StatusCreated:
			created++
		case a.status == http.StatusConflict && strings.Contains(a.body, `"rule":"R-CAP-1"`):
		default:
			t.Errorf("answer %d: %s", a.status, a.body)
		}
	}
	if created != 1 {
		t.Fatalf("%d filings created, want exactly 1: %v", created, answers)
	}
	// The log holds exactly one ReferralOpened.
	last := lastPosition(t, e)
	stream, err := e.Store.JetStream().Stream(context.Background(), e.Store.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for seq := uint64(1); seq <= last; seq++ {
		raw, err := stream.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		env, err := e.Codec.Decode(raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := env.Payload.(events.ReferralOpened); ok {
			opened++
		}
	}
	if opened != 1 {
		t.Fatalf("the log holds %d ReferralOpened, want 1", opened)
	}
}

// R-CAP-1: a case filed before the duplicate check existed (its filing
// has no person-stream entry) still counts: the same school gets 409, and
// another school's filing is flagged against it.
func TestR_CAP_1_CaseFiledBeforeTheCheckCounts(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	other := e.Token(domain.RoleOriginSchool, "034502")
	sw := e.Token(domain.RoleSocialWorker, "")
	ctx := context.Background()

	// The filing as the code before the check recorded it: the referral's
	// event alone.
	key, err := e.Sealer.PersonKeyID(ctx, "A123456789")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := e.Sealer.Seal(ctx, key, domain.Person{StudentName: "舊案學生", NationalID: "A123456789"})
	if err != nil {
		t.Fatal(err)
	}
	old := "r" + strings.Repeat("a", 24)
	_, err = e.Store.Append(ctx, events.Append{
		Stream: events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: old},
		Events: []events.Event{events.ReferralOpened{ReferralID: old, OriginSchool: "034501", AcademicYear: 114,
			Route: "mid_year", Channel: "direct", ReceivedOn: calendar.NewDate(2026, 2, 2), Grade: 8, Sex: "F",
			Grounds: []string{"family_dysfunction"}, PersonKey: key, Personal: sealed}},
		Meta: events.Metadata{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}, OccurredAt: e.Clock.Now()},
	})
	if err != nil {
		t.Fatal(err)
	}
	get(t, e, sw, old) // the read models know it

	r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral("A123456789"))
	if r.Status != http.StatusConflict || r.JSON(t)["rule"] != "R-CAP-1" {
		t.Fatalf("same school, case filed before the check: %d %s", r.Status, r.Body)
	}
	b, _ := open(t, e, other, testenv.ValidReferral("A123456789"))
	if got := get(t, e, sw, b); fmt.Sprint(got["possible_duplicates"]) != fmt.Sprint([]any{old}) {
		t.Fatalf("flag against the earlier case: %v", got["possible_duplicates"])
	}
}

// R-CAP-1 under a race between schools: concurrent filings of one student
// by different schools are all accepted (each decided again after a
// concurrent one won), and every pair of them is flagged to the social
// workers, whichever came first.
func TestR_CAP_1_ConcurrentFilingsByOtherSchoolsAllFlagged(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	sw := e.Token(domain.RoleSocialWorker, "")
	const n = 4
	tokens := make([]string, n)
	for i := range n {
		tokens[i] = e.Token(domain.RoleOriginSchool, fmt.Sprintf("0345%02d", i+1))
	}
	body, err := json.Marshal(testenv.ValidReferral("A123456789"))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	errs := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", e.HTTP.URL+"/v1/referrals", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var res struct {
				ID string `json:"id"`
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &res) != nil {
				errs[i] = fmt.Sprintf("%d %s", resp.StatusCode, b)
				return
			}
			ids[i] = res.ID
		}()
	}
	close(start)
	wg.Wait()
	for i, msg := range errs {
		if msg != "" {
			t.Fatalf("school %d: %s", i+1, msg)
		}
	}
	for _, id := range ids {
		got := get(t, e, sw, id)
		var want []string
		for _, other := range ids {
			if other != id {
				want = append(want, other)
			}
		}
		slices.Sort(want)
		if fmt.Sprint(got["possible_duplicates"]) != fmt.Sprint(want) {
			t.Fatalf("case %s: possible_duplicates %v, want %v", id, got["possible_duplicates"], want)
		}
	}
}
