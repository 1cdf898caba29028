package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/accesslog"
	"cihui/internal/logsafe"
)

// AccessName is the checkpoint name of the access-log projection.
const AccessName = "access_log"

// AccessProjector copies the access-log stream into the access_log table:
// an ordered consumer from its own checkpoint, each batch and the
// checkpoint in one transaction.
type AccessProjector struct {
	db        *sqlx.DB
	js        js.JetStream
	stream    string
	log       *slog.Logger
	batchSize int
}

// AccessOptions configure the access-log projector.
type AccessOptions struct {
	DB        *sqlx.DB
	JetStream js.JetStream
	Stream    string // default CIHUI_ACCESS
	Log       *slog.Logger
	BatchSize int
}

// NewAccess returns the access-log projector.
func NewAccess(o AccessOptions) *AccessProjector {
	if o.Stream == "" {
		o.Stream = accesslog.DefaultStream
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &AccessProjector{db: o.DB, js: o.JetStream, stream: o.Stream, log: o.Log, batchSize: o.BatchSize}
}

func checkpointOf(ctx context.Context, q sqlx.QueryerContext, name string) (uint64, error) {
	var pos int64
	err := sqlx.GetContext(ctx, q, &pos, `SELECT coalesce((SELECT position FROM projection_checkpoints WHERE name = $1), 0)`, name)
	return uint64(pos), err
}

// Run projects records until ctx is done; a failed batch rolls back whole
// and Run returns the error.
func (p *AccessProjector) Run(ctx context.Context) error {
	start, err := checkpointOf(ctx, p.db, AccessName)
	if err != nil {
		return fmt.Errorf("access log: reading checkpoint: %w", err)
	}
	cfg := js.OrderedConsumerConfig{DeliverPolicy: js.DeliverAllPolicy}
	if start > 0 {
		cfg = js.OrderedConsumerConfig{DeliverPolicy: js.DeliverByStartSequencePolicy, OptStartSeq: start + 1}
	}
	cons, err := p.js.OrderedConsumer(ctx, p.stream, cfg)
	if err != nil {
		return fmt.Errorf("access log: consumer: %w", err)
	}
	it, err := cons.Messages(js.PullMaxMessages(p.batchSize))
	if err != nil {
		return fmt.Errorf("access log: consumer: %w", err)
	}
	defer it.Stop()
	for {
		msgs, err := nextBatch(ctx, it, p.batchSize)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("access log: reading stream: %w", err)
		}
		if err := p.applyBatch(ctx, msgs); err != nil {
			return err
		}
	}
}

func (p *AccessProjector) applyBatch(ctx context.Context, msgs []js.Msg) error {
	tx, err := p.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cp int64
	if err := tx.GetContext(ctx, &cp, `
		INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
		RETURNING position`, AccessName); err != nil {
		return err
	}
	var last uint64
	for _, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("access log: message metadata: %w", err)
		}
		seq := meta.Sequence.Stream
		last = max(last, seq)
		if seq <= uint64(cp) {
			continue
		}
		records, errs, err := accesslog.Decode(m.Subject(), m.Data())
		if err != nil {
			// One bad message never stops the others; the log makes it seen.
			p.log.Error("skipping undecodable access message", "position", seq, "err", logsafe.Err(err))
			continue
		}
		for i, r := range records {
			if errs[i] != nil {
				p.log.Error("skipping undecodable access record", "position", seq, "index", i, "err", logsafe.Err(errs[i]))
				continue
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO access_log (position, idx, record_id, at, request_id, method, route, actor_role, actor_school, actor_branch, actor_token, actor_person, case_ids)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (position, idx) DO NOTHING`,
				seq, i, r.ID, r.At, r.RequestID, r.Method, r.Route, r.Actor.Role, r.Actor.School, r.Actor.Branch, r.Actor.TokenID, r.Actor.Person, pq.Array(r.Cases)); err != nil {
				return err
			}
		}
	}
	if last > uint64(cp) {
		if _, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1`, AccessName, last); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// RunWithRestart runs the projector, restarting it with backoff after an
// error, until ctx is done.
func (p *AccessProjector) RunWithRestart(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		err := p.Run(ctx)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		p.log.Error("access-log projector stopped; restarting", "err", logsafe.Err(err), "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// AccessEntry is one row of the access log.
type AccessEntry struct {
	Position    uint64         `db:"position" json:"position"`
	Index       int            `db:"idx" json:"index,omitempty"` // in a batch message
	ID          string         `db:"record_id" json:"id"`
	At          time.Time      `db:"at" json:"at"`
	RequestID   string         `db:"request_id" json:"request_id,omitempty"`
	Method      string         `db:"method" json:"method"`
	Route       string         `db:"route" json:"route"`
	ActorRole   string         `db:"actor_role" json:"actor_role"`
	ActorSchool string         `db:"actor_school" json:"actor_school,omitempty"`
	ActorBranch string         `db:"actor_branch" json:"actor_branch,omitempty"`
	ActorToken  string         `db:"actor_token" json:"actor_token,omitempty"`
	ActorPerson string         `db:"actor_person" json:"actor_person,omitempty"`
	Cases       pq.StringArray `db:"case_ids" json:"cases"`
}

// AccessFilter filters and pages the access log.
type AccessFilter struct {
	Case  string
	Actor string // person id (or, for records before people, token id)
	From  *time.Time
	To    *time.Time // exclusive
	After uint64     // cursor: the last position of the previous page
	// AfterIndex is the last index in After's message (-1: after all of it).
	AfterIndex int
	Limit      int
}

// AccessLog lists access records in the order they were written.
func (r *Reader) AccessLog(ctx context.Context, f AccessFilter) ([]AccessEntry, error) {
	where, args := "", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += " AND " + cond + "$" + strconv.Itoa(len(args))
	}
	if f.Case != "" {
		args = append(args, f.Case)
		where += " AND $" + strconv.Itoa(len(args)) + " = ANY(case_ids)"
	}
	if f.Actor != "" {
		args = append(args, f.Actor)
		n := "$" + strconv.Itoa(len(args))
		where += " AND (actor_person = " + n + " OR actor_token = " + n + ")"
	}
	if f.From != nil {
		add("at >= ", *f.From)
	}
	if f.To != nil {
		add("at < ", *f.To)
	}
	if f.After > 0 {
		args = append(args, f.After, f.AfterIndex)
		where += " AND (position, idx) > ($" + strconv.Itoa(len(args)-1) + ", $" + strconv.Itoa(len(args)) + ")"
	}
	args = append(args, f.Limit)
	out := []AccessEntry{}
	err := r.db.SelectContext(ctx, &out, `SELECT position, idx, record_id, at, request_id, method, route, actor_role, actor_school,
		actor_branch, actor_token, actor_person, case_ids FROM access_log WHERE true`+where+` ORDER BY position, idx LIMIT $`+strconv.Itoa(len(args)), args...)
	return out, err
}
