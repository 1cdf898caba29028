// Package projections keeps the PostgreSQL read models: the projector
// applies the event stream in order, a batch and its checkpoint in one
// transaction, and the reader serves the API from the tables it keeps.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"cihui/internal/events"
	"cihui/internal/logsafe"
)

// Name is the checkpoint name of the read models.
const Name = "read_models"

// NotifyChannel is the LISTEN/NOTIFY channel on which the projector
// announces each committed position.
const NotifyChannel = "cihui_projection"

// Projector applies the event stream to the read models.
type Projector struct {
	db        *sqlx.DB
	js        js.JetStream
	stream    string
	codec     *events.Codec
	opener    Opener
	log       *slog.Logger
	batchSize int

	// beforeCommit, when set (tests only), runs after a batch is applied
	// and before it commits; an error aborts the batch as a crash would.
	beforeCommit func(batch []events.Envelope) error

	applied  prometheus.Counter
	skipped  prometheus.Counter
	batches  prometheus.Histogram
	sizes    prometheus.Histogram
	position prometheus.Gauge
	lag      prometheus.Gauge
}

// Opener opens sealed personal data (events.Sealer).
type Opener interface {
	Open(ctx context.Context, s events.Sealed, v any) error
}

// Options configure a projector.
type Options struct {
	DB        *sqlx.DB
	JetStream js.JetStream
	Stream    string
	Codec     *events.Codec
	Opener    Opener
	Log       *slog.Logger
	BatchSize int
	Registry  prometheus.Registerer
}

// New returns a projector.
func New(o Options) *Projector {
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	p := &Projector{
		db: o.DB, js: o.JetStream, stream: o.Stream, codec: o.Codec, opener: o.Opener,
		log: o.Log, batchSize: o.BatchSize,
		applied:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cihui_projector_events_applied_total", Help: "Events applied to the read models."}),
		skipped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cihui_projector_events_skipped_total", Help: "Messages skipped: unknown event types or undecodable."}),
		batches:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_projector_batch_seconds", Help: "Time to apply and commit one batch.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		sizes:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_projector_batch_events", Help: "Events per committed batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		position: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_projector_position", Help: "Last stream position applied to the read models."}),
		lag:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_projector_lag_events", Help: "Stream last sequence minus the read models' checkpoint."}),
	}
	if o.Registry != nil {
		o.Registry.MustRegister(p.applied, p.skipped, p.batches, p.sizes, p.position, p.lag)
	}
	return p
}

// Checkpoint returns the position the read models have applied.
func Checkpoint(ctx context.Context, q sqlx.QueryerContext) (uint64, error) {
	var pos int64
	err := sqlx.GetContext(ctx, q, &pos, `SELECT coalesce((SELECT position FROM projection_checkpoints WHERE name = $1), 0)`, Name)
	return uint64(pos), err
}

// Run applies events until ctx is done. A failed batch rolls back as a
// whole; Run then returns the error and the caller restarts it.
func (p *Projector) Run(ctx context.Context) error {
	start, err := Checkpoint(ctx, p.db)
	if err != nil {
		return fmt.Errorf("projections: reading checkpoint: %w", err)
	}
	cfg := js.OrderedConsumerConfig{DeliverPolicy: js.DeliverAllPolicy}
	if start > 0 {
		cfg = js.OrderedConsumerConfig{DeliverPolicy: js.DeliverByStartSequencePolicy, OptStartSeq: start + 1}
	}
	cons, err := p.js.OrderedConsumer(ctx, p.stream, cfg)
	if err != nil {
		return fmt.Errorf("projections: consumer: %w", err)
	}
	it, err := cons.Messages(js.PullMaxMessages(p.batchSize))
	if err != nil {
		return fmt.Errorf("projections: consumer: %w", err)
	}
	defer it.Stop()
	go p.watchLag(ctx)
	p.log.Info("projector started", "from_position", start)

	for {
		first, err := it.Next(js.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("projections: reading stream: %w", err)
		}
		msgs := []js.Msg{first}
		for len(msgs) < p.batchSize {
			m, err := it.Next(js.NextMaxWait(2 * time.Millisecond))
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		if err := p.applyBatch(ctx, msgs); err != nil {
			return err
		}
	}
}

func (p *Projector) applyBatch(ctx context.Context, msgs []js.Msg) error {
	t0 := time.Now()
	batch := make([]events.Envelope, 0, len(msgs))
	var last uint64
	skipped := 0
	for _, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("projections: message metadata: %w", err)
		}
		last = meta.Sequence.Stream
		env, err := p.codec.Decode(m.Data())
		if events.IsUnknownType(err) {
			// Written by a newer build: skip it, never crash-loop.
			p.log.Warn("skipping event of unknown type", "type", env.Type, "position", last)
			skipped++
			continue
		}
		if err != nil {
			// Not an envelope this system wrote: skip it rather than stop
			// every read model behind it; the log and metric make it seen.
			p.log.Error("skipping undecodable message", "position", last, "subject", m.Subject(), "err", logsafe.Err(err))
			skipped++
			continue
		}
		env.Position = last
		batch = append(batch, env)
	}
	tx, err := p.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Never apply anything twice: the checkpoint row is locked, and events
	// at or below it are ignored (a redelivery after a reconnect).
	var cp int64
	if err := tx.GetContext(ctx, &cp, `
		INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
		RETURNING position`, Name); err != nil {
		return err
	}
	n := 0
	var pend pending
	for _, env := range batch {
		if env.Position <= uint64(cp) {
			continue
		}
		if err := p.apply(ctx, tx, &pend, env); err != nil {
			return fmt.Errorf("projections: applying %s at %d: %w", env.Type, env.Position, err)
		}
		n++
	}
	if err := pend.flush(ctx, tx); err != nil {
		return fmt.Errorf("projections: writing the batch's timeline: %w", err)
	}
	if p.beforeCommit != nil {
		if err := p.beforeCommit(batch); err != nil {
			return err
		}
	}
	if last > uint64(cp) {
		if _, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1`, Name, last); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, fmt.Sprint(last)); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	p.applied.Add(float64(n))
	p.skipped.Add(float64(skipped))
	p.position.Set(float64(last))
	p.batches.Observe(time.Since(t0).Seconds())
	p.sizes.Observe(float64(len(msgs)))
	return nil
}

func (p *Projector) watchLag(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if lag, err := Lag(ctx, p.db, p.js, p.stream); err == nil {
			p.lag.Set(float64(lag))
		}
	}
}

// Lag returns the stream's last sequence minus the checkpoint.
func Lag(ctx context.Context, db *sqlx.DB, j js.JetStream, stream string) (uint64, error) {
	cp, err := Checkpoint(ctx, db)
	if err != nil {
		return 0, err
	}
	s, err := j.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.LastSeq < cp {
		return 0, nil
	}
	return info.State.LastSeq - cp, nil
}

// Reset empties the read models and their checkpoint, so that the next Run
// rebuilds them from the first event.
func Reset(ctx context.Context, db *sqlx.DB) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `TRUNCATE `+readModelTables+` CASCADE`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, Name); err != nil {
		return err
	}
	return tx.Commit()
}

// readModelTables are the tables Reset empties.
const readModelTables = "cases, case_personal, case_documents, case_timeline, case_visits, letters, meetings, meeting_resolutions, case_retention"

// RunWithRestart runs the projector, restarting it with backoff after an
// error, until ctx is done.
func (p *Projector) RunWithRestart(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		err := p.Run(ctx)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		p.log.Error("projector stopped; restarting", "err", logsafe.Err(err), "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
