package web_test

import (
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// TestEnrolledPageLatencyAt20PerSecond is the enrolled-life pages' bench
// figure (issue 15: p99 < 50 ms at 20 requests/s), each page 100 times at
// 20/s, and their weight (under 150 KB). Only with CIHUI_PAGE_BENCH=1.
func TestEnrolledPageLatencyAt20PerSecond(t *testing.T) {
	if os.Getenv("CIHUI_PAGE_BENCH") == "" {
		t.Skip("set CIHUI_PAGE_BENCH=1 to measure page latency")
	}
	e := testenv.New(t, testenv.Options{})
	id := enrolledCase(t, e, "034501")
	for range 20 {
		e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	swTok := e.Token(domain.RoleSocialWorker, "")
	if r := e.Do("POST", "/v1/referrals/"+id+"/dropouts", swTok, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family"}); r.Status != http.StatusCreated {
		t.Fatalf("episode: %d %s", r.Status, r.Body)
	}
	time.Sleep(time.Second) // projected
	school := newClient(t, e)
	school.signIn(e.Token(domain.RoleOriginSchool, "034501"))
	sw := newClient(t, e)
	sw.signIn(swTok)
	cs := "/ui/cases/" + id
	for _, p := range []struct {
		c    *client
		path string
	}{
		{sw, cs + "/dropouts"}, {sw, cs + "/suspension"}, {sw, "/ui/suspension-grounds?as_of=2026-04-01"},
		{school, cs + "/dropouts"}, {school, cs + "/duties"}, {school, "/ui/duties"}, {school, "/ui/co-counselling"},
	} {
		var d []time.Duration
		size := 0
		tick := time.NewTicker(50 * time.Millisecond)
		for range 100 {
			<-tick.C
			start := time.Now()
			st, body := p.c.get(p.path)
			if st != http.StatusOK {
				t.Fatalf("%s: %d", p.path, st)
			}
			d = append(d, time.Since(start))
			size = len(body)
		}
		tick.Stop()
		slices.Sort(d)
		t.Logf("%s: p50 %v p99 %v max %v, %d bytes", p.path, d[49], d[98], d[99], size)
		if d[98] > 50*time.Millisecond {
			t.Errorf("%s: p99 %v, want < 50 ms", p.path, d[98])
		}
		if size > 150<<10 {
			t.Errorf("%s weighs %d bytes, more than 150 KB", p.path, size)
		}
	}
}
