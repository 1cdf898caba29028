package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// Issue 15: an admin resets another person's password through the API.
// The answer shows a temporary password once; the old password is
// refused, every session of the person ends, the temporary one signs in;
// the reset is in the person's history with the admin as actor; the
// password never reaches the log. Non-admins get 403, the admin's own
// reset 409, an unknown person 404, a body 400.
func TestAdminResetsPassword_OldRefusedSessionsEnded(t *testing.T) {
	var log bytes.Buffer
	e := testenv.New(t, testenv.Options{Log: slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	adminTok := e.Token(domain.RoleAdmin, "")
	admin := e.PersonOfToken(adminTok)
	swTok := e.Token(domain.RoleSocialWorker, "")
	worker := e.NewPerson("許社工", domain.Scope{Role: domain.RoleSocialWorker})
	b := e.NewBrowser()
	if r := signIn(b, worker.Email, worker.Password, ""); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	mustStatus(t, b.Do("GET", "/v1/me", nil), 200)

	path := "/v1/people/" + worker.ID + "/password-reset"
	mustStatus(t, e.Do("POST", path, swTok, nil), http.StatusForbidden)
	mustStatus(t, e.Do("POST", path, adminTok, map[string]any{"password": "mine"}), http.StatusBadRequest)
	mustStatus(t, e.Do("POST", "/v1/people/per_0000000000000000/password-reset", adminTok, nil), http.StatusNotFound)
	mustStatus(t, e.Do("POST", "/v1/people/"+admin.ID+"/password-reset", adminTok, nil), http.StatusConflict)
	if r := mustStatus(t, b.Do("GET", "/v1/me", nil), 200); r.Status != 200 {
		t.Fatal("a refused reset ended the session")
	}

	r := mustStatus(t, e.Do("POST", path, adminTok, nil), 200)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	temp, _ := r.JSON(t)["temporary_password"].(string)
	if len(temp) < 12 || temp == worker.Password {
		t.Fatalf("temporary password %q", temp)
	}
	if r := b.Do("GET", "/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the person's session after the reset: %d, want 401", r.Status)
	}
	if r := signIn(e.NewBrowser(), worker.Email, worker.Password, ""); r.Status != http.StatusUnauthorized {
		t.Errorf("the old password after the reset: %d, want 401", r.Status)
	}
	b2 := e.NewBrowser()
	if r := signIn(b2, worker.Email, temp, ""); r.Status != http.StatusSeeOther {
		t.Fatalf("the temporary password: %d %s", r.Status, r.Body)
	}
	// The person then sets their own.
	mustStatus(t, b2.Do("PUT", "/v1/me/password", map[string]any{"password": "a new one of my own 慈輝", "current": temp}, "X-CSRF-Token", b2.CSRF()), http.StatusNoContent)

	h := mustStatus(t, e.Do("GET", "/v1/people/"+worker.ID+"/history", adminTok, nil), 200).JSON(t)["items"].([]any)
	found := false
	for _, it := range h {
		if c := it.(map[string]any); c["actor_id"] == admin.ID && c["actor_role"] == "admin" {
			found = true
		}
	}
	if !found {
		t.Errorf("the reset is not in the person's history with the admin as actor: %v", h)
	}
	if strings.Contains(log.String(), temp) || strings.Contains(string(h[len(h)-1].(map[string]any)["after"].(map[string]any)["name"].(string)), temp) {
		t.Error("the temporary password is in the log or the history")
	}
}

// Issue 15: an admin resets another person's second factor: it is
// cleared, every session of the person ends, the change is recorded; a
// non-admin gets 403.
func TestAdminResetsTOTP_ClearedSessionsEnded(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	adminTok := e.Token(domain.RoleAdmin, "")
	admin := e.PersonOfToken(adminTok)
	other := e.NewPerson("林管理", domain.Scope{Role: domain.RoleAdmin}) // admins have a second factor
	b := e.NewBrowser()
	if r := signIn(b, other.Email, other.Password, other.Code()); r.Status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	path := "/v1/people/" + other.ID + "/totp"
	mustStatus(t, e.Do("DELETE", path, e.Token(domain.RoleBureau, ""), nil), http.StatusForbidden)
	mustStatus(t, e.Do("DELETE", "/v1/people/"+admin.ID+"/totp", adminTok, nil), http.StatusConflict)
	mustStatus(t, e.Do("DELETE", path, adminTok, nil), http.StatusNoContent)
	if r := b.Do("GET", "/v1/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the person's session after the reset: %d, want 401", r.Status)
	}
	p := mustStatus(t, e.Do("GET", "/v1/people/"+other.ID, adminTok, nil), 200).JSON(t)
	if p["totp_enrolled"] != false {
		t.Errorf("second factor after the reset: %v", p["totp_enrolled"])
	}
	h := mustStatus(t, e.Do("GET", "/v1/people/"+other.ID+"/history", adminTok, nil), 200).JSON(t)["items"].([]any)
	last := h[len(h)-1].(map[string]any)
	if last["actor_id"] != admin.ID || last["before"].(map[string]any)["totp_enrolled"] != true || last["after"].(map[string]any)["totp_enrolled"] != false {
		t.Errorf("the history's last change: %v", last)
	}
	// An admin without a second factor cannot sign in with a password.
	if r := signIn(e.NewBrowser(), other.Email, other.Password, ""); r.Status != http.StatusUnauthorized {
		t.Errorf("sign-in without the second factor: %d", r.Status)
	}
}

