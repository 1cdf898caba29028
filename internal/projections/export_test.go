package projections

import "cihui/internal/events"

// SetBeforeCommit installs a fault-injection hook (tests only).
func SetBeforeCommit(p *Projector, f func([]events.Envelope) error) { p.beforeCommit = f }

// SetRebuildBeforeCommit installs a fault-injection hook in a rebuild's
// shadow batches (tests only).
func SetRebuildBeforeCommit(o *RebuildOptions, f func([]events.Envelope) error) { o.beforeCommit = f }
