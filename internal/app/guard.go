package app

import (
	"context"
	"math"
	"reflect"
	"strings"
	"unicode/utf8"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// append records appends after the last line of defence: no event whose
// clear fields a store could not hold ever enters the log, whatever path
// built it (issue 7).
func (s *Service) append(ctx context.Context, appends ...events.Append) ([]events.Envelope, error) {
	if err := Storable(appends...); err != nil {
		return nil, err
	}
	return s.Store.Append(ctx, appends...)
}

var sealedType = reflect.TypeFor[events.Sealed]()

// Storable walks every event of the appends, and their metadata, and
// refuses a string that is not valid UTF-8 or holds NUL (PostgreSQL text
// cannot hold it) and an int outside the 32-bit range (an integer column
// cannot). Sealed values are opaque and skipped. The error names the
// event type and field, never the value.
func Storable(appends ...events.Append) error {
	for _, a := range appends {
		m := a.Meta
		for _, f := range [...]struct{ name, v string }{
			{"actor.role", string(m.Actor.Role)}, {"actor.school", m.Actor.School}, {"actor.branch", m.Actor.Branch},
			{"actor.user_id", m.Actor.UserID}, {"causation_id", m.CausationID}, {"correlation_id", m.CorrelationID},
			{"idempotency_key", m.IdempotencyKey}, {"request_hash", m.RequestHash},
		} {
			if !storableString(f.v) {
				return unstorable("metadata", f.name)
			}
		}
		for _, e := range a.Events {
			if e == nil {
				return unstorable("event", "payload")
			}
			if path, ok := walk(reflect.ValueOf(e)); !ok {
				return unstorable(e.EventType(), path)
			}
		}
	}
	return nil
}

func unstorable(event, path string) error {
	return &domain.Error{Code: domain.EInvalid, Message: "the command would record a value the stores cannot hold",
		Fields: map[string]string{event + "." + strings.TrimPrefix(path, "."): "not storable: invalid UTF-8, NUL or an out-of-range number"}}
}

func storableString(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// walk returns the path of the first value that cannot be stored,
// relative to v. The path is built only on the way back from a failure:
// a command's events are walked on every append (issue 13).
func walk(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return "", storableString(v.String())
	case reflect.Int, reflect.Int64:
		n := v.Int()
		return "", n >= math.MinInt32 && n <= math.MaxInt32
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", true
		}
		return walk(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", true // bytes are encoded as base64
		}
		for i := range v.Len() {
			if p, ok := walk(v.Index(i)); !ok {
				return "[]" + p, false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if p, ok := walk(it.Key()); !ok {
				return "{}" + p, false
			}
			if p, ok := walk(it.Value()); !ok {
				return "{}" + p, false
			}
		}
	case reflect.Struct:
		if v.Type() == sealedType {
			return "", true
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if p, ok := walk(v.Field(i)); !ok {
				return "." + f.Name + p, false
			}
		}
	}
	return "", true
}
