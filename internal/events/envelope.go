// Package events defines the facts the system records: the envelope every
// stored event travels in, the registry of event types with their schema
// versions and upcasters, the codec, and the sealing of personal data.
//
// It imports no infrastructure: the event store, the key store and the
// projections depend on it, never the other way round.
package events

import (
	"encoding/json"
	"time"
)

// Role is what an actor is allowed to do in the referral process.
type Role string

// Roles of the people who use the system.
const (
	RoleOriginSchool Role = "origin_school"
	RoleSocialWorker Role = "social_worker"
	RoleCommittee    Role = "committee"
	RoleBureau       Role = "bureau"
	RoleAdmin        Role = "admin"
	RoleSystem       Role = "system"
)

// Valid reports whether r is a role a token can carry.
func (r Role) Valid() bool {
	switch r {
	case RoleOriginSchool, RoleSocialWorker, RoleCommittee, RoleBureau, RoleAdmin:
		return true
	}
	return false
}

// Actor is who caused an event. It never holds personal data of students:
// user ids are opaque token or account ids.
type Actor struct {
	Role   Role   `json:"role"`
	School string `json:"school,omitempty"` // school code, for origin schools
	Branch string `json:"branch,omitempty"` // branch school, for branch staff
	UserID string `json:"user_id,omitempty"`
}

// Envelope is one stored event: metadata around a typed payload.
//
// Version is the aggregate's version after this event (1 for the first
// event of an aggregate). Position is the event's sequence in the global
// stream; it is assigned by the store and not part of the encoded body.
type Envelope struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	SchemaVersion  int             `json:"schema_version"`
	AggregateType  string          `json:"aggregate_type"`
	AggregateID    string          `json:"aggregate_id"`
	Branch         string          `json:"branch"`
	Version        uint64          `json:"version"`
	OccurredAt     time.Time       `json:"occurred_at"`
	RecordedAt     time.Time       `json:"recorded_at"`
	Actor          Actor           `json:"actor"`
	CausationID    string          `json:"causation_id,omitempty"`
	CorrelationID  string          `json:"correlation_id,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	RequestHash    string          `json:"request_hash,omitempty"`
	Data           json.RawMessage `json:"data"`

	Position uint64 `json:"-"`
	// Payload is the decoded, upcast event; set by Codec.Decode.
	Payload Event `json:"-"`
}

// Event is a typed event payload: a small past-tense struct.
type Event interface {
	// EventType is the registered type name, e.g. "ReferralOpened".
	EventType() string
}

// Metadata is what a command contributes to the envelopes of the events it
// records.
type Metadata struct {
	Actor          Actor
	OccurredAt     time.Time
	CausationID    string
	CorrelationID  string
	IdempotencyKey string
	RequestHash    string
}
