package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Aggregate types: the kinds of event streams the system keeps.
const (
	AggregateReferral  = "referral"
	AggregateMeeting   = "meeting"
	AggregateRoster    = "roster"
	AggregateCalendar  = "calendar"
	AggregateCommittee = "committee"
	// AggregatePerson is a student's referrals at a branch, keyed by the
	// person key (events.PersonReferred).
	AggregatePerson = "person"
)

// StreamID names the event stream of one aggregate. Every aggregate belongs
// to a branch school.
type StreamID struct {
	Branch string
	Type   string
	ID     string // empty for singletons such as a branch's roster
}

// Subject returns the JetStream subject of the stream:
// cihui.<branch>.<type>[.<id>].
func (s StreamID) Subject() string {
	if s.ID == "" {
		return "cihui." + s.Branch + "." + s.Type
	}
	return "cihui." + s.Branch + "." + s.Type + "." + s.ID
}

// Validate checks that every part is a safe subject token.
func (s StreamID) Validate() error {
	for _, tok := range []string{s.Branch, s.Type} {
		if !validToken(tok) {
			return fmt.Errorf("events: invalid stream token %q", tok)
		}
	}
	if s.ID != "" && !validToken(s.ID) {
		return fmt.Errorf("events: invalid stream id")
	}
	return nil
}

func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	})
}

// Append is a request to record events on one aggregate's stream.
type Append struct {
	Stream StreamID
	// ExpectedSeq is the global position of the last event on the stream
	// when the caller loaded it; 0 means the stream must be empty.
	ExpectedSeq uint64
	// ExpectedVersion is the aggregate's version when loaded; recorded
	// events get versions ExpectedVersion+1, +2, ….
	ExpectedVersion uint64
	Events          []Event
	Meta            Metadata
}

// Loaded is an aggregate's stream as read from the store.
type Loaded struct {
	Events  []Envelope
	Version uint64 // number of events
	LastSeq uint64 // global position of the last event; 0 if none
}

// Store is an append-only event store with optimistic concurrency.
type Store interface {
	// Load reads every event of one stream in order.
	Load(ctx context.Context, id StreamID) (Loaded, error)
	// Append records the events of one or more appends atomically: all of
	// them or none. If any stream moved past its ExpectedSeq, nothing is
	// recorded and the error matches ErrConflict.
	Append(ctx context.Context, appends ...Append) ([]Envelope, error)
	// LastPosition is the position of the newest event in the store.
	LastPosition(ctx context.Context) (uint64, error)
}

// ErrConflict means another writer appended to a stream first.
var ErrConflict = errors.New("events: concurrent change to the stream")

// ErrUnavailable means the store cannot be reached.
var ErrUnavailable = errors.New("events: event store unavailable")
