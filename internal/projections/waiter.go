package projections

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Waiter follows the projector's position through LISTEN/NOTIFY, so that a
// reader can wait for its own writes without polling.
type Waiter struct {
	db       *sqlx.DB
	listener *pq.Listener

	mu      sync.Mutex
	pos     uint64
	gen     uint64        // moves on every switch to rebuilt read models
	changed chan struct{} // closed and replaced whenever pos grows
}

// Mark is what a reader's cache keys on: the read models' position and
// generation. The generation moves when a rebuild's switch puts new
// tables in place of the live ones, which may leave the position where it
// was (and when the listener reconnects, as a notice may have been lost).
type Mark struct {
	Pos, Gen uint64
}

// switchedSuffix ends the notice of a rebuild's switch: "<position>/switched".
const switchedSuffix = "/switched"

// SwitchedNotice is the payload the switch to rebuilt read models
// notifies on NotifyChannel.
func SwitchedNotice(pos uint64) string { return strconv.FormatUint(pos, 10) + switchedSuffix }

// NewWaiter listens on dsn until ctx is done.
func NewWaiter(ctx context.Context, dsn string, db *sqlx.DB) (*Waiter, error) {
	w := &Waiter{db: db, changed: make(chan struct{})}
	w.listener = pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventReconnected {
			w.bump() // a switch's notice may have been missed
			w.refresh(context.Background())
		}
	})
	if err := w.listener.Listen(NotifyChannel); err != nil {
		w.listener.Close()
		return nil, err
	}
	w.refresh(ctx)
	go w.loop(ctx)
	return w, nil
}

func (w *Waiter) loop(ctx context.Context) {
	defer w.listener.Close()
	tick := time.NewTicker(5 * time.Second) // a safety net if a notice is lost
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-w.listener.Notify:
			if n == nil {
				w.bump()
				w.refresh(ctx)
				continue
			}
			if extra, ok := strings.CutSuffix(n.Extra, switchedSuffix); ok {
				w.bump()
				w.refresh(ctx) // authoritative, as after a reset
				if p, err := strconv.ParseUint(extra, 10, 64); err == nil {
					w.advance(p)
				}
				continue
			}
			if p, err := strconv.ParseUint(n.Extra, 10, 64); err == nil {
				w.advance(p)
			}
		case <-tick.C:
			w.refresh(ctx)
		}
	}
}

// refresh reads the checkpoint; it is authoritative, so a rebuild that
// reset the read models is noticed too.
func (w *Waiter) refresh(ctx context.Context) {
	p, err := Checkpoint(ctx, w.db)
	if err != nil {
		return
	}
	w.mu.Lock()
	reset := p < w.pos
	if reset {
		w.pos = p
	}
	w.mu.Unlock()
	if !reset {
		w.advance(p)
	}
}

func (w *Waiter) advance(p uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p > w.pos {
		w.pos = p
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

// bump moves the generation: what was read before is not served again.
func (w *Waiter) bump() {
	w.mu.Lock()
	w.gen++
	w.mu.Unlock()
}

// Mark returns the position and the generation of the read models.
func (w *Waiter) Mark() Mark {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Mark{Pos: w.pos, Gen: w.gen}
}

// Position is the last position the read models are known to reflect.
func (w *Waiter) Position() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pos
}

// Wait blocks until the read models reflect position min or ctx ends, and
// returns the position reached.
func (w *Waiter) Wait(ctx context.Context, min uint64) uint64 {
	for {
		w.mu.Lock()
		pos, ch := w.pos, w.changed
		w.mu.Unlock()
		if pos >= min {
			return pos
		}
		select {
		case <-ctx.Done():
			return pos
		case <-ch:
		}
	}
}
