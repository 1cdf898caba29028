package projections

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/events"
)

// An event that the read models cannot apply (issue 7) is retried a
// bounded number of times, each time alone inside a savepoint of the
// batch's transaction, and then quarantined: a row in
// projection_quarantine names its position, type, stream and the error's
// code, never a value or an error's text. The later events of the same
// stream are held back in projection_held, in order, and not applied; the
// case is marked projection_error. Every other stream goes on, and the
// checkpoint advances with the batch as before.
//
// "Its own aggregate" is the event's own stream, cihui.<branch>.<type>[.<id>]
// as named by its envelope: an event that also touches rows of another
// aggregate (a meeting's resolution on a case, an admission on a meeting's
// resolution) holds back only its own stream.

// Error codes recorded for failures that are not PostgreSQL errors.
const (
	codePanic  = "panic"  // applying the event panicked
	codeDecode = "decode" // the event no longer decodes (retry only)
	codeApply  = "apply"  // any other error of the event itself
)

// DefaultMaxAttempts is how many times an event is applied alone before it
// is quarantined.
const DefaultMaxAttempts = 3

// applyError is an error applying one event (or the batch's timeline,
// when ev is nil), as opposed to an error of the infrastructure.
type applyError struct {
	ev  *events.Envelope
	err error
}

func (e *applyError) Error() string {
	if e.ev == nil {
		return "projections: writing the batch's timeline: " + e.err.Error()
	}
	return fmt.Sprintf("projections: applying %s at %d: %v", e.ev.Type, e.ev.Position, e.err)
}

func (e *applyError) Unwrap() error { return e.err }

var errPanic = errors.New("projections: applying the event panicked")

// transient reports whether err is the infrastructure's, not the event's:
// the connection, the server going away, resources, a deadlock. Such an
// error never quarantines an event; the projector restarts and tries the
// batch again.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code.Class() {
		case "08", // connection exception
			"25", // invalid transaction state
			"40", // transaction rollback: deadlock, serialization
			"53", // insufficient resources
			"57", // operator intervention: shutdown, cancel
			"58", // system error: I/O
			"XX": // internal error
			return true
		}
	}
	return false
}

// errorCode is what the quarantine records of an error: the SQLSTATE, or a
// fixed class. Never the message, which may quote a value.
func errorCode(err error) string {
	var pe *pq.Error
	switch {
	case errors.As(err, &pe):
		return string(pe.Code)
	case errors.Is(err, errPanic):
		return codePanic
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return codeDecode
	}
	return codeApply
}

// streamOf names the event's own stream as its envelope gives it. The
// envelope of a message published around the API may carry anything, so
// a name PostgreSQL could not store, or too long, is replaced by its hash.
func streamOf(env events.Envelope) string {
	return storable(events.StreamID{Branch: env.Branch, Type: env.AggregateType, ID: env.AggregateID}.Subject())
}

func storable(s string) string {
	if len(s) <= 200 && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// blockedStreams returns the streams that have a quarantined event.
func blockedStreams(ctx context.Context, tx *sqlx.Tx) (map[string]bool, error) {
	var streams []string
	if err := tx.SelectContext(ctx, &streams, `SELECT stream FROM projection_quarantine`); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(streams))
	for _, s := range streams {
		out[s] = true
	}
	return out, nil
}

// hold records an event of a blocked stream, not applied.
func hold(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO projection_held (position, stream, aggregate_type, aggregate_id, event_type)
		VALUES ($1,$2,$3,$4,$5)`,
		int64(env.Position), streamOf(env), storable(env.AggregateType), storable(env.AggregateID), storable(env.Type))
	return err
}

// eraseNow applies an erasure that is held back behind a quarantined
// event of its case at once: an erased person leaves the read models even
// then. The erasure is held too, so that retry applies it again in order
// (it is idempotent) with its timeline row. Events applied after it find
// the data key destroyed, as on a rebuild. Should it fail, it stays held,
// and its failure is logged.
func (p *Projector) eraseNow(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	if _, ok := env.Payload.(events.PersonErased); !ok || env.AggregateType != events.AggregateReferral {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT erase_now`); err != nil {
		return err
	}
	err := p.applyReferral(ctx, tx, env)
	if err == nil {
		_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT erase_now`)
		return err
	}
	if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT erase_now; RELEASE SAVEPOINT erase_now`); rerr != nil {
		return rerr
	}
	if transient(err) {
		return err
	}
	p.log.Error("a held-back erasure failed to apply at once; retry applies it", "position", env.Position, "code", errorCode(err))
	return nil
}

