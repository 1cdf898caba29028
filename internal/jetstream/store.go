package jetstream

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"cihui/internal/events"
)

// Config configures the event stream.
type Config struct {
	// Stream is the JetStream stream name; default "CIHUI".
	Stream string
	// Replicas: 1 embedded, 3 on a cluster.
	Replicas int
	// Duplicates is the server's Nats-Msg-Id window. Idempotency does not
	// depend on it: retries beyond it are recognised from the stream.
	Duplicates time.Duration
	// Now stamps RecordedAt; default time.Now.
	Now func() time.Time
	// CacheSize is how many aggregates the load cache keeps; default
	// 10000, negative turns the cache off.
	CacheSize int
}

const (
	headerEventType = "Cihui-Event-Type"
	loadBatch       = 256
)

// Store is the event store on one JetStream stream. Every aggregate has
// its own subject, so one total order serves the projector while
// optimistic concurrency works per aggregate.
type Store struct {
	js     js.JetStream
	st     js.Stream // the stream's handle, for single direct gets
	codec  *events.Codec
	stream string
	now    func() time.Time
	cache  *aggregateCache
}

// Open ensures the stream exists with the required settings and returns
// a store over it.
func Open(ctx context.Context, nc *nats.Conn, codec *events.Codec, cfg Config) (*Store, error) {
	if cfg.Stream == "" {
		cfg.Stream = "CIHUI"
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Duplicates == 0 {
		cfg.Duplicates = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	j, err := js.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := j.CreateOrUpdateStream(ctx, js.StreamConfig{
		Name:               cfg.Stream,
		Description:        "Cihui referral case events: one subject per aggregate",
		Subjects:           []string{"cihui.>"},
		Storage:            js.FileStorage,
		Retention:          js.LimitsPolicy,
		Replicas:           cfg.Replicas,
		Duplicates:         cfg.Duplicates,
		AllowDirect:        true,
		AllowAtomicPublish: true,
		DenyDelete:         true,
		DenyPurge:          true,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream: ensuring stream %s: %w", cfg.Stream, err)
	}
	return &Store{js: j, st: st, codec: codec, stream: cfg.Stream, now: cfg.Now, cache: newAggregateCache(cfg.CacheSize)}, nil
}

// StreamName returns the JetStream stream name.
func (s *Store) StreamName() string { return s.stream }

// JetStream returns the JetStream context (for the projector and bench).
func (s *Store) JetStream() js.JetStream { return s.js }

// Load reads every event of one aggregate. Loads never create a consumer:
// events come from batched direct gets, and an aggregate loaded before is
// served from a cache whose freshness is checked on the server: only the
// events after the cached last sequence are fetched (usually none, in one
// round trip). The stream denies deletes and purges, so a cached prefix
// never goes stale.
func (s *Store) Load(ctx context.Context, id events.StreamID) (events.Loaded, error) {
	if err := id.Validate(); err != nil {
		return events.Loaded{}, err
	}
	subject := id.Subject()
	var out events.Loaded
	if c, ok := s.cache.get(subject); ok {
		out = c
		if l, ok, err := s.freshen(ctx, subject, c); err != nil || ok {
			return l, err
		}
	}
	cachedLen := len(out.Events)
	next := out.LastSeq + 1
	for {
		msgs, err := jetstreamext.GetBatch(ctx, s.js, s.stream, loadBatch,
			jetstreamext.GetBatchSubject(subject), jetstreamext.GetBatchSeq(next))
		if err != nil {
			return events.Loaded{}, unavailable(err)
		}
		n := 0
		for m, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				break
			}
			if err != nil {
				return events.Loaded{}, unavailable(err)
			}
			n++
			env, err := s.codec.Decode(m.Data)
			if err != nil {
				return events.Loaded{}, fmt.Errorf("jetstream: event at %d: %w", m.Sequence, err)
			}
			env.Position = m.Sequence
			out.Events = append(out.Events, env)
			out.LastSeq = m.Sequence
			next = m.Sequence + 1
		}
		if n < loadBatch {
			break
		}
	}
	out.Version = uint64(len(out.Events))
	if len(out.Events) > cachedLen {
		s.cache.put(subject, out)
	}
	return out, nil
}

// LoadCached is Load for a command that decides optimistically: an
// aggregate this process has cached (loaded, or extended by its own
// appends) is returned as it is, without a round trip to the server, and
// checked is false; otherwise it is loaded as by Load and checked is
// true. A cached aggregate is always a true prefix of the stream (the
// stream denies deletes and purges), so an append decided on a stale one
// names a last sequence the subject has moved past and is refused with a
// conflict: no update is lost. The caller then loads again and decides
// on the server's state.
func (s *Store) LoadCached(ctx context.Context, id events.StreamID) (l events.Loaded, checked bool, err error) {
	if err := id.Validate(); err != nil {
		return events.Loaded{}, false, err
	}
	if c, ok := s.cache.get(id.Subject()); ok {
		return c, false, nil
	}
	l, err = s.Load(ctx, id)
	return l, true, err
}

// Now is the time on the clock that stamps the events' RecordedAt.
func (s *Store) Now() time.Time { return s.now().UTC() }

// freshen checks a cached aggregate with one direct get of its subject's
// last message, a request on the connection's shared reply subscription
// (a batched get subscribes anew, and its channel of 64k slots cost
// 512 kB a load: most of a command's allocations under load, issue 13).
// The cache is current if that message is the cached last one; if it is
// the next version, it is the one event missing (versions are dense: an
// append checks the subject's last sequence). ok is false when more is
// missing: the caller fetches the rest in batches.
func (s *Store) freshen(ctx context.Context, subject string, c events.Loaded) (events.Loaded, bool, error) {
	if len(c.Events) == 0 || s.st == nil {
		return c, false, nil
	}
	m, err := s.st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, js.ErrMsgNotFound) {
		return c, false, nil
	}
	if err != nil {
		return events.Loaded{}, false, unavailable(err)
	}
	if m.Sequence == c.LastSeq {
		return c, true, nil
	}
	env, err := s.codec.Decode(m.Data)
	if err != nil {
		return events.Loaded{}, false, fmt.Errorf("jetstream: event at %d: %w", m.Sequence, err)
	}
	if m.Sequence < c.LastSeq || env.Version != c.Version+1 {
		return c, false, nil
	}
	env.Position = m.Sequence
	if l, ok := s.cache.extend(subject, c.LastSeq, env); ok {
		return l, true, nil
	}
	return c, false, nil // the entry moved on meanwhile: load the rest
}

