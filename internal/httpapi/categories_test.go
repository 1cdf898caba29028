package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// categoriesOf returns a case's categories as the API shows them.
func categoriesOf(t *testing.T, got map[string]any) string {
	t.Helper()
	c, ok := got["categories"].(map[string]any)
	if !ok {
		t.Fatalf("no categories: %v", got)
	}
	return fmt.Sprintf("%v %v", c["family_background"], c["identity"])
}

// R-STAT-2 (issue 11): the family background and the identity flags are
// filed with the referral, validated against their closed sets, and shown
// on the case; a filing without them shows them unknown.
func TestR_STAT_2_CategoriesFiledWithTheReferral(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	sw := e.Token(domain.RoleSocialWorker, "")

	body := testenv.ValidReferral(testenv.NewNationalID())
	body["categories"] = map[string]any{"family_background": "single_parent", "identity": []string{"institutional_care", "indigenous"}}
	id, _ := open(t, e, school, body)
	if got := categoriesOf(t, get(t, e, school, id)); got != "single_parent [indigenous institutional_care]" {
		t.Fatalf("filed categories as the school sees them: %s", got)
	}
	list := mustStatus(t, e.Do("GET", "/v1/referrals", sw, nil), 200).JSON(t)["items"].([]any)
	if got := categoriesOf(t, list[0].(map[string]any)); got != "single_parent [indigenous institutional_care]" {
		t.Fatalf("filed categories in the social worker's list: %s", got)
	}

	none, _ := open(t, e, school, testenv.ValidReferral(testenv.NewNationalID()))
	if got := categoriesOf(t, get(t, e, sw, none)); got != "unknown [unknown]" {
		t.Fatalf("a filing without categories: %s", got)
	}
	known, _ := open(t, e, school, func() map[string]any {
		b := testenv.ValidReferral(testenv.NewNationalID())
		b["categories"] = map[string]any{"family_background": "both_parents", "identity": []string{}}
		return b
	}())
	if got := categoriesOf(t, get(t, e, sw, known)); got != "both_parents []" {
		t.Fatalf("identity recorded as none applying: %s", got)
	}

	for _, bad := range []map[string]any{
		{"family_background": "雙親"},
		{"identity": []string{"indigenous", "unknown"}},
		{"identity": []string{"refugee"}},
		{"religion": "none"},
	} {
		b := testenv.ValidReferral(testenv.NewNationalID())
		b["categories"] = bad
		before := lastPosition(t, e)
		r := e.Do("POST", "/v1/referrals", school, b)
		if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("categories %v: %d %s", bad, r.Status, r.Body)
		}
		if after := lastPosition(t, e); after != before {
			t.Fatalf("categories %v: a refused filing appended events", bad)
		}
	}
}

// R-STAT-2 (issue 11): the origin school and the branch's social workers
// correct the categories through the referral's command; a correction
// names only what it changes, "unknown" clears a value, one that changes
// nothing records nothing, other roles are refused and another school's
// case is not found.
func TestR_STAT_2_CategoriesCorrected(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	other := e.Token(domain.RoleOriginSchool, "034502")
	sw := e.Token(domain.RoleSocialWorker, "")
	committee := e.Token(domain.RoleCommittee, "")
	id, _ := open(t, e, school, testenv.ValidReferral(testenv.NewNationalID()))
	path := "/v1/referrals/" + id + "/categories"

	mustStatus(t, e.Do("PUT", path, school, map[string]any{"family_background": "single_parent"}), 200)
	if got := categoriesOf(t, get(t, e, sw, id)); got != "single_parent [unknown]" {
		t.Fatalf("after the school's correction: %s", got)
	}
	r := mustStatus(t, e.Do("PUT", path, sw, map[string]any{"identity": []string{"new_immigrant_parent"}}), 200).JSON(t)
	if got := categoriesOf(t, get(t, e, school, id)); got != "single_parent [new_immigrant_parent]" {
		t.Fatalf("after the social worker's correction: %s", got)
	}
	// The same again changes nothing and records nothing.
	before := lastPosition(t, e)
	again := mustStatus(t, e.Do("PUT", path, sw, map[string]any{"identity": []string{"new_immigrant_parent"}}), 200).JSON(t)
	if again["version"] != r["version"] || lastPosition(t, e) != before {
		t.Fatalf("an idle correction recorded something: %v then %v", r, again)
	}
	mustStatus(t, e.Do("PUT", path, school, map[string]any{"family_background": "unknown"}), 200)
	if got := categoriesOf(t, get(t, e, sw, id)); got != "unknown [new_immigrant_parent]" {
		t.Fatalf("after clearing the family background: %s", got)
	}
	tl := mustStatus(t, e.Do("GET", "/v1/referrals/"+id+"/events", school, nil), 200).JSON(t)["events"].([]any)
	if n := len(tl); n != 4 || tl[1].(map[string]any)["type"] != "CategoriesCorrected" {
		t.Fatalf("timeline: %v", tl)
	}

	for who, c := range map[string]struct {
		token string
		body  any
		want  int
	}{
		"committee":    {committee, map[string]any{"family_background": "no_parent"}, http.StatusForbidden},
		"other school": {other, map[string]any{"family_background": "no_parent"}, http.StatusNotFound},
		"empty":        {school, map[string]any{}, http.StatusBadRequest},
		"bad value":    {school, map[string]any{"identity": []string{"foreign"}}, http.StatusBadRequest},
	} {
		before := lastPosition(t, e)
		if r := e.Do("PUT", path, c.token, c.body); r.Status != c.want {
			t.Fatalf("%s: %d %s, want %d", who, r.Status, r.Body, c.want)
		}
		if lastPosition(t, e) != before {
			t.Fatalf("%s: a refused correction appended events", who)
		}
	}
}

