// Package projections keeps the PostgreSQL read models: the projector
// applies the event stream in order, a batch and its checkpoint in one
// transaction, and the reader serves the API from the tables it keeps.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	log       *slog.Logger
	batchSize int
	// known is the checkpoint this run started from or last committed;
	// a checkpoint found below it was reset under the running projector.
	known uint64
	// maxAttempts bounds how often an event is applied alone before it
	// is quarantined.
	maxAttempts int

	// schema, when set, is the shadow schema a rebuild writes (see
	// rebuild.go): each transaction runs with it first on its search_path
	// and announces nothing, since the API does not read it yet.
	schema string
	// fast applies a batch through the in-memory folds (fold.go); the
	// rebuild sets it.
	fast bool
	// folded and fellBack count the rebuild's batches applied by the folds
	// and by the live path.
	folded, fellBack int
	// prefolded counts the folded batches applied from their prefold, and
	// prefoldErasures the erasures in them.
	prefolded, prefoldErasures int
	// bySQL counts the events of folded batches applied by their SQL,
	// by event type.
	bySQL map[string]int

	// beforeCommit, when set (tests only), runs after a batch is applied
	// and before it commits; an error aborts the batch as a crash would.
	beforeCommit func(batch []events.Envelope) error

	applied  prometheus.Counter
	skipped  prometheus.Counter
	batches  prometheus.Histogram
	sizes    prometheus.Histogram
	position prometheus.Gauge
	lag      prometheus.Gauge

	quarantinedTotal prometheus.Counter
	heldTotal        prometheus.Counter
	quarantinedNow   prometheus.Gauge
	heldNow          prometheus.Gauge
}

// Options configure a projector.
type Options struct {
	DB        *sqlx.DB
	JetStream js.JetStream
	Stream    string
	Codec     *events.Codec
	Log       *slog.Logger
	BatchSize int
	Registry  prometheus.Registerer
	// MaxAttempts is how often an event that fails is applied alone
	// before it is quarantined (default DefaultMaxAttempts).
	MaxAttempts int
}

// New returns a projector.
func New(o Options) *Projector {
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	p := &Projector{
		db: o.DB, js: o.JetStream, stream: o.Stream, codec: o.Codec,
		log: o.Log, batchSize: o.BatchSize, maxAttempts: o.MaxAttempts,
		applied:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cihui_projector_events_applied_total", Help: "Events applied to the read models."}),
		skipped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cihui_projector_events_skipped_total", Help: "Messages skipped: unknown event types or undecodable."}),
		batches:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_projector_batch_seconds", Help: "Time to apply and commit one batch.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		sizes:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_projector_batch_events", Help: "Events per committed batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		position: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_projector_position", Help: "Last stream position applied to the read models."}),
		lag:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_projector_lag_events", Help: "Stream last sequence minus the read models' checkpoint."}),

		quarantinedTotal: prometheus.NewCounter(prometheus.CounterOpts{Name: "cihui_projector_events_quarantined_total", Help: "Events quarantined because they failed to apply."}),
		heldTotal:        prometheus.NewCounter(prometheus.CounterOpts{Name: "cihui_projector_events_held_total", Help: "Events held back behind a quarantined event of their stream."}),
		quarantinedNow:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_projector_quarantined_events", Help: "Events in quarantine now."}),
		heldNow:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_projector_held_events", Help: "Events held back now."}),
	}
	if o.Registry != nil {
		o.Registry.MustRegister(p.applied, p.skipped, p.batches, p.sizes, p.position, p.lag,
			p.quarantinedTotal, p.heldTotal, p.quarantinedNow, p.heldNow)
	}
	return p
}

// Checkpoint returns the position the read models have applied.
func Checkpoint(ctx context.Context, q sqlx.QueryerContext) (uint64, error) {
	var pos int64
	err := sqlx.GetContext(ctx, q, &pos, `SELECT coalesce((SELECT position FROM projection_checkpoints WHERE name = $1), 0)`, Name)
	return uint64(pos), err
}

// Run applies events until ctx is done. A batch in which an event fails
// rolls back and is applied again one event at a time, quarantining the
// events that keep failing (see quarantine.go). An error of the
// infrastructure rolls the batch back; Run then returns the error and the
// caller restarts it.
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
	p.known = start
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch() // one watcher per run, not one more per restart
	go p.watchLag(wctx)
	go p.watchRetryRequests(wctx) // retry_request.go
	if q, err := Quarantined(ctx, p.db); err == nil {
		p.quarantinedNow.Set(float64(q.Events))
		p.heldNow.Set(float64(q.Held))
		if q.Events > 0 {
			p.log.Warn("events in quarantine: run `projector retry` after a fix",
				"quarantined", q.Events, "first_position", q.FirstPosition, "held", q.Held)
		}
	}
	p.log.Info("projector started", "from_position", start)

	for {
		msgs, err := nextBatch(ctx, it, p.batchSize)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("projections: reading stream: %w", err)
		}
		if err := p.applyBatch(ctx, msgs); err != nil {
			return err
		}
	}
}

