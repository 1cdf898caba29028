package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/events"
)

// visRate is the command rate of the visibility-under-load figure.
const visRate = 500

// benchVisibilityLoad measures command → read model visibility at a fixed
// 500 commands/s from an open-loop client (latency from the scheduled
// send time to the read models' LISTEN/NOTIFY of the command's position),
// against the p99 goal of 50 ms. Commands go to a pool of cases, one
// command per case at a time.
func benchVisibilityLoad(ctx context.Context, e *env, _ int) error {
	stop, err := seedCases(ctx, e, 0)
	if err != nil {
		return err
	}
	defer stop()
	const nCases = 64
	pool := make(chan string, nCases)
	for range nCases {
		id, _, err := openCase(ctx, e)
		if err != nil {
			return err
		}
		pool <- id
	}
	actor := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	var item atomic.Int64
	lat, failed, first := openLoop(visRate, 2*time.Second, func() error {
		id := <-pool
		res, err := e.svc.SubmitDocument(ctx, actor, id, 1+int(item.Add(1)%4), 1, nil, false)
		pool <- id
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if got := e.waiter.Wait(wctx, res.Position); got < res.Position {
			return fmt.Errorf("read models stuck at %d", got)
		}
		return nil
	})
	failures := ""
	if failed > 0 {
		failures = fmt.Sprintf("; %d of %d commands failed, first: %.120v", failed, len(lat), first)
	}
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.50}, {"p99", 0.99}, {"max", 1}} {
		emit(Result{Figure: "visibility_load_" + q.name, Unit: "µs", Value: float64(pct(lat, q.p).Microseconds()), Baseline: 50000, N: len(lat),
			Note: fmt.Sprintf("command → read model visible at a fixed %d commands/s for 2s, open loop, from the scheduled send time; baseline: the p99 goal%s", visRate, failures)})
	}
	return nil
}
