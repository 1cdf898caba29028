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
}

// Log writes access records to the stream.
type Log struct {
	js      js.JetStream
	stream  string
	timeout time.Duration
}

// Open ensures the stream exists with the required settings: file
// storage, its own retention (MaxAge), message deletes and purges denied.
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
	j, err := js.New(nc)
	if err != nil {
		return nil, err
	}
	if _, err := j.CreateOrUpdateStream(ctx, StreamConfig(cfg)); err != nil {
		return nil, fmt.Errorf("accesslog: stream %s: %w", cfg.Stream, err)
	}
	return &Log{js: j, stream: cfg.Stream, timeout: cfg.Timeout}, nil
}

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

// Write records r and returns once the stream acknowledged it (the
// embedded server syncs every write to disk before acknowledging).
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
	ack, err := l.js.Publish(ctx, subjectPrefix+r.Actor.Role, b, js.WithMsgID(r.ID), js.WithExpectStream(l.stream))
	if err != nil {
		return fmt.Errorf("accesslog: write: %w", err)
	}
	if ack.Stream != l.stream {
		return fmt.Errorf("accesslog: written to stream %s, want %s", ack.Stream, l.stream)
	}
	return nil
}
