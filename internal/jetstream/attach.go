package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
)

// Attach returns a store over an existing stream without creating or
// changing it: what a reader with read-only credentials (the projector)
// can do. It waits until the stream exists (the API creates it) or ctx is
// done.
func Attach(ctx context.Context, nc *nats.Conn, codec *events.Codec, cfg Config) (*Store, error) {
	if cfg.Stream == "" {
		cfg.Stream = StreamEvents
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	j, err := js.New(nc)
	if err != nil {
		return nil, err
	}
	for {
		_, err := j.Stream(ctx, cfg.Stream)
		if err == nil {
			break
		}
		if !errors.Is(err, js.ErrStreamNotFound) {
			return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Stream, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("jetstream: stream %s does not exist: start the API first", cfg.Stream)
		case <-time.After(250 * time.Millisecond):
		}
	}
	return &Store{js: j, codec: codec, stream: cfg.Stream, now: cfg.Now, cache: newAggregateCache(cfg.CacheSize)}, nil
}