func (p *Projector) applyBatch(ctx context.Context, msgs []js.Msg) error {
	d, err := p.decodeBatch(msgs)
	if err != nil {
		return err
	}
	return p.applyDecoded(ctx, d)
}

// decodedBatch is a batch of messages decoded: the envelopes in order,
// the positions of those whose payload does not decode, the last position
// and how many messages were skipped.
type decodedBatch struct {
	t0          time.Time
	n           int
	batch       []events.Envelope
	undecodable map[uint64]bool
	last        uint64
	skipped     int
	// pre is the batch folded ahead, while the batch before it was
	// written (a rebuild's catch-up); nil if some event of it is not
	// folded (prefold).
	pre *prefolded
}

// decodeBatch decodes a batch of messages (the rebuild decodes the next
// batch while the last one is written).
func (p *Projector) decodeBatch(msgs []js.Msg) (decodedBatch, error) {
	t0 := time.Now()
	batch := make([]events.Envelope, 0, len(msgs))
	var last uint64
	skipped := 0
	var undecodable map[uint64]bool
	for _, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			return decodedBatch{}, fmt.Errorf("projections: message metadata: %w", err)
		}
		last = meta.Sequence.Stream
		env, err := p.codec.Decode(m.Data())
		if events.IsUnknownType(err) {
			// Written by a newer build: skip it, never crash-loop.
			p.log.Warn("skipping event of unknown type", "type", storable(env.Type), "position", last)
			skipped++
			continue
		}
		if err != nil && env.Type != "" && env.AggregateType != "" {
			// An envelope of a known type whose payload does not decode:
			// its stream is quarantined like any event that cannot apply.
			env.Position = last
			if undecodable == nil {
				undecodable = map[uint64]bool{}
			}
			undecodable[last] = true
			batch = append(batch, env)
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
	return decodedBatch{t0: t0, n: len(msgs), batch: batch, undecodable: undecodable, last: last, skipped: skipped}, nil
}

// applyDecoded applies a decoded batch and its checkpoint.
func (p *Projector) applyDecoded(ctx context.Context, d decodedBatch) error {
	t0, batch, undecodable, last, skipped := d.t0, d.batch, d.undecodable, d.last, d.skipped
	res, done, err := p.commitFast(ctx, batch, undecodable, last, d.pre)
	if !done && err == nil {
		res, err = p.commitBatch(ctx, batch, undecodable, last, false)
	}
	var ae *applyError
	if errors.As(err, &ae) && !transient(ae.err) && ctx.Err() == nil {
		// One event (or the batch's timeline) failed: apply the batch
		// again event by event, so the good ones still commit with the
		// checkpoint and the bad one is quarantined.
		pos := uint64(0)
		if ae.ev != nil {
			pos = ae.ev.Position
		}
		p.log.Warn("an event of the batch failed to apply; applying the batch one event at a time",
			"position", pos, "code", errorCode(ae.err))
		res, err = p.commitBatch(ctx, batch, undecodable, last, true)
	}
	if err != nil {
		return err
	}
	p.applied.Add(float64(res.applied))
	p.skipped.Add(float64(skipped))
	p.quarantinedTotal.Add(float64(res.quarantined))
	p.heldTotal.Add(float64(res.held))
	if res.quarantined+res.held > 0 {
		p.refreshQuarantineGauges(ctx)
	}
	p.position.Set(float64(last))
	p.batches.Observe(time.Since(t0).Seconds())
	p.sizes.Observe(float64(d.n))
	return nil
}

// batchResult counts what a committed batch did.
type batchResult struct{ applied, quarantined, held int }

