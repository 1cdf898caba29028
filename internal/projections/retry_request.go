package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/logsafe"
)

// An admin retries quarantined events through the API (issue 15). The API
// does not apply events: it marks the quarantined events to retry
// (RequestRetry), and the running projector, polling for marks
// (watchRetryRequests), retries them with the held-back events of their
// streams, exactly as `projector retry` does for every parked event, in
// one transaction under the checkpoint's lock, and clears the marks. No
// process stops or takes over another; without a running projector the
// marks wait for it.

// QuarantinedEvent is one quarantined event as the admin sees it: where it
// is, what it is and the error's code. Never a value of the event.
type QuarantinedEvent struct {
	Position      uint64 `db:"position" json:"position"`
	Stream        string `db:"stream" json:"stream"`
	AggregateType string `db:"aggregate_type" json:"aggregate_type"`
	AggregateID   string `db:"aggregate_id" json:"aggregate_id"`
	EventType     string `db:"event_type" json:"event_type"`
	// ErrorCode is a PostgreSQL SQLSTATE or panic, decode, apply;
	// ErrorClass names its class.
	ErrorCode     string     `db:"error_code" json:"error_code"`
	ErrorClass    string     `db:"-" json:"error_class"`
	Attempts      int        `db:"attempts" json:"attempts"`
	QuarantinedAt time.Time  `db:"quarantined_at" json:"quarantined_at"`
	RetriedAt     *time.Time `db:"retried_at" json:"retried_at,omitempty"`
	// RetryRequestedAt is set from an admin's request until the projector
	// has retried the event.
	RetryRequestedAt *time.Time `db:"retry_requested_at" json:"retry_requested_at,omitempty"`
	// Held is how many later events of its stream wait behind it.
	Held int `db:"held" json:"held"`
}

// ErrorClass names the class of a quarantine's error code: the SQLSTATE
// class (its first two characters), or the fixed code itself.
func ErrorClass(code string) string {
	switch code {
	case codePanic, codeDecode, codeApply:
		return code
	}
	if len(code) != 5 {
		return "other"
	}
	switch code[:2] {
	case "22":
		return "data_exception"
	case "23":
		return "integrity_constraint_violation"
	case "42":
		return "syntax_error_or_access_rule_violation"
	case "P0":
		return "plpgsql_error"
	}
	return "sqlstate_" + code[:2]
}

// ListQuarantine returns the quarantined events in stream order.
func ListQuarantine(ctx context.Context, q sqlx.QueryerContext) ([]QuarantinedEvent, error) {
	out := []QuarantinedEvent{}
	err := sqlx.SelectContext(ctx, q, &out, `
		SELECT q.position, q.stream, q.aggregate_type, q.aggregate_id, q.event_type, q.error_code, q.attempts,
		       q.quarantined_at, q.retried_at, q.retry_requested_at,
		       (SELECT count(*) FROM projection_held h WHERE h.stream = q.stream) AS held
		FROM projection_quarantine q ORDER BY q.position`)
	if err != nil {
		return nil, fmt.Errorf("projections: listing the quarantine: %w", err)
	}
	for i := range out {
		out[i].ErrorClass = ErrorClass(out[i].ErrorCode)
	}
	return out, nil
}

// RequestRetry marks the quarantined event at position (0: every one) for
// the projector to retry, on behalf of by (a person id), and returns how
// many it marked. Marking again is harmless. An unknown position is
// ENotFound.
func RequestRetry(ctx context.Context, db sqlx.ExecerContext, by string, position uint64) (int, error) {
	q := `UPDATE projection_quarantine SET retry_requested_at = now(), retry_requested_by = $1`
	args := []any{by}
	if position != 0 {
		q += ` WHERE position = $2`
		args = append(args, int64(position))
	}
	res, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("projections: requesting a retry: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n == 0 && position != 0 {
		return 0, domain.Errorf(domain.ENotFound, "no quarantined event at that position")
	}
	return int(n), nil
}

// retryPoll is how often the projector looks for retry requests.
const retryPoll = time.Second

// watchRetryRequests retries the events an admin asked to retry, until
// ctx is done. An error is logged and tried again later, backing off.
func (p *Projector) watchRetryRequests(ctx context.Context) {
	wait := retryPoll
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		var asked bool
		if err := p.db.GetContext(ctx, &asked, `SELECT EXISTS (SELECT 1 FROM projection_quarantine WHERE retry_requested_at IS NOT NULL)`); err != nil || !asked {
			continue
		}
		res, err := p.retry(ctx, true)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("retry asked for by an admin failed; trying again", "err", logsafe.Err(err))
			}
			wait = min(2*wait, time.Minute)
			continue
		}
		wait = retryPoll
		p.log.Info("retry asked for by an admin done", "applied", res.Applied, "quarantined", res.Quarantined, "held", res.Held)
	}
}
