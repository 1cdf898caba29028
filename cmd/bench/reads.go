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

// noAccessLog accepts every record without writing it: the baseline of
// the reads figures, the same API without the access record.
type noAccessLog struct{}

func (noAccessLog) Write(context.Context, accesslog.Record) error { return nil }

// benchReads measures a case detail and a 100-row list, each through the
// API with the access record (an acknowledged, synced write to
// CIHUI_ACCESS before the response) and without it, interleaved in the
// same run.
func benchReads(ctx context.Context, e *env) error {
	log, err := accesslog.Open(ctx, e.nc, accesslog.Config{})
	if err != nil {
		return err
	}
	reader := projections.NewReader(e.db)
	tokens := postgres.NewTokens(e.db)
	serve := func(w httpapi.AccessWriter) *httptest.Server {
		return httptest.NewServer(httpapi.New(httpapi.Config{App: e.svc, Reader: reader, Opener: e.sealer, Waiter: e.waiter, Auth: tokens,
			DB: e.db, NATS: e.nc, Store: e.store, Access: w}))
	}
	with, without := serve(log), serve(noAccessLog{})
	defer with.Close()
	defer without.Close()
	tok, _, err := tokens.Create(ctx, postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "034501"})
	if err != nil {
		return err
	}
	id, pos, err := openCase(ctx, e)
	if err != nil {
		return err
	}
	// The read models must reflect the case (and the earlier figures' cases).
	p := projections.New(projections.Options{DB: e.db, JetStream: e.store.JetStream(), Stream: e.store.StreamName(), Codec: e.codec})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.RunWithRestart(pctx) }()
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	got := e.waiter.Wait(wctx, pos)
	wcancel()
	cancel()
	<-done
	if got < pos {
		return fmt.Errorf("reads: read models at %d of %d", got, pos)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM cases WHERE origin_school = '034501'`); err != nil {
		return err
	}
	if n < 100 {
		return fmt.Errorf("reads: %d cases, want at least 100 for the list", n)
	}

	const rounds = 300
	for _, fig := range []struct{ name, path, note string }{
		{"read_case_detail", "/v1/referrals/" + id, "GET a case detail (origin school)"},
		{"read_list_100", "/v1/referrals?limit=100", "GET a 100-row case list (origin school)"},
	} {
		var on, off []time.Duration
		for range rounds {
			for _, s := range []struct {
				url string
				lat *[]time.Duration
			}{{with.URL, &on}, {without.URL, &off}} {
				t0 := time.Now()
				if err := httpGet(s.url+fig.path, tok); err != nil {
					return err
				}
				*s.lat = append(*s.lat, time.Since(t0))
			}
		}
		for _, q := range []struct {
			name string
			p    float64
		}{{"p50", 0.50}, {"p99", 0.99}} {
			emit(Result{Figure: fig.name + "_with_access_record_" + q.name, Unit: "µs", Value: float64(pct(on, q.p).Microseconds()),
				Baseline: float64(pct(off, q.p).Microseconds()), N: rounds,
				Note: fig.note + " with the access record (synced JetStream write, acknowledged before the response) vs the same API without it, interleaved"})
		}
	}
	return nil
}
