// Package app runs commands: it loads an aggregate from the event store,
// lets the domain check the rules, and appends the resulting events with
// optimistic concurrency and idempotency.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// Service runs the commands of the referral process.
type Service struct {
	Store    events.Store
	Sealer   *events.Sealer
	Branches func(code string) (domain.Branch, bool)
	Clock    domain.Clock
	// BranchCache, when set, serves branch administration (ListBranches,
	// ConfigureBranch, …); Branches is then usually its Get.
	BranchCache *BranchCache
	// PersonCases, when set, finds a student's referrals filed before
	// person streams were kept (R-CAP-1 duplicate check); each is checked
	// against the log.
	PersonCases PersonCaseIndex

	calendars sync.Map // branch → builtCalendar (calendar.go)
	// referralFolds keeps folded referrals for commands (foldcache.go).
	referralFolds referralFolds
}

// Meta is what the caller of a command adds to it.
type Meta struct {
	Actor events.Actor
	// IdempotencyKey, when set, makes the command safe to retry: the same
	// key and request return the first result and append nothing.
	IdempotencyKey string
	// RequestHash identifies the request body; reusing a key with another
	// body is refused.
	RequestHash string
	// IfMatch, when set, is the version the caller last saw.
	IfMatch       *uint64
	CorrelationID string
}

// Result is what a command returns.
type Result struct {
	ID       string `json:"id"`
	Version  uint64 `json:"version"`
	Position uint64 `json:"position"`
	// Replayed is true when an idempotent retry returned the first result.
	Replayed bool `json:"-"`
}

