package main

import (
	"context"

	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/projections"
)

// rebuild builds the read models afresh in the shadow schema and switches
// them in; the projector then follows from the rebuild's checkpoint.
func (m *Main) rebuild(ctx context.Context, store *jetstream.Store, codec *events.Codec) error {
	res, err := projections.Rebuild(ctx, projections.RebuildOptions{
		DB: m.db, JetStream: store.JetStream(), Stream: store.StreamName(), Codec: codec,
		Log: m.log, BatchSize: m.RebuildBatch,
	})
	if err != nil {
		return err
	}
	rate := 0.0
	if s := res.Duration.Seconds(); s > 0 {
		rate = float64(res.Events) / s
	}
	m.log.Info("rebuild done", "position", res.Position, "events", res.Events, "resumed", res.Resumed,
		"seconds", res.Duration.Seconds(), "events_per_second", int(rate))
	return nil
}
