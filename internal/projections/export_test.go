package projections

import (
	"context"

	"github.com/jmoiron/sqlx"

	"cihui/internal/events"
)

// SetBeforeCommit installs a fault-injection hook (tests only).
func SetBeforeCommit(p *Projector, f func([]events.Envelope) error) { p.beforeCommit = f }

// SetRebuildBeforeCommit installs a fault-injection hook in a rebuild's
// shadow batches (tests only).
func SetRebuildBeforeCommit(o *RebuildOptions, f func([]events.Envelope) error) { o.beforeCommit = f }

// ApplyLive applies one event by the live path (its SQL and its timeline
// row) inside tx (tests only).
func ApplyLive(ctx context.Context, p *Projector, tx *sqlx.Tx, env events.Envelope) error {
	var pend pending
	if err := p.apply(ctx, tx, &pend, env); err != nil {
		return err
	}
	return pend.flush(ctx, tx)
}

// FoldedWrites are the tables the fold writes for each event type it folds.
var FoldedWrites = foldedWrites