// scopedKey binds an idempotency key to the actor, so that two schools
// using the same key never collide.
func scopedKey(m Meta) string {
	if m.IdempotencyKey == "" {
		return ""
	}
	h := sha256.Sum256([]byte(string(m.Actor.Role) + "\x00" + m.Actor.School + "\x00" + m.Actor.UserID + "\x00" + m.IdempotencyKey))
	return strings.ToLower(b32.EncodeToString(h[:20]))
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a new aggregate id; with an idempotency key it is derived
// from it, so that a retried create lands on the same aggregate.
func newID(prefix string, m Meta) string {
	if k := scopedKey(m); k != "" {
		h := sha256.Sum256([]byte("id\x00" + k))
		return prefix + strings.ToLower(b32.EncodeToString(h[:15]))
	}
	var b [15]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(b32.EncodeToString(b[:]))
}

// replay finds the result of an earlier attempt of the same command in the
// aggregate's own events. The stream is the idempotency record, so a retry
// is recognised however long after the first attempt it comes.
func replay(loaded events.Loaded, id string, m Meta) (Result, bool, error) {
	key := scopedKey(m)
	if key == "" {
		return Result{}, false, nil
	}
	var res Result
	found := false
	for _, env := range loaded.Events {
		if env.IdempotencyKey != key {
			continue
		}
		if env.RequestHash != m.RequestHash {
			return Result{}, false, &domain.Error{Code: domain.EIdempotency, Message: "this Idempotency-Key was used with a different request"}
		}
		res = Result{ID: id, Version: env.Version, Position: env.Position, Replayed: true}
		found = true
	}
	return res, found, nil
}

// execute loads one aggregate, asks decide (which folds it) for the events
// to record, and appends them. A conflict with a concurrent writer
// is reported, never retried blindly: the caller's decision was taken on
// stale state.
//
// A store that caches aggregates (optimisticStore) serves the command
// from its cache without a round trip (issue 13). The append's expected
// sequence makes that safe: a cache that missed events conflicts. Then
// the aggregate is loaded from the server, and if every event the cache
// missed was recorded before the command began, the cache was merely
// behind (another process wrote): the command decides again on the
// server's state, as it would have if it had loaded it first. An event
// recorded after the command began is a concurrent change and answered
// as before. Every other answer than an append (a rule's refusal, a stale
// If-Match, "already recorded") is given only on the server's state.
// An idempotent retry is recognised in the cached events (they are all
// recorded) or, if the cache missed the first attempt, after the conflict.
func (s *Service) execute(ctx context.Context, stream events.StreamID, m Meta,
	decide func(loaded events.Loaded) ([]events.Event, error)) (Result, error) {
	return s.run(ctx, stream, m, true, decide)
}

// run is execute; with optimistic false the decision is taken on the
// server's state, never on a cache that may be behind: for a decision
// with an effect outside the log that cannot be undone (a key destroyed).
func (s *Service) run(ctx context.Context, stream events.StreamID, m Meta, optimistic bool,
	decide func(loaded events.Loaded) ([]events.Event, error)) (Result, error) {
	loaded, checked, began, err := s.loadForCommand(ctx, stream, optimistic)
	if err != nil {
		return Result{}, storeError(err)
	}
	retried := false
	for {
		if res, ok, err := replay(loaded, stream.ID, m); ok || err != nil {
			return res, err
		}
		evs, err := decide(loaded)
		if err := precondition(m, loaded.Version, err); err != nil {
			if !checked {
				if loaded, err = s.Store.Load(ctx, stream); err != nil {
					return Result{}, storeError(err)
				}
				checked = true
				continue
			}
			if u, ok := errors.AsType[unchanged](err); ok {
				return u.res, nil
			}
			return Result{}, err
		}
		envs, err := s.append(ctx, events.Append{
			Stream: stream, ExpectedSeq: loaded.LastSeq, ExpectedVersion: loaded.Version, Events: evs,
			Meta: s.metadata(m),
		})
		if errors.Is(err, events.ErrConflict) {
			fresh, err := s.Store.Load(ctx, stream)
			if err != nil {
				return Result{}, storeError(err)
			}
			behind := !checked && recordedBefore(fresh, loaded.LastSeq, began)
			loaded, checked = fresh, true
			switch {
			case behind:
				continue
			case scopedKey(m) != "" && !retried:
				// A concurrent attempt of this very command may have won:
				// the replay recognises it. Otherwise the conflict stands.
				retried = true
				continue
			case m.IfMatch != nil:
				return Result{}, &domain.Error{Code: domain.EPrecondition, Message: "the referral changed while the command ran"}
			}
			return Result{}, &domain.Error{Code: domain.EConflict, Message: "the referral changed while the command ran; reload and try again"}
		}
		if err != nil {
			return Result{}, storeError(err)
		}
		last := envs[len(envs)-1]
		return Result{ID: stream.ID, Version: last.Version, Position: last.Position}, nil
	}
}

// optimisticStore is a store that serves an aggregate from its cache
// without asking the server (jetstream.Store): checked is false then.
// Now reads the clock that stamps RecordedAt.
type optimisticStore interface {
	LoadCached(ctx context.Context, id events.StreamID) (l events.Loaded, checked bool, err error)
	Now() time.Time
}

// loadForCommand loads the aggregate a command decides on: from the
// store's cache when it keeps one. began is when the command began, on
// the clock of the events' RecordedAt.
func (s *Service) loadForCommand(ctx context.Context, stream events.StreamID, optimistic bool) (l events.Loaded, checked bool, began time.Time, err error) {
	if o, ok := s.Store.(optimisticStore); ok && optimistic {
		began = o.Now()
		l, checked, err = o.LoadCached(ctx, stream)
		return l, checked, began, err
	}
	l, err = s.Store.Load(ctx, stream)
	return l, true, time.Time{}, err
}

// recordedBefore reports whether every event of l after position seq was
// recorded before t: a cache that ended at seq was behind when a command
// began at t, and nothing was recorded while it ran. (Clocks of processes
// differ a little: an event recorded about the moment t may be taken for
// one before it; the command then decides on the server's state, which
// is always safe.)
func recordedBefore(l events.Loaded, seq uint64, t time.Time) bool {
	for i := len(l.Events) - 1; i >= 0 && l.Events[i].Position > seq; i-- {
		if !l.Events[i].RecordedAt.Before(t) {
			return false
		}
	}
	return true
}

// precondition orders a command's outcome: a resource the caller may not
// see is not found (If-Match must not reveal it exists); then a stale
// If-Match is 412, whatever the rules would say; then the rules' verdict.
func precondition(m Meta, version uint64, decided error) error {
	if domain.ErrorCode(decided) == domain.ENotFound {
		return decided
	}
	if m.IfMatch != nil && *m.IfMatch != version {
		return &domain.Error{Code: domain.EPrecondition, Message: "the resource has changed since the version given in If-Match"}
	}
	return decided
}

func (s *Service) metadata(m Meta) events.Metadata {
	return events.Metadata{
		Actor:          m.Actor,
		OccurredAt:     s.Clock.Now(),
		CorrelationID:  m.CorrelationID,
		IdempotencyKey: scopedKey(m),
		RequestHash:    m.RequestHash,
	}
}

func storeError(err error) error {
	if errors.Is(err, events.ErrUnavailable) {
		return &domain.Error{Code: domain.EUnavailable, Message: "the event store is unavailable"}
	}
	return err
}

// branch returns the actor's branch configuration.
func (s *Service) branch(a events.Actor) (domain.Branch, error) {
	code := a.Branch
	if code == "" {
		code = domain.DefaultBranchCode
	}
	b, ok := s.Branches(code)
	if !ok {
		return domain.Branch{}, domain.Errorf(domain.EForbidden, "the token's branch is not configured")
	}
	return b.WithDefaults(), nil // settings without class norms or meeting months: the defaults (R-CAP-2, R-MTG-1)
}

// now is the service clock.
func (s *Service) now() time.Time { return s.Clock.Now() }
