package main

import (
	"context"
	"fmt"

	"cihui/internal/projections"
)

// retry applies the quarantined events again, each followed by the events
// of its stream held back behind it, and reports what is left. It exits
// non-zero while anything stays quarantined, so a script can tell.
func (m *Main) retry(ctx context.Context, p *projections.Projector) error {
	res, err := p.Retry(ctx)
	if err != nil {
		return err
	}
	m.log.Info("retry done", "applied", res.Applied, "quarantined", res.Quarantined, "held", res.Held)
	fmt.Printf("applied %d, still quarantined %d, still held back %d\n", res.Applied, res.Quarantined, res.Held)
	if res.Quarantined > 0 {
		return fmt.Errorf("%d events still quarantined", res.Quarantined)
	}
	return nil
}