// Issue 15: an admin runs retention on demand. It erases as the scheduled
// job does, answers in counts, is idempotent, and is 409 while a run is
// in progress; non-admins get 403, a body 400.
func TestAdminRunsRetention_CountsIdempotent409(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	old := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345678"))
	kept := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345679"))
	confirmNotPassed(t, e, a, old)
	mustStatus(t, e.Do("POST", "/v1/retention/runs", a.sw, nil), http.StatusForbidden)
	mustStatus(t, e.Do("POST", "/v1/retention/runs", a.admin, `{"now":true}`), http.StatusBadRequest)
	run := func() map[string]any {
		t.Helper()
		return mustStatus(t, e.Do("POST", "/v1/retention/runs", a.admin, nil), 200).JSON(t)
	}
	counts := func(r map[string]any) string {
		return fmt.Sprint(r["cases_past_retention"], r["cases_on_hold"], r["people_due"], r["people_erased"], r["failed"])
	}
	if r := run(); counts(r) != "0 0 0 0 0" {
		t.Errorf("a run with nothing past retention: %v", r)
	}
	e.Clock.Set(time.Date(2036, 2, 12, 3, 0, 0, 0, domain.Taipei)) // ten years and a day after the close
	r := run()
	if counts(r) != "1 0 1 1 0" || r["today"] != "2036-02-12" {
		t.Errorf("the run: %v, want one case past retention, one person erased", r)
	}
	if student(t, e, a.admin, old) != nil {
		t.Error("the case past retention still holds the student")
	}
	for k := range r {
		switch k {
		case "cases_past_retention", "cases_on_hold", "people_due", "people_erased", "failed", "today", "started_at", "finished_at":
		default:
			t.Errorf("the answer has %q: counts only", k)
		}
	}
	if r := run(); counts(r) != "0 0 0 0 0" {
		t.Errorf("the run again: %v, want nothing done (the erased person left)", r)
	}

	// While a run waits for the read models (the projector stopped behind
	// a new event), another is refused.
	e.StopProjector()
	mustStatus(t, e.Do("POST", referralPath(kept)+"/legal-hold", a.admin, map[string]any{"reason": "audit"}), 200)
	first := make(chan testenv.Response, 1)
	go func() { first <- e.Do("POST", "/v1/retention/runs", a.admin, nil) }()
	time.Sleep(300 * time.Millisecond) // the first takes the lock, then waits
	deadline := time.Now().Add(25 * time.Second)
	for {
		r := e.Do("POST", "/v1/retention/runs", a.admin, nil)
		if r.Status == http.StatusConflict {
			if !strings.Contains(r.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("409 as %s", r.Header.Get("Content-Type"))
			}
			break
		}
		// This one took the lock before the first: it waits for the
		// read models too, and would answer 503.
		if time.Now().After(deadline) {
			t.Fatalf("no 409 while a run is in progress: %d %s", r.Status, r.Body)
		}
	}
	e.StartProjector()
	if r := <-first; r.Status != 200 && r.Status != http.StatusServiceUnavailable {
		t.Errorf("the run in progress: %d %s", r.Status, r.Body)
	}
	run()
}

