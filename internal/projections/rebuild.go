package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
	"cihui/internal/logsafe"
)

var sqlTxReadOnly = sql.TxOptions{ReadOnly: true}

// DefaultRebuildBatch is the number of events a rebuild applies per
// transaction.
const DefaultRebuildBatch = 32768

// RebuildOptions configure a rebuild.
type RebuildOptions struct {
	DB        *sqlx.DB
	JetStream js.JetStream
	Stream    string
	Codec     *events.Codec
	Log       *slog.Logger
	// BatchSize is the events per transaction (default DefaultRebuildBatch).
	BatchSize int
	// Slow applies every event with its SQL, as the live projector does,
	// instead of the in-memory folds (for comparison).
	Slow bool
	// beforeCommit (tests only) is the projector's fault-injection hook.
	beforeCommit func([]events.Envelope) error
}

// RebuildResult says what a rebuild did.
type RebuildResult struct {
	// Position is the checkpoint the rebuilt read models were switched in at.
	Position uint64
	// Resumed is true when an interrupted rebuild's shadow tables were
	// kept and continued from their own checkpoint.
	Resumed bool
	// From is the shadow checkpoint the run started from.
	From uint64
	// Events is how many stream positions this run applied.
	Events   uint64
	Duration time.Duration
	// Folded and FellBack count the batches applied by the in-memory
	// folds and those the live path applied instead (a failing event, a
	// quarantined stream).
	Folded, FellBack int
	// Prefolded counts the folded batches that were folded ahead, while
	// the batch before them was written, and PrefoldErasures the
	// erasures in them.
	Prefolded, PrefoldErasures int
	// BySQL is how many events of the folded batches were applied by
	// their SQL (an event type or an order the folds do not cover).
	BySQL int
	// BySQLTypes counts those events by type.
	BySQLTypes map[string]int
	// Finish is the part of Duration spent adding the foreign keys and
	// the deferred indexes, vacuuming and switching.
	Finish time.Duration
	// Vacuum is the part of Finish spent in VACUUM (ANALYZE) of the
	// rebuilt tables.
	Vacuum time.Duration
	// Checkpoint is the part of Finish spent in the CHECKPOINT that
	// writes the rebuilt tables out before the switch; zero where the
	// database role may not ask for one.
	Checkpoint time.Duration
}

// Rebuild builds the read models afresh beside the live ones, in the
// shadow schema, from the first event (or from the shadow checkpoint of an
// interrupted rebuild), and then switches them in for the live ones in one
// transaction. The API serves the live read models, and a live projector
// may keep them moving, until the switch; the live projector then goes on
// from the rebuild's checkpoint. Each batch of the shadow build commits
// with the shadow checkpoint in one transaction, so a rebuild killed at any
// moment resumes without losing or repeating an event.
func Rebuild(ctx context.Context, o RebuildOptions) (RebuildResult, error) {
	t0 := time.Now()
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultRebuildBatch
	}
	var res RebuildResult
	resumed, err := prepareShadow(ctx, o.DB)
	if err != nil {
		return res, err
	}
	res.Resumed = resumed
	if res.From, err = shadowCheckpoint(ctx, o.DB); err != nil {
		return res, err
	}
	p := New(Options{DB: o.DB, JetStream: o.JetStream, Stream: o.Stream, Codec: o.Codec, Log: o.Log, BatchSize: o.BatchSize})
	p.schema, p.fast, p.beforeCommit = ShadowSchema, !o.Slow, o.beforeCommit
	p.log.Info("rebuilding the read models beside the live ones", "schema", ShadowSchema, "resumed", resumed, "from_position", res.From)
	target, err := lastSeq(ctx, o.JetStream, o.Stream)
	if err != nil {
		return res, err
	}
	strict, vacuumed := false, false
	for {
		if err := p.catchUp(ctx, target); err != nil {
			return res, err
		}
		t1 := time.Now()
		if err := finishShadow(ctx, o.DB); errors.Is(err, errShadowForeignKey) && !strict {
			// Build again with the foreign keys in place, so that the
			// events they refuse are quarantined as the live path does.
			p.log.Warn("the rebuilt rows break a foreign key: building again with the keys in place", "err", logsafe.Err(err))
			if err := createShadow(ctx, o.DB, true); err != nil {
				return res, err
			}
			strict, res.From, res.Resumed = true, 0, false
			continue
		} else if err != nil {
			return res, err
		}
		if !vacuumed {
			// Once, while the API still serves the live tables: the
			// rebuilt ones go in with their planner statistics, hint bits
			// and visibility map, rather than autovacuum doing it under
			// the first reads after the switch.
			tv := time.Now()
			if err := vacuumShadow(ctx, o.DB); err != nil {
				return res, err
			}
			res.Vacuum, vacuumed = time.Since(tv), true
			tc := time.Now()
			done, err := checkpointShadow(ctx, o.DB)
			if err != nil {
				return res, err
			}
			if done {
				res.Checkpoint = time.Since(tc)
			} else {
				p.log.Info("no checkpoint before the switch: the database role may not ask for one (superuser or pg_checkpoint)")
			}
		}
		pos, switched, err := switchShadow(ctx, o.DB)
		if err != nil {
			return res, err
		}
		res.Finish += time.Since(t1)
		if switched {
			res.Position, res.Events, res.Duration = pos, pos-res.From, time.Since(t0)
			res.Folded, res.FellBack, res.BySQLTypes = p.folded, p.fellBack, p.bySQL
			res.Prefolded, res.PrefoldErasures = p.prefolded, p.prefoldErasures
			for _, n := range p.bySQL {
				res.BySQL += n
			}
			p.log.Info("switched to the rebuilt read models", "position", pos, "events", res.Events, "seconds", res.Duration.Seconds())
			return res, nil
		}
		// The live projector went on meanwhile: catch up with it.
		if last, err := lastSeq(ctx, o.JetStream, o.Stream); err == nil && last > pos {
			pos = last
		}
		target = pos
	}
}

