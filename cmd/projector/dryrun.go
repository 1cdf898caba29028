package main

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"cihui/internal/jetstream"
	"cihui/internal/projections"
)

// dryRun prints what `projector rebuild` would do: the checkpoint it
// would reset and the stream it would replay, the tables it would empty
// (with their rows now) and what it leaves alone. It changes nothing.
func (m *Main) dryRun(ctx context.Context, store *jetstream.Store) error {
	last, err := store.LastPosition(ctx)
	if err != nil {
		return err
	}
	pos, err := projections.Checkpoint(ctx, m.db)
	if err != nil {
		return err
	}
	access, err := projections.CheckpointOf(ctx, m.db, projections.AccessName)
	if err != nil {
		return err
	}
	fmt.Printf("dry run: nothing is changed\n")
	fmt.Printf("checkpoint %s: at position %d of %d in stream %s; a rebuild resets it and replays positions 1 to %d\n",
		projections.Name, pos, last, store.StreamName(), last)
	fmt.Printf("the rebuild replays into the shadow schema %q while the API serves the live tables, then replaces them in one transaction\n",
		projections.ShadowSchema)
	fmt.Printf("tables emptied (rows now):\n")
	for _, t := range projections.ResetTables() {
		var n int64
		if err := m.db.GetContext(ctx, &n, `SELECT count(*) FROM `+pq.QuoteIdentifier(t)); err != nil {
			return err
		}
		fmt.Printf("  %s\t%d\n", t, n)
	}
	fmt.Printf("kept: checkpoint %s at position %d (the access log), tokens, branches, calendar imports\n", projections.AccessName, access)
	return nil
}