// quarantine records an event that failed to apply, and marks its case.
func (p *Projector) quarantine(ctx context.Context, tx *sqlx.Tx, env events.Envelope, code string, attempts int) error {
	p.log.Error("event quarantined: its stream is held back until `projector retry`",
		"position", env.Position, "type", storable(env.Type), "stream", streamOf(env), "code", code, "attempts", attempts)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO projection_quarantine (position, stream, aggregate_type, aggregate_id, event_type, error_code, attempts)
		VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		int64(env.Position), streamOf(env), storable(env.AggregateType), storable(env.AggregateID), storable(env.Type), code, attempts); err != nil {
		return err
	}
	return markCase(ctx, tx, env.AggregateType, storable(env.AggregateID), true)
}

// markCase sets or clears a case's projection_error flag.
func markCase(ctx context.Context, tx *sqlx.Tx, aggregateType, id string, stale bool) error {
	if aggregateType != events.AggregateReferral {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE cases SET projection_error = $2 WHERE id = $1`, id, stale)
	return err
}

// applyAlone applies one event with its timeline row inside a savepoint,
// up to maxAttempts times. It returns the error code when the event itself
// keeps failing (the savepoint is rolled back: nothing of it stays), and
// an error when the infrastructure fails.
func (p *Projector) applyAlone(ctx context.Context, tx *sqlx.Tx, env events.Envelope) (code string, attempts int, err error) {
	var last error
	for attempts = 1; attempts <= p.maxAttempts; attempts++ {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT apply_event`); err != nil {
			return "", attempts, err
		}
		var pend pending
		aerr := p.applyGuarded(ctx, tx, &pend, env)
		if aerr == nil {
			aerr = pend.flush(ctx, tx)
		}
		if aerr == nil {
			_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT apply_event`)
			return "", attempts, err
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT apply_event; RELEASE SAVEPOINT apply_event`); err != nil {
			return "", attempts, err
		}
		if transient(aerr) {
			return "", attempts, aerr
		}
		last = aerr
		p.log.Warn("event failed to apply", "position", env.Position, "type", storable(env.Type),
			"attempt", attempts, "of", p.maxAttempts, "code", errorCode(aerr))
		if attempts < p.maxAttempts {
			select {
			case <-ctx.Done():
				return "", attempts, ctx.Err()
			case <-time.After(time.Duration(attempts) * 20 * time.Millisecond):
			}
		}
	}
	return errorCode(last), p.maxAttempts, nil
}

// applyGuarded applies an event, turning a panic into an error: a bug
// triggered by one event must not stop every read model either.
func (p *Projector) applyGuarded(ctx context.Context, tx *sqlx.Tx, pend *pending, env events.Envelope) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errPanic
		}
	}()
	return p.apply(ctx, tx, pend, env)
}

// QuarantineState is what /readyz reports of poison events.
type QuarantineState struct {
	Events        int    `db:"events"`
	FirstPosition uint64 `db:"first_position"`
	Held          int    `db:"held"`
}

// Quarantined counts the quarantined and held events.
func Quarantined(ctx context.Context, q sqlx.QueryerContext) (QuarantineState, error) {
	var s struct {
		Events int   `db:"events"`
		First  int64 `db:"first_position"`
		Held   int   `db:"held"`
	}
	err := sqlx.GetContext(ctx, q, &s, `
		SELECT (SELECT count(*) FROM projection_quarantine) AS events,
		       coalesce((SELECT min(position) FROM projection_quarantine), 0) AS first_position,
		       (SELECT count(*) FROM projection_held) AS held`)
	return QuarantineState{Events: s.Events, FirstPosition: uint64(s.First), Held: s.Held}, err
}