// R-STAT-2 (issue 11): the categories are kept in the clear, so they
// survive the erasure of the student's personal data — and can still be
// corrected afterwards.
func TestR_STAT_2_CategoriesSurviveErasure(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	sw := e.Token(domain.RoleSocialWorker, "")
	admin := e.Token(domain.RoleAdmin, "")
	body := testenv.ValidReferral(testenv.NewNationalID())
	body["categories"] = map[string]any{"family_background": "no_parent", "identity": []string{"indigenous"}}
	id, _ := open(t, e, school, body)

	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/erasure", admin, map[string]any{"reason": "data_subject_request"}), 200)
	got := get(t, e, sw, id)
	if got["student"] != nil {
		t.Fatalf("the student is not erased: %v", got["student"])
	}
	if c := categoriesOf(t, got); c != "no_parent [indigenous]" {
		t.Fatalf("categories after the erasure: %s", c)
	}
	mustStatus(t, e.Do("PUT", "/v1/referrals/"+id+"/categories", sw, map[string]any{"identity": []string{"indigenous", "institutional_care"}}), 200)
	if c := categoriesOf(t, get(t, e, sw, id)); c != "no_parent [indigenous institutional_care]" {
		t.Fatalf("categories corrected after the erasure: %s", c)
	}
	// And a rebuild of the read models from the log gives them again.
	e.StopProjector()
	if err := projections.Reset(context.Background(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if cp, err := projections.Checkpoint(context.Background(), e.DB); err == nil && cp >= lastPosition(t, e) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rebuild did not catch up")
		}
	}
	if c := categoriesOf(t, get(t, e, sw, id)); c != "no_parent [indigenous institutional_care]" {
		t.Fatalf("categories after a rebuild: %s", c)
	}
}

// R-STAT-2 (issue 11): a case filed before categories were recorded (its
// ReferralOpened has none, as every older event) shows them unknown, and
// can be corrected.
func TestR_STAT_2_CaseFiledBeforeCategoriesShowsUnknown(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	sw := e.Token(domain.RoleSocialWorker, "")
	ctx := context.Background()
	key, err := e.Sealer.PersonKeyID(ctx, testenv.NewNationalID())
	if err != nil {
		t.Fatal(err)
	}
	old := "r" + strings.Repeat("b", 24)
	// The JSON of an event written before categories were carried.
	raw := `{"referral_id":"` + old + `","origin_school":"034501","academic_year":114,"route":"mid_year","channel":"direct",
		"received_on":"2026-02-02","grade":8,"sex":"M","grounds":["low_income_risk"],"person_key":"` + key + `"}`
	var opened events.ReferralOpened
	if err := json.Unmarshal([]byte(raw), &opened); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Append(ctx, events.Append{
		Stream: events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: old},
		Events: []events.Event{opened},
		Meta:   events.Metadata{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}, OccurredAt: e.Clock.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	if c := categoriesOf(t, get(t, e, sw, old)); c != "unknown [unknown]" {
		t.Fatalf("an old case: %s", c)
	}
	mustStatus(t, e.Do("PUT", "/v1/referrals/"+old+"/categories", sw, map[string]any{"family_background": "both_parents"}), 200)
	if c := categoriesOf(t, get(t, e, sw, old)); c != "both_parents [unknown]" {
		t.Fatalf("an old case corrected: %s", c)
	}
}