// catchUp applies the stream to the shadow tables until the shadow
// checkpoint reaches target.
func (p *Projector) catchUp(ctx context.Context, target uint64) error {
	start, err := shadowCheckpoint(ctx, p.db)
	if err != nil {
		return err
	}
	if start >= target {
		return nil
	}
	p.known = start
	var persons *personIndex
	if p.fast {
		if persons, err = p.loadPersons(ctx); err != nil {
			return err
		}
	}
	cons, err := p.js.OrderedConsumer(ctx, p.stream, js.OrderedConsumerConfig{
		DeliverPolicy: js.DeliverByStartSequencePolicy, OptStartSeq: start + 1})
	if err != nil {
		return fmt.Errorf("projections: consumer: %w", err)
	}
	it, err := cons.Messages(js.PullMaxMessages(2 * p.batchSize))
	if err != nil {
		return fmt.Errorf("projections: consumer: %w", err)
	}
	defer it.Stop()
	// One goroutine reads and decodes the next batch while this one
	// applies the last: batches still apply one at a time, in order, each
	// with its checkpoint.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type next struct {
		d   decodedBatch
		err error
	}
	ch := make(chan next, 1)
	go func() {
		defer close(ch)
		for read := start; read < target; {
			msgs, err := catchUpBatch(rctx, it, min(uint64(p.batchSize), target-read))
			if err != nil {
				err = fmt.Errorf("projections: reading stream: %w", err)
			}
			var d decodedBatch
			if err == nil {
				d, err = p.decodeHalves(msgs)
			}
			if err == nil && persons != nil && len(d.undecodable) == 0 {
				d.pre = prefold(d.batch, persons)
			}
			select {
			case ch <- next{d, err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
			read = d.last
		}
	}()
	for p.known < target {
		n, ok := <-ch
		if !ok {
			return ctx.Err()
		}
		if n.err != nil {
			return n.err
		}
		if err := p.applyDecoded(ctx, n.d); err != nil {
			return err
		}
	}
	return nil
}

// decodeHalves decodes the two halves of a batch at once (decoding is
// the rebuild's largest cost of CPU) and joins them.
func (p *Projector) decodeHalves(msgs []js.Msg) (decodedBatch, error) {
	if len(msgs) < 1024 {
		return p.decodeBatch(msgs)
	}
	half := len(msgs) / 2
	var b decodedBatch
	var errB error
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, errB = p.decodeBatch(msgs[half:])
	}()
	a, err := p.decodeBatch(msgs[:half])
	<-done
	if err != nil {
		return a, err
	}
	if errB != nil {
		return b, errB
	}
	a.n += b.n
	a.batch = append(a.batch, b.batch...)
	a.skipped += b.skipped
	a.last = max(a.last, b.last)
	for pos := range b.undecodable {
		if a.undecodable == nil {
			a.undecodable = map[uint64]bool{}
		}
		a.undecodable[pos] = true
	}
	return a, nil
}

// catchUpWindow is how long a catch-up batch waits for more messages once
// its first is in: the stream is read from the past, so they are coming.
const catchUpWindow = 200 * time.Millisecond

// catchUpBatch takes up to size messages, waiting for them at most
// catchUpWindow after the first: full batches while the consumer keeps up.
func catchUpBatch(ctx context.Context, it js.MessagesContext, size uint64) ([]js.Msg, error) {
	return gatherBatch(ctx, it, int(size), catchUpWindow)
}

// lastSeq returns the stream's last sequence.
func lastSeq(ctx context.Context, j js.JetStream, stream string) (uint64, error) {
	s, err := j.Stream(ctx, stream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// loadPersons returns the person index of the cases written so far (a
// resumed rebuild's), for the prefolds.
func (p *Projector) loadPersons(ctx context.Context) (*personIndex, error) {
	x := newPersonIndex()
	rows, err := p.db.QueryContext(ctx, `SELECT id, person_key FROM `+pq.QuoteIdentifier(p.schema)+`.cases`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, person string
		if err := rows.Scan(&id, &person); err != nil {
			return nil, err
		}
		x.add(id, person)
	}
	return x, rows.Err()
}
