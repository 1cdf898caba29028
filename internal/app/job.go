package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"cihui/internal/logsafe"
)

// runEvery runs once at start and then every interval (fallback when it
// is not set) until ctx is done: the loop of the API's scheduled jobs
// (lapse, roll-over, retention). A run that fails is logged and tried
// again on the next tick; each run is idempotent.
func runEvery(ctx context.Context, interval, fallback time.Duration, log *slog.Logger, what string, once func(context.Context) (int, error)) {
	if interval <= 0 {
		interval = fallback
	}
	for {
		if _, err := guarded(ctx, once); err != nil && ctx.Err() == nil {
			log.Error(what+" run incomplete", "err", logsafe.Err(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// guarded runs once, turning a panic into an error that names the
// panic's type only (its value may be built from personal data), so one
// bad run neither stops the job nor writes a value to the log.
func guarded(ctx context.Context, once func(context.Context) (int, error)) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = errors.New(logsafe.Panic(v))
		}
	}()
	return once(ctx)
}

// orDiscard is l, or a logger that writes nothing.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
