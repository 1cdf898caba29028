package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/twid"
	"cihui/internal/testenv"
)

// nationalID completes a made-up 9-character prefix with its check digit.
func nationalID(t *testing.T, prefix string) string {
	t.Helper()
	for d := '0'; d <= '9'; d++ {
		if id := prefix + string(d); twid.Validate(id) == nil {
			return id
		}
	}
	t.Fatalf("no check digit for %s", prefix)
	return ""
}

// retentionJob returns the job on the environment's clock; it runs once the
// read models reflect every event.
func retentionJob(e *testenv.Env) *app.RetentionJob {
	return &app.RetentionJob{App: e.App, Source: e.Reader, Clock: e.Clock, CaughtUp: func(ctx context.Context) error {
		last, err := e.Store.LastPosition(ctx)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if got := e.Waiter.Wait(ctx, last); got < last {
			return fmt.Errorf("read models at %d of %d", got, last)
		}
		return nil
	}}
}

// confirmNotPassed has the committee confirm not-passed cases with reject at
// a meeting held and closed today: the day they close (R-MTG-2; a first
// review that found them not eligible closes nothing).
func confirmNotPassed(t *testing.T, e *testenv.Env, a actors, ids ...string) {
	t.Helper()
	today := e.Clock.Now().In(domain.Taipei).Format("2006-01-02")
	m := scheduleAndOpen(t, e, a.committee, "extra", today)
	for _, id := range ids {
		mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/resolutions", a.committee, map[string]any{"case_id": id, "resolution": "reject", "reason": "確認初審未通過"}), 200)
	}
	mustStatus(t, e.Do("POST", "/v1/meetings/"+m+"/close", a.committee, nil), 200)
}

func student(t *testing.T, e *testenv.Env, admin, id string) any {
	t.Helper()
	return mustStatus(t, e.Do("GET", fmt.Sprintf("%s/export?min_position=%d", referralPath(id), lastPos(t, e)), admin, nil), 200).JSON(t)["student"]
}

