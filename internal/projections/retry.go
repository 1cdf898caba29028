package projections

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// RetryResult is what Retry did.
type RetryResult struct {
	Applied     int // quarantined or held events now applied
	Quarantined int // events in quarantine afterwards
	Held        int // events still held back afterwards
}

// parked is a quarantined or held event.
type parked struct {
	Position      int64  `db:"position"`
	Stream        string `db:"stream"`
	AggregateType string `db:"aggregate_type"`
	AggregateID   string `db:"aggregate_id"`
	EventType     string `db:"event_type"`
	Quarantined   bool   `db:"quarantined"`
}

// Retry applies the quarantined events again, after a fix, each followed
// by the held-back events of its stream, in stream order. What applies
// leaves the quarantine; the first event of a stream that still fails is
// (or stays) quarantined and the ones after it stay held. The event log is
// not touched, and the checkpoint does not move: it runs in one
// transaction that holds the checkpoint's lock, so a running projector
// waits and then carries on with the streams retry released.
func (p *Projector) Retry(ctx context.Context) (RetryResult, error) {
	return p.retry(ctx, false)
}

// parkedAll selects every quarantined and held event, in order.
const parkedAll = `
		SELECT position, stream, aggregate_type, aggregate_id, event_type, true AS quarantined FROM projection_quarantine
		UNION ALL
		SELECT position, stream, aggregate_type, aggregate_id, event_type, false FROM projection_held
		ORDER BY position`

// parkedRequested selects the quarantined events an admin asked to retry
// (retry_request.go) and the held events of their streams, in order.
const parkedRequested = `
		SELECT position, stream, aggregate_type, aggregate_id, event_type, true AS quarantined FROM projection_quarantine
		WHERE retry_requested_at IS NOT NULL
		UNION ALL
		SELECT h.position, h.stream, h.aggregate_type, h.aggregate_id, h.event_type, false FROM projection_held h
		WHERE h.stream IN (SELECT stream FROM projection_quarantine WHERE retry_requested_at IS NOT NULL)
		ORDER BY position`

// retry applies the parked events again: every one, or with requested
// only those an admin asked for and the held events behind them.
func (p *Projector) retry(ctx context.Context, requested bool) (RetryResult, error) {
	var res RetryResult
	stream, err := p.js.Stream(ctx, p.stream)
	if err != nil {
		return res, fmt.Errorf("projections: stream: %w", err)
	}
	tx, err := p.db.BeginTxx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if _, err := lockCheckpoint(ctx, tx); err != nil {
		return res, err
	}
	var rows []parked
	query := parkedAll
	if requested {
		query = parkedRequested
	}
	if err := tx.SelectContext(ctx, &rows, query); err != nil {
		return res, err
	}
	blocked := map[string]bool{}
	touched := map[string]string{} // case id → aggregate type, to recompute the flag
	for _, r := range rows {
		touched[r.AggregateID] = r.AggregateType
		if blocked[r.Stream] {
			continue // behind a failure of its stream: stays where it is
		}
		code, attempts := codeDecode, 1
		msg, err := stream.GetMsg(ctx, uint64(r.Position))
		if err != nil {
			return res, fmt.Errorf("projections: reading the event at %d: %w", r.Position, err)
		}
		env, derr := p.codec.Decode(msg.Data)
		if derr == nil {
			env.Position = uint64(r.Position)
			if code, attempts, err = p.applyAlone(ctx, tx, env); err != nil {
				return res, err
			}
		}
		if code == "" {
			if err := unpark(ctx, tx, r); err != nil {
				return res, err
			}
			res.Applied++
			continue
		}
		blocked[r.Stream] = true
		if err := p.requarantine(ctx, tx, r, code, attempts); err != nil {
			return res, err
		}
	}
	for id, typ := range touched {
		var stale bool
		if err := tx.GetContext(ctx, &stale, `SELECT EXISTS (SELECT 1 FROM projection_quarantine WHERE aggregate_type = $1 AND aggregate_id = $2)`, typ, id); err != nil {
			return res, err
		}
		if err := markCase(ctx, tx, typ, id, stale); err != nil {
			return res, err
		}
	}
	q, err := Quarantined(ctx, tx)
	if err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	res.Quarantined, res.Held = q.Events, q.Held
	p.quarantinedNow.Set(float64(q.Events))
	p.heldNow.Set(float64(q.Held))
	return res, nil
}

// unpark removes an event that now applied from quarantine or held.
func unpark(ctx context.Context, tx *sqlx.Tx, r parked) error {
	table := "projection_held"
	if r.Quarantined {
		table = "projection_quarantine"
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE position = $1`, r.Position)
	return err
}

// requarantine records that an event failed again: a quarantined one gets
// the new code; a held one, now first of its stream, moves to quarantine.
func (p *Projector) requarantine(ctx context.Context, tx *sqlx.Tx, r parked, code string, attempts int) error {
	p.log.Warn("event still fails to apply: stays in quarantine", "position", r.Position, "type", r.EventType, "stream", r.Stream, "code", code)
	if r.Quarantined {
		_, err := tx.ExecContext(ctx, `
			UPDATE projection_quarantine SET error_code = $2, attempts = attempts + $3, retried_at = now(),
				retry_requested_at = NULL, retry_requested_by = NULL
			WHERE position = $1`, r.Position, code, attempts)
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projection_held WHERE position = $1`, r.Position); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO projection_quarantine (position, stream, aggregate_type, aggregate_id, event_type, error_code, attempts, retried_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,now())`, r.Position, r.Stream, r.AggregateType, r.AggregateID, r.EventType, code, attempts)
	return err
}
