package jetstream

import (
	"context"
	"errors"
	"fmt"

	"github.com/synadia-io/orbit.go/jetstreamext"

	"cihui/internal/events"
)

// EachEvent calls fn with every event of type eventType on subjects
// matching filter (for example "cihui.*.referral.*"), in stream order.
// Other types are skipped by their header, undecoded. It serves one-off
// maintenance such as migrating the key ring.
func (s *Store) EachEvent(ctx context.Context, filter, eventType string, fn func(events.Envelope) error) error {
	next := uint64(1)
	for {
		msgs, err := jetstreamext.GetBatch(ctx, s.js, s.stream, loadBatch,
			jetstreamext.GetBatchSubject(filter), jetstreamext.GetBatchSeq(next))
		if err != nil {
			return unavailable(err)
		}
		n := 0
		for m, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				break
			}
			if err != nil {
				return unavailable(err)
			}
			n++
			next = m.Sequence + 1
			if m.Header.Get(headerEventType) != eventType {
				continue
			}
			env, err := s.codec.Decode(m.Data)
			if err != nil {
				return fmt.Errorf("jetstream: event at %d: %w", m.Sequence, err)
			}
			env.Position = m.Sequence
			if err := fn(env); err != nil {
				return err
			}
		}
		if n < loadBatch {
			return nil
		}
	}
}
