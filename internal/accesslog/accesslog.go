// Package accesslog records who read a student's personal data: one record
// per response, written to an append-only JetStream stream of its own
// (CIHUI_ACCESS) and acknowledged before the data is sent. Records hold
// ids only: a token id, a role, school and branch codes, case ids, a route
// template and a request id; never personal data.
package accesslog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the access-log stream.
const (
	DefaultStream = "CIHUI_ACCESS"
	// DefaultMaxAge keeps records for ten years.
	DefaultMaxAge = 10 * 365 * 24 * time.Hour
	subjectPrefix = "cihui_access."
)

// Actor is who read: the person (by id, never by name) and the role and
// scope they acted in. TokenID is the token of records written before
// people (issue 14); later records name the person.
type Actor struct {
	Role    string `json:"role"`
	School  string `json:"school,omitempty"`
	Branch  string `json:"branch,omitempty"`
	TokenID string `json:"token_id,omitempty"`
	Person  string `json:"person,omitempty"`
}

// Record is one read of personal data.
type Record struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id,omitempty"`
	Method    string    `json:"method"`
	Route     string    `json:"route"` // the route template, never the raw path
	Actor     Actor     `json:"actor"`
	Cases     []string  `json:"cases"`
}

// Validate checks that every field is an id, a code or a template of the
// expected shape, so that no free text (and so no personal data) enters
// the log.
func (r Record) Validate() error {
	check := func(name, v string, max int, allowEmpty bool) error {
		if v == "" && allowEmpty {
			return nil
		}
		if !idLike(v, max) {
			return fmt.Errorf("accesslog: %s is not an id", name)
		}
		return nil
	}
	if err := errors.Join(
		check("id", r.ID, 64, false),
		check("request_id", r.RequestID, 64, true),
		check("method", r.Method, 10, false),
		check("role", r.Actor.Role, 32, false),
		check("school", r.Actor.School, 32, true),
		check("branch", r.Actor.Branch, 32, true),
		check("token_id", r.Actor.TokenID, 64, true),
		check("person", r.Actor.Person, 64, true),
	); err != nil {
		return err
	}
	if !routeLike(r.Route) {
		return errors.New("accesslog: route is not a route template")
	}
	if len(r.Cases) == 0 {
		return errors.New("accesslog: a record names at least one case")
	}
	for _, c := range r.Cases {
		if !idLike(c, 64) {
			return errors.New("accesslog: a case id is not an id")
		}
	}
	return nil
}

// idLike: 1..max characters of [A-Za-z0-9_.-].
func idLike(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// routeLike: an echo route template such as /v1/referrals/:id/export.
func routeLike(s string) bool {
	if s == "" || len(s) > 200 || s[0] != '/' {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == ':' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// SafeRequestID returns id if it is id-like, else "" (a client may send
// its own X-Request-ID; anything else than an id is not recorded).
func SafeRequestID(id string) string {
	if idLike(id, 64) {
		return id
	}
	return ""
}

// NewID returns a random record id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "acc_" + hex.EncodeToString(b[:])
}

// Config configures the access-log stream.
type Config struct {
	Stream   string        // default CIHUI_ACCESS
	Replicas int           // default 1
	MaxAge   time.Duration // how long records are kept; default ten years
	// Timeout bounds one write (default 2 s); a read that cannot be
	// recorded within it fails.
	Timeout time.Duration
	// MaxBatch is the most records one stream message carries (default
	// 256; 1 writes each record in a message of its own).
	MaxBatch int
	// Linger is how long a batch waits for more records after the first
	// (default 0: a batch takes what arrived while the previous write was
	// being synced, which is group commit without added latency).
	Linger time.Duration
}

// Log writes access records to the stream. Writes of concurrent reads are
// committed as a group: one writer goroutine publishes every record that
// is waiting as one stream message (a Batch, one synced write), and
// answers each Write only once that message is acknowledged.
type Log struct {
	js       js.JetStream
	stream   string
	timeout  time.Duration
	maxBatch int
	linger   time.Duration
	queue    chan pending

	// What a read waits for its record, one synced publish of a batch,
	// and the records in each batch.
	waits, publishes, sizes prometheus.Histogram
}

// Collectors returns the log's metrics, for the API's registry.
func (l *Log) Collectors() []prometheus.Collector {
	return []prometheus.Collector{l.waits, l.publishes, l.sizes}
}

// pending is one record waiting for its batch to be acknowledged.
type pending struct {
	data []byte // the record's JSON
	done chan error
}

// Batch is the body of a stream message carrying several records (subject
// cihui_access.batch). Older messages carry one Record each.
type Batch struct {
	Records []json.RawMessage `json:"records"`
}

// BatchSubject is the subject of batched records.
const BatchSubject = subjectPrefix + "batch"

// Open ensures the stream exists with the required settings: file
// storage, its own retention (MaxAge), message deletes and purges denied.
// Its writer goroutine runs until ctx is done.
func Open(ctx context.Context, nc *nats.Conn, cfg Config) (*Log, error) {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	j, err := js.New(nc)
	if err != nil {
		return nil, err
	}
	if _, err := j.CreateOrUpdateStream(ctx, StreamConfig(cfg)); err != nil {
		return nil, fmt.Errorf("accesslog: stream %s: %w", cfg.Stream, err)
	}
	l := &Log{js: j, stream: cfg.Stream, timeout: cfg.Timeout, maxBatch: cfg.MaxBatch, linger: cfg.Linger,
		queue: make(chan pending, 4*cfg.MaxBatch),
		waits: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_access_record_wait_seconds",
			Help: "Time a read waits for its access record to be durable.", Buckets: latencyBuckets}),
		publishes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_access_publish_seconds",
			Help: "Time of one synced publish of a batch of access records.", Buckets: latencyBuckets}),
		sizes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cihui_access_batch_records",
			Help: "Access records in each published batch.", Buckets: prometheus.ExponentialBuckets(1, 2, 9)}),
	}
	go l.writer(context.WithoutCancel(ctx), nc)
	return l, nil
}

