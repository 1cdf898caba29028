package projections

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/events"
)

// pending collects the rows a batch writes to the timeline and the final
// version of each case it touches, and writes them once at the end of the
// batch (COPY and one UPDATE) inside the batch's transaction.
type pending struct {
	rows  [][]any
	cases map[string]caseMove
	order []string
}

type caseMove struct {
	version, position uint64
	at                time.Time
}

// timeline records the event in the case's audit trail, in plain words,
// and moves the case's version and position.
func (p *pending) timeline(env events.Envelope) {
	p.rows = append(p.rows, []any{env.Position, env.AggregateID, env.Version, env.ID, env.Type, Summary(env),
		string(env.Actor.Role), env.Actor.School, env.OccurredAt, env.RecordedAt})
	if p.cases == nil {
		p.cases = map[string]caseMove{}
	}
	if _, seen := p.cases[env.AggregateID]; !seen {
		p.order = append(p.order, env.AggregateID)
	}
	p.cases[env.AggregateID] = caseMove{version: env.Version, position: env.Position, at: env.OccurredAt}
}

// flush writes what the batch collected.
func (p *pending) flush(ctx context.Context, tx *sqlx.Tx) error {
	if len(p.rows) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `COPY case_timeline (position, case_id, version, event_id, event_type,
		summary, actor_role, actor_school, occurred_at, recorded_at) FROM STDIN`)
	if err != nil {
		return err
	}
	for _, r := range p.rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			stmt.Close()
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	ids := make([]string, len(p.order))
	versions := make([]int64, len(p.order))
	positions := make([]int64, len(p.order))
	ats := make([]string, len(p.order))
	for i, id := range p.order {
		m := p.cases[id]
		ids[i], versions[i], positions[i], ats[i] = id, int64(m.version), int64(m.position), m.at.UTC().Format(time.RFC3339Nano)
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE cases c SET version = v.version, position = v.position, updated_at = v.at
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[]) AS v(id, version, position, at)
		WHERE c.id = v.id`, pq.Array(ids), pq.Array(versions), pq.Array(positions), pq.Array(ats))
	return err
}
