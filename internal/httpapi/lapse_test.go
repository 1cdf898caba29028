package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cihui/internal/app"
	"cihui/internal/testenv"
)

// lapseJob returns the lapse job of the environment's service (its clock);
// it runs once the read models reflect every event.
func lapseJob(e *testenv.Env) *app.LapseJob {
	return &app.LapseJob{App: e.App, Source: e.Reader, CaughtUp: func(ctx context.Context) error {
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

// R-MID-3 Decision: a returned application not re-submitted by the
// window's end lapses: the API's job closes it with a letter, the case
// shows its end state and reason; the job is idempotent, and a lapsed
// application is not re-submitted.
func TestR_MID_3_ReturnedApplicationLapses(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := returned(t, e, a)
	open := returned(t, e, a)
	completeChecklist(t, e, a, open, false)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+open+"/resubmission", a.school, nil), 200)

	job := lapseJob(e)
	// On the window's (extended) last day nothing lapses.
	e.Clock.Set(day(2026, 3, 2))
	if n, err := job.RunOnce(t.Context()); err != nil || n != 0 {
		t.Fatalf("on the last day: %d lapsed, %v", n, err)
	}
	e.Clock.Set(day(2026, 3, 3))
	if n, err := job.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("the day after: %d lapsed, %v", n, err)
	}
	got := get(t, e, a.school, id)
	end, _ := got["end"].(map[string]any)
	if got["stage"] != "lapsed" || end["state"] != "lapsed" || end["on"] != "2026-03-03" || !strings.Contains(end["reason"].(string), "2026-03-02") {
		t.Fatalf("lapsed case: stage %v end %v", got["stage"], got["end"])
	}
	letters := got["letters"].([]any)
	if l := letters[len(letters)-1].(map[string]any); !strings.Contains(l["subject"].(string), "失效") || !strings.Contains(l["outcome"].(string), "R-MID-3") {
		t.Fatalf("lapse letter: %v", l)
	}
	if s := get(t, e, a.school, open)["stage"]; s != "intake" {
		t.Fatalf("the re-submitted application: stage %v", s)
	}
	// Idempotent: a second run appends nothing.
	before := lastPos(t, e)
	if n, err := job.RunOnce(t.Context()); err != nil || n != 0 || lastPos(t, e) != before {
		t.Fatalf("second run: %d lapsed, %v, log %d → %d", n, err, before, lastPos(t, e))
	}
	if r := e.Do("POST", "/v1/referrals/"+id+"/resubmission", a.school, nil); r.Status != 422 {
		t.Fatalf("re-submitting a lapsed application: %d %s", r.Status, r.Body)
	}
	l := mustStatus(t, e.Do("GET", "/v1/referrals?status=lapsed", a.sw, nil), 200).JSON(t)
	if items := l["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Fatalf("?status=lapsed: %v", l["items"])
	}
}

// R-MID-3 Decision: the lapse job runs on its interval, on the injected
// clock: nothing lapses while the window is open; once the clock passes
// the window's last day the running job closes the returned application.
func TestR_MID_3_LapseJobRunsOnItsInterval(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := returned(t, e, a)
	job := lapseJob(e)
	job.Interval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); job.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond) // runs with the window open
	if s := get(t, e, a.sw, id)["stage"]; s != "returned" {
		t.Fatalf("lapsed while the window is open: %v", s)
	}
	e.Clock.Set(day(2026, 3, 3))
	deadline := time.Now().Add(10 * time.Second)
	for get(t, e, a.sw, id)["stage"] != "lapsed" {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled job did not lapse the returned application")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
