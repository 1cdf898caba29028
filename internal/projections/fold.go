package projections

import (
	"context"

	"cihui/internal/events"
)

// commitFast applies a batch of a rebuild through the in-memory folds; done
// is false when the batch is to be applied by the live path instead.
func (p *Projector) commitFast(ctx context.Context, batch []events.Envelope, undecodable map[uint64]bool, last uint64) (res batchResult, done bool, err error) {
	if !p.fast || len(undecodable) > 0 {
		return res, false, nil
	}
	return res, false, nil
}
