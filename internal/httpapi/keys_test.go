package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// personKey reads the person key a referral was filed under.
func personKey(t *testing.T, e *testenv.Env, id string) string {
	t.Helper()
	loaded, err := e.Store.Load(context.Background(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id})
	if err != nil || len(loaded.Events) == 0 {
		t.Fatalf("loading %s: %v", id, err)
	}
	return loaded.Events[0].Payload.(events.ReferralOpened).PersonKey
}

// Issue 8, finding 4: after an erasure, any school may refer the same
// child again; the filing succeeds as a new person under a new random
// key, and neither the answer nor the new case shows anything of the
// past. While the student lives, a second referral shares their key.
func TestErasedStudentReferredAgainAsNewPerson(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	otherSchool := e.Token(domain.RoleOriginSchool, "034502")
	sw := e.Token(domain.RoleSocialWorker, "")
	admin := e.Token(domain.RoleAdmin, "")

	first, _ := open(t, e, school, testenv.ValidReferral("A123456789"))
	second, _ := open(t, e, otherSchool, testenv.ValidReferral("A123456789"))
	if a, b := personKey(t, e, first), personKey(t, e, second); a != b {
		t.Fatalf("two referrals of one living student: keys %s and %s", a, b)
	}
	if k := personKey(t, e, first); strings.Contains(k, "A123456789") {
		t.Fatal("the key id holds the national ID")
	}
	if r := e.Do("POST", referralPath(first)+"/erasure", admin, map[string]any{"reason": "data_subject_request"}); r.Status != 200 {
		t.Fatalf("erasure: %d %s", r.Status, r.Body)
	}

	body := testenv.ValidReferral("A123456789")
	body["student"].(map[string]any)["name"] = "新的學生"
	r := e.Do("POST", "/v1/referrals", otherSchool, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("referring an erased student again: %d %s", r.Status, r.Body)
	}
	if strings.Contains(strings.ToLower(string(r.Body)), "eras") {
		t.Fatalf("the answer speaks of the past: %s", r.Body)
	}
	res := r.JSON(t)
	again := res["id"].(string)
	old := personKey(t, e, first)
	if k := personKey(t, e, again); k == old {
		t.Fatal("the new referral was filed under the destroyed key")
	}
	got := e.Do("GET", fmt.Sprintf("%s?min_position=%d", referralPath(again), uint64(res["position"].(float64))), sw, nil)
	if got.Status != 200 {
		t.Fatalf("reading the new case: %d %s", got.Status, got.Body)
	}
	if !strings.Contains(string(got.Body), "新的學生") || strings.Contains(strings.ToLower(string(got.Body)), "eras") {
		t.Fatalf("the new case: %s", got.Body)
	}
	tl := e.Do("GET", referralPath(again)+"/events", sw, nil).JSON(t)["events"].([]any)
	if len(tl) != 1 {
		t.Fatalf("the new case's timeline has %d events, want 1", len(tl))
	}
}

// Issue 8, finding 3: request_hash is an HMAC under the server secret, not
// a plain SHA-256 of the request, so a national ID in the body cannot be
// recovered from the log by brute force. Two servers with different
// secrets store different hashes for the very same request.
func TestRequestHashDependsOnServerSecret(t *testing.T) {
	hashes := map[string]bool{}
	body := testenv.ValidReferral("A123456789")
	for i := range 2 {
		e := testenv.New(t, testenv.Options{NoProjector: true})
		school := e.Token(domain.RoleOriginSchool, "034501")
		r := e.Do("POST", "/v1/referrals", school, body, "Idempotency-Key", "same-key")
		if r.Status != http.StatusCreated {
			t.Fatalf("server %d: %d %s", i, r.Status, r.Body)
		}
		id := r.JSON(t)["id"].(string)
		loaded, err := e.Store.Load(context.Background(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		h := loaded.Events[0].RequestHash
		if h == "" {
			t.Fatal("no request_hash stored")
		}
		raw, _ := json.Marshal(body)
		for _, plain := range [][]byte{raw, append([]byte("POST /v1/referrals\x00"), raw...)} {
			sum := sha256.Sum256(plain)
			if h == hex.EncodeToString(sum[:]) {
				t.Fatal("request_hash is a plain SHA-256 of the request")
			}
		}
		hashes[h] = true
		// The same request again is still recognised (idempotency holds).
		if again := e.Do("POST", "/v1/referrals", school, body, "Idempotency-Key", "same-key"); again.JSON(t)["id"] != id {
			t.Fatalf("retry: %d %s", again.Status, again.Body)
		}
	}
	if len(hashes) != 2 {
		t.Fatal("the same request under two server secrets gave the same request_hash")
	}
}

// Issue 8, finding 5: the enrolment override reason and the withdrawal
// reason are free text about a student: they are sealed with the
// student's key in the log (no message of the event stream holds them),
// the timeline does not show them, and they open with the key.
func TestFreeTextReasonsSealed(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	// A second admitted student declines the place (an enrolled one
	// cannot withdraw, R-SUS-1 decision).
	declining := e.RecommendedCase("034501", domain.OutcomeRecommend)
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/resolutions", a.committee, map[string]any{"case_id": declining, "resolution": "admit"}), 200)
	mustStatus(t, e.Do("POST", "/v1/meetings/"+meeting+"/close", a.committee, map[string]any{"reporting_date": "2026-04-07"}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/health-check", a.sw, map[string]any{"examined_on": "2026-02-01"}), 200)
	const override, withdrawal = "手足同班之特別理由", "家庭搬遷外縣市之理由"
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/enrolment", a.sw, map[string]any{"grade": 8, "class": "8-1", "override_reason": override}), 200)
	res := mustStatus(t, e.Do("POST", "/v1/referrals/"+declining+"/withdrawal", a.sw, map[string]any{"reason": withdrawal}), 200).JSON(t)

	ctx := context.Background()
	st, err := e.Store.JetStream().Stream(ctx, e.Store.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(m.Data), override) || strings.Contains(string(m.Data), withdrawal) {
			t.Fatalf("event %d (%s) holds a reason in the clear", seq, m.Subject)
		}
	}
	opened := map[string]bool{}
	for _, id := range []string{id, declining} {
		tl := e.Do("GET", fmt.Sprintf("%s/events?min_position=%d", referralPath(id), uint64(res["position"].(float64))), a.sw, nil)
		if strings.Contains(string(tl.Body), override) || strings.Contains(string(tl.Body), withdrawal) {
			t.Fatalf("the timeline shows a reason: %s", tl.Body)
		}
		loaded, err := e.Store.Load(ctx, events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range loaded.Events {
			var s events.Sealed
			switch p := env.Payload.(type) {
			case events.Enrolled:
				s = p.OverrideReason
			case events.PlaceReleased:
				s = p.Reason
			default:
				continue
			}
			var text string
			if err := e.Sealer.Open(ctx, s, &text); err != nil {
				t.Fatalf("%s: %v", env.Type, err)
			}
			opened[text] = true
		}
	}
	if !opened[override] || !opened[withdrawal] {
		t.Fatalf("opened %v", opened)
	}
}