// Issue 15: a quarantined event is listed for the admin (position,
// stream, type, SQLSTATE and class, attempts, when; never a value); a
// retry asked for while the cause is there leaves it quarantined with
// more attempts; after the fix a retry of that one event applies it and
// the event held behind it, through the running projector. Non-admins get
// 403; a bad position 400, an unknown one 404.
func TestAdminQuarantine_ListedAndRetriedUntilApplied(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := mustStatus(t, e.Do("POST", "/v1/referrals", a.school, testenv.ValidReferral(nationalID(t, "A22345670"))), http.StatusCreated).JSON(t)["id"].(string)
	// The read models refuse 432 pages: the event applies nowhere.
	if _, err := e.DB.Exec(`ALTER TABLE case_documents ADD CONSTRAINT test_poison CHECK (pages IS DISTINCT FROM 432)`); err != nil {
		t.Fatal(err)
	}
	put := func(item, pages int) {
		t.Helper()
		mustStatus(t, e.Do("PUT", fmt.Sprintf("/v1/referrals/%s/documents/%d", id, item), a.school, map[string]any{"pages": pages}), 200)
	}
	put(4, 432)
	put(6, 2) // held behind it
	list := func() []any {
		t.Helper()
		return mustStatus(t, e.Do("GET", "/v1/projections/quarantine", a.admin, nil), 200).JSON(t)["items"].([]any)
	}
	var q map[string]any
	waitUntil(t, "the event is quarantined and the next held", func() bool {
		l := list()
		if len(l) != 1 {
			return false
		}
		q = l[0].(map[string]any)
		return q["held"] == float64(1)
	})
	if q["aggregate_id"] != id || q["event_type"] != "DocumentSubmitted" || q["error_code"] != "23514" ||
		q["error_class"] != "integrity_constraint_violation" || q["attempts"] != float64(3) || q["quarantined_at"] == nil ||
		!strings.HasSuffix(q["stream"].(string), "."+id) {
		t.Errorf("the quarantined event: %v", q)
	}
	raw := string(e.Do("GET", "/v1/projections/quarantine", a.admin, nil).Body)
	if strings.Contains(raw, "pages") || strings.Contains(raw, ":432") {
		t.Errorf("the list shows a value: %s", raw)
	}
	for k := range q {
		switch k {
		case "position", "stream", "aggregate_type", "aggregate_id", "event_type", "error_code", "error_class", "attempts", "quarantined_at", "retried_at", "retry_requested_at", "held":
		default:
			t.Errorf("the list has %q", k)
		}
	}
	pos := uint64(q["position"].(float64))
	mustStatus(t, e.Do("GET", "/v1/projections/quarantine", a.sw, nil), http.StatusForbidden)
	mustStatus(t, e.Do("POST", "/v1/projections/quarantine/retry", a.sw, nil), http.StatusForbidden)
	mustStatus(t, e.Do("POST", "/v1/projections/quarantine/x1/retry", a.admin, nil), http.StatusBadRequest)
	mustStatus(t, e.Do("POST", "/v1/projections/quarantine/0/retry", a.admin, nil), http.StatusBadRequest)
	mustStatus(t, e.Do("POST", "/v1/projections/quarantine/999999/retry", a.admin, nil), http.StatusNotFound)
	mustStatus(t, e.Do("POST", "/v1/projections/quarantine/retry", a.admin, `{"all":true}`), http.StatusBadRequest)

	// Retried with the cause still there: it stays, with more attempts.
	if r := mustStatus(t, e.Do("POST", "/v1/projections/quarantine/retry", a.admin, nil), http.StatusAccepted).JSON(t); r["marked"] != float64(1) {
		t.Errorf("marked: %v", r)
	}
	waitUntil(t, "the projector retried it", func() bool {
		l := list()
		return len(l) == 1 && l[0].(map[string]any)["retry_requested_at"] == nil && l[0].(map[string]any)["attempts"] == float64(6)
	})

	// After the fix, the one event: it and the held one apply.
	if _, err := e.DB.Exec(`ALTER TABLE case_documents DROP CONSTRAINT test_poison`); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.Do("POST", fmt.Sprintf("/v1/projections/quarantine/%d/retry", pos), a.admin, nil), http.StatusAccepted)
	waitUntil(t, "the retried events applied", func() bool { return len(list()) == 0 })
	var items []int
	if err := e.DB.Select(&items, `SELECT item FROM case_documents WHERE case_id = $1 AND submitted AND item IN (4, 6) ORDER BY item`, id); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(items) != "[4 6]" {
		t.Errorf("items applied after the retry: %v", items)
	}
	if r := e.Do("GET", "/readyz", "", nil).JSON(t); r["status"] != "ready" || r["held_events"] != float64(0) {
		t.Errorf("readyz after the retry: %v", r)
	}
}

// waitUntil polls cond for up to 15 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
