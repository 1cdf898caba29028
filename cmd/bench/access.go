package main

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/accesslog"
)

// benchAccess measures access records written by 64 concurrent readers
// through the access log's group commit (each Write returns once the
// message carrying its record is acknowledged) vs the same records
// published one message each from 64 writers (a synced write per record,
// what the access log did before), in the same run.
func benchAccess(ctx context.Context, e *env, n int) error {
	log, err := accesslog.Open(ctx, e.nc, accesslog.Config{})
	if err != nil {
		return err
	}
	const writers = 64
	rec := func() accesslog.Record {
		return accesslog.Record{ID: accesslog.NewID(), At: time.Now().UTC(), Method: "GET", Route: "/v1/referrals/:id",
			Actor: accesslog.Actor{Role: "origin_school", School: "034501", TokenID: "tok_bench"}, Cases: []string{"rbench"}}
	}
	run := func(write func() error) (float64, []time.Duration, error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		lat := make([]time.Duration, 0, n)
		t0 := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += writers {
					s := time.Now()
					err := write()
					mu.Lock()
					lat = append(lat, time.Since(s))
					if err != nil && first == nil {
						first = err
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return perSec(n, time.Since(t0)), lat, first
	}
	raw, rawLat, err := run(func() error {
		b, _ := json.Marshal(rec())
		_, err := log.JetStream().Publish(ctx, "cihui_access.origin_school", b, js.WithExpectStream(log.StreamName()))
		return err
	})
	if err != nil {
		return err
	}
	group, groupLat, err := run(func() error { return log.Write(ctx, rec()) })
	if err != nil {
		return err
	}
	emit(Result{Figure: "access_records_64_writers", Unit: "records/s", Value: group, Baseline: raw, N: n,
		Note: "access records from 64 concurrent readers through the group commit (acknowledged before each read is answered) vs one synced JetStream message per record from 64 writers"})
	emit(Result{Figure: "access_records_64_writers_p99", Unit: "µs", Value: float64(pct(groupLat, 0.99).Microseconds()), Baseline: float64(pct(rawLat, 0.99).Microseconds()), N: n,
		Note: "p99 of one access-record write, group commit vs one message per record"})
	return nil
}
