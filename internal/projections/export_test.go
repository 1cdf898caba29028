package projections

import "cihui/internal/events"

// SetBeforeCommit installs a fault-injection hook (tests only).
func SetBeforeCommit(p *Projector, f func([]events.Envelope) error) { p.beforeCommit = f }
