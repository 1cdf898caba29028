package web_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// TestPageLatencyAt20PerSecond is the pages' bench figure (issue 15:
// p99 < 50 ms at 20 requests/s): each page 100 times at 20/s, signed in
// with a people session. In the same run it measures, as a baseline, the
// API's JSON for the same case with a bearer token, and logs the ratio.
// It runs only with CIHUI_PAGE_BENCH=1, since a shared machine makes it
// noisy.
func TestPageLatencyAt20PerSecond(t *testing.T) {
	if os.Getenv("CIHUI_PAGE_BENCH") == "" {
		t.Skip("set CIHUI_PAGE_BENCH=1 to measure page latency")
	}
	e := testenv.New(t, testenv.Options{})
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	for range 20 {
		e.RecommendedCase("034501", domain.OutcomeRecommend)
	}
	time.Sleep(time.Second) // projected
	schoolTok := e.Token(domain.RoleOriginSchool, "034501")
	school := newClient(t, e)
	school.signIn(schoolTok)
	sw := newClient(t, e)
	sw.signIn(e.TokenIn(e.Branch.Code, domain.RoleSocialWorker, ""))
	measure := func(get func() int) []time.Duration {
		var d []time.Duration
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for range 100 {
			<-tick.C
			start := time.Now()
			if st := get(); st != http.StatusOK {
				t.Fatalf("status %d", st)
			}
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return d
	}
	// The cost of resolving a session (a read and a touch), which a page
	// pays once for itself and once per API call it makes.
	value, _, err := e.Sessions.Create(context.Background(), school.person.ID, school.person.Roles[0], "password")
	if err != nil {
		t.Fatal(err)
	}
	look := measure(func() int {
		if _, err := e.Sessions.Lookup(context.Background(), value); err != nil {
			return http.StatusUnauthorized
		}
		return http.StatusOK
	})
	t.Logf("a session lookup: p50 %v p99 %v", look[49], look[98])
	for _, p := range []struct {
		c    *client
		path string
	}{{school, "/ui/students"}, {school, "/ui/cases/" + id}, {sw, "/ui/today"}, {sw, "/ui/cases/" + id}} {
		base := measure(func() int { return e.Do("GET", "/v1/referrals/"+id, schoolTok, nil).Status })
		d := measure(func() int { st, _ := p.c.get(p.path); return st })
		t.Logf("%s: p50 %v p99 %v max %v; API baseline p50 %v p99 %v; p50 ratio %.1f",
			p.path, d[49], d[98], d[99], base[49], base[98], float64(d[49])/float64(base[49]))
		if d[98] > 50*time.Millisecond {
			t.Errorf("%s: p99 %v, want < 50 ms", p.path, d[98])
		}
	}
}