// commitBatch applies a batch and advances the checkpoint to last, in one
// transaction. Events of a stream with a quarantined event are held back.
// With alone, each event is applied inside its own savepoint and one that
// keeps failing is quarantined; otherwise the first failure returns an
// *applyError and nothing commits. Undecodable events (by position) are
// quarantined at once.
func (p *Projector) commitBatch(ctx context.Context, batch []events.Envelope, undecodable map[uint64]bool, last uint64, alone bool) (batchResult, error) {
	var res batchResult
	tx, err := p.db.BeginTxx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if err := p.useSchema(ctx, tx); err != nil {
		return res, err
	}
	cp, err := lockCheckpoint(ctx, tx)
	if err != nil {
		return res, err
	}
	if cp < p.known {
		// A migration or rebuild reset the read models: start again from
		// the checkpoint (RunWithRestart does).
		return res, errCheckpointReset
	}
	blocked, err := blockedStreams(ctx, tx)
	if err != nil {
		return res, err
	}
	var pend pending
	for i := range batch {
		env := batch[i]
		if env.Position <= cp {
			continue
		}
		stream := streamOf(env)
		switch {
		case blocked[stream]:
			if err := p.eraseNow(ctx, tx, env); err != nil {
				return res, err
			}
			if err := hold(ctx, tx, env); err != nil {
				return res, err
			}
			res.held++
		case undecodable[env.Position]:
			if err := p.quarantine(ctx, tx, env, codeDecode, 1); err != nil {
				return res, err
			}
			blocked[stream] = true
			res.quarantined++
		case !alone:
			if err := p.applyGuarded(ctx, tx, &pend, env); err != nil {
				return res, &applyError{ev: &batch[i], err: err}
			}
			res.applied++
		default:
			code, attempts, err := p.applyAlone(ctx, tx, env)
			if err != nil {
				return res, err
			}
			if code == "" {
				res.applied++
				continue
			}
			if err := p.quarantine(ctx, tx, env, code, attempts); err != nil {
				return res, err
			}
			blocked[stream] = true
			res.quarantined++
		}
	}
	if err := pend.flush(ctx, tx); err != nil {
		return res, &applyError{err: err}
	}
	if p.beforeCommit != nil {
		if err := p.beforeCommit(batch); err != nil {
			return res, err
		}
	}
	if last > cp {
		if _, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1`, Name, last); err != nil {
			return res, err
		}
		if p.schema == "" {
			if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, fmt.Sprint(last)); err != nil {
				return res, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return res, err
	}
	p.known = max(last, cp)
	return res, nil
}

// lockCheckpoint locks the checkpoint row and returns its position. Never
// apply anything twice: events at or below it are ignored (a redelivery
// after a reconnect), and the lock serialises the projector with retry.
func lockCheckpoint(ctx context.Context, tx *sqlx.Tx) (uint64, error) {
	var cp int64
	err := tx.GetContext(ctx, &cp, `
		INSERT INTO projection_checkpoints (name, position) VALUES ($1, 0)
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
		RETURNING position`, Name)
	return uint64(cp), err
}

// refreshQuarantineGauges sets the gauges of quarantined and held events.
func (p *Projector) refreshQuarantineGauges(ctx context.Context) {
	if q, err := Quarantined(ctx, p.db); err == nil {
		p.quarantinedNow.Set(float64(q.Events))
		p.heldNow.Set(float64(q.Held))
	}
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
		// bin/projector retry runs in another process.
		p.refreshQuarantineGauges(ctx)
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

// ResetTables returns the tables Reset empties (for `projector rebuild
// --dry-run`).
func ResetTables() []string { return strings.Split(readModelTables, ", ") }

// CheckpointOf returns the position checkpoint name holds (0: none).
func CheckpointOf(ctx context.Context, q sqlx.QueryerContext, name string) (uint64, error) {
	return checkpointOf(ctx, q, name)
}

// readModelTables are the tables Reset empties.
const readModelTables = "cases, case_personal, case_documents, case_timeline, case_visits, letters, meetings, meeting_resolutions, projection_quarantine, projection_held, case_retention, dropout_episodes, suspension_grounds, duty_cases, duty_enrolments, duties, roster_seats, roster_waiting, roster_years, case_duplicates, case_suspensions, case_suspension_log, case_adaptation_meetings, award_facts, award_score_sheets"

// errCheckpointReset stops a run whose checkpoint was reset under it.
var errCheckpointReset = errors.New("projections: the checkpoint was reset; restarting from it")

// RunWithRestart runs the projector, restarting it with backoff after an
// error, until ctx is done.
func (p *Projector) RunWithRestart(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		err := p.Run(ctx)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		if errors.Is(err, errCheckpointReset) {
			p.log.Info("the read models were reset: rebuilding from the first event")
			continue
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

// batchWindow is how long a batch, once its first message is in, waits
// for more: the most the batching adds to a command's visibility.
const batchWindow = 2 * time.Millisecond

// nextBatch waits for one message, then takes whatever else arrives within
// batchWindow of it, up to size: full batches while catching up (the
// messages are already buffered), small ones when following. The window
// is counted from the first message, not per message, so a steady trickle
// of commands cannot keep a batch open (and its events unseen) until it
// fills.
func nextBatch(ctx context.Context, it js.MessagesContext, size int) ([]js.Msg, error) {
	return gatherBatch(ctx, it, size, batchWindow)
}

// gatherBatch waits for one message, then takes up to size in all of
// those that arrive within window of it.
func gatherBatch(ctx context.Context, it js.MessagesContext, size int, window time.Duration) ([]js.Msg, error) {
	first, err := it.Next(js.NextContext(ctx))
	if err != nil {
		return nil, err
	}
	msgs := make([]js.Msg, 1, min(size, 1<<15))
	msgs[0] = first
	// One deadline for the whole batch: a NextMaxWait on each message
	// made a timer per event (issue 13).
	bctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	for len(msgs) < size {
		m, err := it.Next(js.NextContext(bctx))
		if err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}