// 學生輔導法施行細則 §10 (issue 8, retention): with an injected clock, a
// case closed ten years and a day ago is erased as PersonErased{reason:
// retention_expired}; one closed ten years less a day ago is not; a case
// under legal hold is not, until the hold is lifted; a person with another
// case still kept is not (the key is the person's); and the job is
// idempotent.
func TestRetention_TenYearsAndADayLegalHoldAndPerPerson(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	t0 := e.Clock.Now() // 2026-02-11: the committee's rejections below close the cases
	old := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345678"))
	held := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345679"))
	twiceA := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345680"))
	confirmNotPassed(t, e, a, old, held, twiceA)
	e.Clock.Set(t0.AddDate(0, 0, 2)) // 2026-02-13
	recent := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345681"))
	twiceB := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345680"))
	confirmNotPassed(t, e, a, recent, twiceB)

	// The legal hold: a reason category and a sealed note; validated.
	mustStatus(t, e.Do("POST", referralPath(held)+"/legal-hold", a.admin, map[string]any{"reason": "because"}), http.StatusBadRequest)
	mustStatus(t, e.Do("POST", referralPath(held)+"/legal-hold", a.sw, map[string]any{"reason": "litigation"}), http.StatusForbidden)
	mustStatus(t, e.Do("POST", referralPath(held)+"/legal-hold", a.admin, map[string]any{"reason": "litigation", "note": "訴訟中，保存至判決確定"}), 200)
	mustStatus(t, e.Do("POST", referralPath(held)+"/legal-hold", a.admin, map[string]any{"reason": "audit"}), http.StatusConflict)
	// The timeline shows the hold's category, never its note.
	htl := mustStatus(t, e.Do("GET", fmt.Sprintf("%s/events?min_position=%d", referralPath(held), lastPos(t, e)), a.admin, nil), 200)
	if !strings.Contains(string(htl.Body), "legal hold：litigation") || strings.Contains(string(htl.Body), "訴訟中") {
		t.Errorf("the hold in the timeline: %s", htl.Body)
	}

	// Ten years and a day after 2026-02-11; ten years less a day after 2026-02-13.
	e.Clock.Set(time.Date(2036, 2, 12, 3, 0, 0, 0, domain.Taipei))
	due := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/retention/due?min_position=%d", lastPos(t, e)), a.admin, nil), 200).JSON(t)
	got := map[string]map[string]any{}
	for _, it := range due["items"].([]any) {
		m := it.(map[string]any)
		got[m["case_id"].(string)] = m
	}
	if len(got) != 3 || got[old] == nil || got[held] == nil || got[twiceA] == nil {
		t.Fatalf("due: %v, want the three cases closed on 2026-02-11", due["items"])
	}
	if g := got[old]; g["closed_on"] != "2026-02-11" || g["retention_end"] != "2036-02-11" || g["on_hold"] != false || g["person_due"] != true {
		t.Errorf("due entry of the old case: %v", g)
	}
	if g := got[held]; g["on_hold"] != true || g["hold_reason"] != "litigation" || g["person_due"] != false {
		t.Errorf("due entry of the held case: %v", g)
	}
	if g := got[twiceA]; g["person_due"] != false {
		t.Errorf("a person with a case still kept is due: %v", g)
	}

	job := retentionJob(e)
	n, err := job.RunOnce(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("retention run: %d erased, %v; want 1", n, err)
	}
	if student(t, e, a.admin, old) != nil {
		t.Error("the case closed ten years and a day ago still holds the student")
	}
	for name, id := range map[string]string{"closed ten years less a day ago": recent, "held": held, "person's other case kept": twiceA} {
		if student(t, e, a.admin, id) == nil {
			t.Errorf("%s: erased", name)
		}
	}
	tl := mustStatus(t, e.Do("GET", referralPath(old)+"/events", a.admin, nil), 200).JSON(t)["events"].([]any)
	last := tl[len(tl)-1].(map[string]any)
	if last["type"] != "PersonErased" || last["actor_role"] != "system" || last["summary"] != "個人資料已依規定銷毀（retention_expired）" {
		t.Errorf("the erasure's timeline entry: %v", last)
	}
	// Idempotent: nothing more to do.
	if n, err := job.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("second run: %d erased, %v; want 0", n, err)
	}

	// The hold lifted, the held case goes at the next run.
	mustStatus(t, e.Do("DELETE", referralPath(held)+"/legal-hold", a.admin, nil), 200)
	mustStatus(t, e.Do("DELETE", referralPath(held)+"/legal-hold", a.admin, nil), http.StatusConflict)
	if n, err := job.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("run after the lift: %d erased, %v; want 1", n, err)
	}
	if student(t, e, a.admin, held) != nil {
		t.Error("the case whose hold was lifted still holds the student")
	}

	// Two days later every case of the twice-referred person is past
	// retention: the person goes, both cases at once.
	e.Clock.Set(time.Date(2036, 2, 14, 3, 0, 0, 0, domain.Taipei))
	if n, err := job.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("run two days later: %d erased, %v; want 2 (the recent case and the twice-referred person)", n, err)
	}
	for _, id := range []string{twiceA, twiceB, recent} {
		if student(t, e, a.admin, id) != nil {
			t.Errorf("case %s still holds the student", id)
		}
	}
}

// The job runs at start and then at its interval, until stopped.
func TestRetentionJob_RunsOnItsInterval(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := e.ReviewedCase("034501", domain.OutcomeNotEligible, nationalID(t, "A22345678"))
	confirmNotPassed(t, e, a, id)
	job := retentionJob(e)
	job.Interval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); job.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond) // runs with nothing due
	if student(t, e, a.admin, id) == nil {
		t.Fatal("erased before its retention ended")
	}
	e.Clock.Set(time.Date(2036, 2, 12, 3, 0, 0, 0, domain.Taipei))
	deadline := time.Now().Add(10 * time.Second)
	for student(t, e, a.admin, id) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled job did not erase the case")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
