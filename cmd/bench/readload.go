package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"cihui/internal/accesslog"
	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/postgres"
	"cihui/internal/projections"
)

// readRate is the fixed arrival rate of the reads-under-load figures.
const readRate = 2000

// readGoal is their p99 goal (issue 13).
const readGoal = 5 * time.Millisecond

// benchReadLoad measures a case detail, a 50-row list and the home-visit
// queue through the API (access records on, projector running), each at
// a fixed 2,000 requests/s from an open-loop client: p50, p99 and max,
// each against the p99 goal of 5 ms.
func benchReadLoad(ctx context.Context, e *env, _ int) error {
	stop, err := seedCases(ctx, e, 60)
	if err != nil {
		return err
	}
	defer stop()
	log, err := accesslog.Open(ctx, e.nc, accesslog.Config{})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{App: e.svc, Reader: projections.NewReader(e.db), Opener: e.sealer, Waiter: e.waiter,
		Auth: e.auth, DB: e.db, NATS: e.nc, Store: e.store, Access: log}))
	defer srv.Close()
	tokens := postgres.NewTokens(e.db)
	school, _, err := tokens.Create(ctx, postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "034501"})
	if err != nil {
		return err
	}
	worker, _, err := tokens.Create(ctx, postgres.TokenInfo{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode})
	if err != nil {
		return err
	}
	var id string
	if err := e.db.Get(&id, `SELECT id FROM cases WHERE origin_school = '034501' ORDER BY id LIMIT 1`); err != nil {
		return err
	}
	const d = time.Second
	stopProfiles, err := startProfiles()
	if err != nil {
		return err
	}
	defer stopProfiles()
	for _, fig := range []struct{ name, path, token, note string }{
		{"read_load_case_detail", "/v1/referrals/" + id, school, "GET a case detail (origin school)"},
		{"read_load_list_50", "/v1/referrals?limit=50", school, "GET a 50-row case list (origin school)"},
		{"read_load_visit_queue", "/v1/home-visits/queue", worker, "GET the home-visit queue (social worker)"},
	} {
		if err := httpGet(srv.URL+fig.path, fig.token); err != nil { // warm, and fail early
			return err
		}
		lat, failed, first := openLoop(readRate, d, func() error { return httpGet(srv.URL+fig.path, fig.token) })
		failures := ""
		if failed > 0 { // reported, not fatal: overload is what this measures
			failures = fmt.Sprintf("; %d of %d requests failed, first: %.120v", failed, len(lat), first)
		}
		for _, q := range []struct {
			name string
			p    float64
		}{{"p50", 0.50}, {"p99", 0.99}, {"max", 1}} {
			emit(Result{Figure: fig.name + "_" + q.name, Unit: "µs", Value: float64(pct(lat, q.p).Microseconds()), Baseline: float64(readGoal.Microseconds()), N: len(lat),
				Note: fmt.Sprintf("%s at a fixed %d requests/s for %v, open loop, latency from the scheduled send time, access records on, projector running; baseline: the p99 goal%s", fig.note, readRate, d, failures)})
		}
	}
	return nil
}

// seedCases makes sure origin school 034501 has at least n cases in the
// read models, and starts the projector; stop stops it.
func seedCases(ctx context.Context, e *env, n int) (stop func(), err error) {
	p := projections.New(projections.Options{DB: e.db, JetStream: e.store.JetStream(), Stream: e.store.StreamName(), Codec: e.codec})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.RunWithRestart(pctx) }()
	stop = func() { cancel(); <-done }
	var have int
	if err := e.db.Get(&have, `SELECT count(*) FROM cases WHERE origin_school = '034501'`); err != nil {
		stop()
		return nil, err
	}
	var pos uint64
	for range n - have {
		if _, pos, err = openCase(ctx, e); err != nil {
			stop()
			return nil, err
		}
	}
	if pos == 0 {
		if pos, err = e.store.LastPosition(ctx); err != nil {
			stop()
			return nil, err
		}
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if got := e.waiter.Wait(wctx, pos); got < pos {
		stop()
		return nil, fmt.Errorf("read models at %d of %d", got, pos)
	}
	return stop, nil
}