// Append records the events of every append atomically. One event goes as
// a single publish; more go as one JetStream atomic batch, with the
// expected last sequence of each subject checked on its first message.
func (s *Store) Append(ctx context.Context, appends ...events.Append) ([]events.Envelope, error) {
	var msgs []*nats.Msg
	var envs []events.Envelope
	recorded := s.now().UTC()
	keyed := false // the (single) message's append has an idempotency key
	for _, a := range appends {
		if err := a.Stream.Validate(); err != nil {
			return nil, err
		}
		subject := a.Stream.Subject()
		for i, e := range a.Events {
			env := events.Envelope{
				ID:             eventID(a, i),
				AggregateType:  a.Stream.Type,
				AggregateID:    a.Stream.ID,
				Branch:         a.Stream.Branch,
				Version:        a.ExpectedVersion + uint64(i) + 1,
				OccurredAt:     a.Meta.OccurredAt.UTC(),
				RecordedAt:     recorded,
				Actor:          a.Meta.Actor,
				CausationID:    a.Meta.CausationID,
				CorrelationID:  a.Meta.CorrelationID,
				IdempotencyKey: a.Meta.IdempotencyKey,
				RequestHash:    a.Meta.RequestHash,
			}
			data, err := s.codec.Encode(&env, e)
			if err != nil {
				return nil, err
			}
			m := nats.NewMsg(subject)
			m.Data = data
			m.Header.Set(headerEventType, env.Type)
			if i == 0 {
				m.Header.Set(js.ExpectedLastSubjSeqHeader, strconv.FormatUint(a.ExpectedSeq, 10))
			}
			msgs = append(msgs, m)
			envs = append(envs, env)
			keyed = a.Meta.IdempotencyKey != ""
		}
	}
	switch len(msgs) {
	case 0:
		return nil, nil
	case 1:
		if keyed {
			// The id derives from the key. A random id (no key) is not
			// sent: it would never come again, and the server would
			// track it for its whole duplicate window, in the stream's
			// serial write path, for nothing (issue 13).
			msgs[0].Header.Set(js.MsgIDHeader, envs[0].ID)
		}
		ack, err := s.js.PublishMsg(ctx, msgs[0])
		if err != nil {
			return nil, publishError(err)
		}
		envs[0].Position = ack.Sequence
		if ack.Duplicate {
			// The server dropped the message as a retry of one it holds:
			// what it holds is not known here, so the cache learns nothing.
			return envs, nil
		}
	default:
		ack, err := jetstreamext.PublishMsgBatch(ctx, s.js, msgs)
		if err != nil {
			return nil, publishError(err)
		}
		first := ack.Sequence - uint64(len(msgs)) + 1
		for i := range envs {
			envs[i].Position = first + uint64(i)
		}
	}
	s.remember(appends, msgs, envs)
	return envs, nil
}

