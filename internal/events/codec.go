package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	sjson "github.com/segmentio/encoding/json"
)

// Codec turns envelopes into stored bytes and back, upcasting old schema
// versions on the way in.
type Codec struct {
	reg *Registry
}

// NewCodec returns a codec over reg.
func NewCodec(reg *Registry) *Codec { return &Codec{reg: reg} }

// Registry returns the codec's registry.
func (c *Codec) Registry() *Registry { return c.reg }

// Encode marshals env with payload e, setting Type, SchemaVersion and Data.
func (c *Codec) Encode(env *Envelope, e Event) ([]byte, error) {
	v, ok := c.reg.Version(e.EventType())
	if !ok {
		return nil, &UnknownTypeError{Type: e.EventType()}
	}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("events: encoding %s: %w", e.EventType(), err)
	}
	env.Type = e.EventType()
	env.SchemaVersion = v
	env.Data = data
	env.Payload = e
	return json.Marshal(env)
}

// Decode unmarshals a stored envelope and its payload. An event of a type
// this build does not know is returned with a nil Payload and an error that
// matches *UnknownTypeError, so that callers can skip it.
func (c *Codec) Decode(b []byte) (Envelope, error) {
	var env Envelope
	if err := unmarshal(b, &env); err != nil {
		return env, fmt.Errorf("events: decoding envelope: %w", err)
	}
	p, err := c.reg.decode(env.Type, env.SchemaVersion, env.Data)
	if err != nil {
		return env, err
	}
	env.Payload = p
	return env, nil
}

// IsUnknownType reports whether err is an unknown event type.
func IsUnknownType(err error) bool {
	var u *UnknownTypeError
	return errors.As(err, &u)
}

// unmarshal decodes a stored envelope and its payload with
// github.com/segmentio/encoding/json, a drop-in for encoding/json's
// Unmarshal (same struct tags, Unmarshaler methods, case-insensitive
// names) that scans the input once, where encoding/json validates it whole
// before decoding it: decoding is a rebuild's largest cost of CPU (issue
// 13), and this takes a fifth of the time on the system's events. Where it
// refuses an input (it is stricter than encoding/json on a few odd forms,
// such as a one-digit hour in a time) encoding/json decodes it afresh, so
// the codec accepts what it always did; FuzzDecodeMatchesStandardLibrary
// holds the two to the same results. Encoding stays with encoding/json, so
// stored bytes do not change.
func unmarshal(b []byte, v any) error {
	if err := sjson.Unmarshal(b, v); err == nil {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	return json.Unmarshal(b, v)
}
