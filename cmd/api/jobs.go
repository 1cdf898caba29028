package main

import (
	"context"
	"fmt"
	"time"

	"cihui/internal/jetstream"
	"cihui/internal/projections"
)

// caughtUp returns the check a job makes before it reads the read models:
// they must reflect every event in the log (waiting at most a minute), or
// the run is skipped.
func caughtUp(what string, waiter *projections.Waiter, store *jetstream.Store) func(context.Context) error {
	return func(ctx context.Context) error {
		last, err := store.LastPosition(ctx)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if got := waiter.Wait(wctx, last); got < last {
			return fmt.Errorf("%s: read models at %d of %d; skipping this run", what, got, last)
		}
		return nil
	}
}

// startJob runs a scheduled job in the background until the API stops.
func (m *Main) startJob(run func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); run(ctx) }()
	m.closers = append(m.closers, func() { cancel(); <-done })
}