// remember extends the cache with this process's own recorded appends,
// so that the next command on the aggregate decides without a round trip.
// An append was checked by the server against its ExpectedSeq, so it
// extends a cached aggregate that ends exactly there (or, at 0, starts
// one: the subject was empty). The envelopes are the ones encoded, with
// their typed payloads: what a load decodes from the bytes stored
// (TestRememberedEqualsLoaded), without decoding them again. A payload
// given as a pointer is decoded, as a load gives the value.
func (s *Store) remember(appends []events.Append, msgs []*nats.Msg, envs []events.Envelope) {
	i := 0
	for _, a := range appends {
		n := len(a.Events)
		if n == 0 {
			continue
		}
		recorded := slices.Clone(envs[i : i+n])
		ok := true
		for j := range recorded {
			if reflect.TypeOf(recorded[j].Payload).Kind() != reflect.Pointer {
				continue
			}
			env, err := s.codec.Decode(msgs[i+j].Data)
			if err != nil {
				ok = false
				break
			}
			env.Position = envs[i+j].Position
			recorded[j] = env
		}
		if ok {
			s.cache.extend(a.Stream.Subject(), a.ExpectedSeq, recorded...)
		}
		i += n
	}
}

// LastPosition returns the stream's last sequence.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	st, err := s.js.Stream(ctx, s.stream)
	if err != nil {
		return 0, unavailable(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, unavailable(err)
	}
	return info.State.LastSeq, nil
}

// eventID is random, or derived from the idempotency key so that a retry
// within the server's duplicate window is dropped by the server too.
func eventID(a events.Append, i int) string {
	if a.Meta.IdempotencyKey == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	h := sha256.Sum256([]byte(a.Meta.IdempotencyKey + "\x00" + a.Stream.Subject() + "\x00" + strconv.Itoa(i)))
	return hex.EncodeToString(h[:16])
}

func publishError(err error) error {
	var apiErr *js.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case js.JSErrCodeStreamWrongLastSequence, js.JSErrCodeStreamWrongLastSequenceConstant:
			return fmt.Errorf("%w: %s", events.ErrConflict, apiErr.Description)
		}
		return fmt.Errorf("jetstream: %w", err)
	}
	return unavailable(err)
}

func unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %v", events.ErrUnavailable, err)
}