// latencyBuckets: 0.25 ms to 1 s, the range of a synced write.
var latencyBuckets = prometheus.ExponentialBuckets(0.00025, 2, 13)

// StreamConfig is the stream's configuration for cfg (defaults applied by
// Open).
func StreamConfig(cfg Config) js.StreamConfig {
	return js.StreamConfig{
		Name:        cfg.Stream,
		Description: "Cihui access log: who read a student's personal data (ids only)",
		Subjects:    []string{subjectPrefix + ">"},
		Storage:     js.FileStorage,
		Retention:   js.LimitsPolicy,
		MaxAge:      cfg.MaxAge,
		Discard:     js.DiscardOld,
		Replicas:    cfg.Replicas,
		Duplicates:  2 * time.Minute,
		DenyDelete:  true,
		DenyPurge:   true,
	}
}

// JetStream returns the JetStream handle (for the projector).
func (l *Log) JetStream() js.JetStream { return l.js }

// StreamName returns the stream's name.
func (l *Log) StreamName() string { return l.stream }

// Write records r and returns once the stream acknowledged the message
// that carries it (the embedded server syncs every write to disk before
// acknowledging). An error means the record may not be durable: the read
// must not be answered.
func (l *Log) Write(ctx context.Context, r Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	t0 := time.Now()
	defer func() { l.waits.Observe(time.Since(t0).Seconds()) }()
	p := pending{data: b, done: make(chan error, 1)}
	select {
	case l.queue <- p:
	case <-ctx.Done():
		return fmt.Errorf("accesslog: write: %w", ctx.Err())
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("accesslog: write: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("accesslog: write: %w", ctx.Err())
	}
}

// writer publishes the waiting records, a batch at a time, until the
// connection closes.
func (l *Log) writer(ctx context.Context, nc *nats.Conn) {
	batch := make([]pending, 0, l.maxBatch)
	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)
	if nc.IsClosed() {
		return
	}
	for {
		batch = batch[:0]
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		case <-closed:
			l.fail(errors.New("connection closed"))
			return
		}
		batch = l.fill(batch)
		t0 := time.Now()
		err := l.publish(ctx, batch)
		l.publishes.Observe(time.Since(t0).Seconds())
		l.sizes.Observe(float64(len(batch)))
		for _, p := range batch {
			p.done <- err
		}
	}
}

// fail answers every waiting record with err (after the connection closed).
func (l *Log) fail(err error) {
	for {
		select {
		case p := <-l.queue:
			p.done <- err
		default:
			return
		}
	}
}

// fill adds the records already waiting, and those arriving within the
// linger, up to the batch size.
func (l *Log) fill(batch []pending) []pending {
	var deadline <-chan time.Time
	if l.linger > 0 {
		t := time.NewTimer(l.linger)
		defer t.Stop()
		deadline = t.C
	}
	for len(batch) < l.maxBatch {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
			continue
		default:
		}
		if deadline == nil {
			return batch
		}
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		case <-deadline:
			return batch
		}
	}
	return batch
}

// batchBody is the JSON of a Batch of the records, written by hand: each
// record is json.Marshal's output already, which encoding/json would only
// validate and compact again (TestBatchBodyIsTheBatchJSON).
func batchBody(batch []pending) []byte {
	n := len(`{"records":[]}`) + len(batch)
	for _, p := range batch {
		n += len(p.data)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"records":[`...)
	for i, p := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.data...)
	}
	return append(b, "]}"...)
}

// publish writes the batch as one message and waits for its
// acknowledgement: one synced write for every record in it.
func (l *Log) publish(ctx context.Context, batch []pending) error {
	b := batchBody(batch)
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	// No Nats-Msg-Id: a batch is published once and never retried (a
	// failed write fails its reads), so the server's duplicate window
	// would only hold an id per batch for two minutes.
	ack, err := l.js.Publish(ctx, BatchSubject, b, js.WithExpectStream(l.stream))
	if err != nil {
		return err
	}
	if ack.Stream != l.stream {
		return fmt.Errorf("written to stream %s, want %s", ack.Stream, l.stream)
	}
	return nil
}

// Decode returns the records of a stream message: a Batch (subject
// cihui_access.batch) or a single Record (older messages, other subjects).
// Each record is validated; a record that is not is returned as an error
// in errs at its index, and the others still count.
func Decode(subject string, data []byte) (records []Record, errs []error, err error) {
	if subject != BatchSubject {
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, nil, err
		}
		return []Record{r}, []error{r.Validate()}, nil
	}
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, nil, err
	}
	records, errs = make([]Record, len(b.Records)), make([]error, len(b.Records))
	for i, raw := range b.Records {
		if errs[i] = json.Unmarshal(raw, &records[i]); errs[i] == nil {
			errs[i] = records[i].Validate()
		}
	}
	return records, errs, nil
}
