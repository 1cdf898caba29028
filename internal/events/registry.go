package events

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Upcaster rewrites the JSON of an event from schema version From to
// From+1, so that old events are read as the current version.
type Upcaster struct {
	From int
	Up   func(old json.RawMessage) (json.RawMessage, error)
}

type registration struct {
	version   int
	typ       reflect.Type
	upcasters map[int]func(json.RawMessage) (json.RawMessage, error)
}

// Registry maps event type names to payload types, their current schema
// version and the upcasters that bring older versions forward.
type Registry struct {
	types map[string]registration
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: make(map[string]registration)}
}

// Register adds an event type at schema version version. Upcasters must
// cover every version from 1 to version-1. It panics on a programming error
// (duplicate type, missing upcaster), since registration happens at start-up.
func (r *Registry) Register(e Event, version int, upcasters ...Upcaster) {
	name := e.EventType()
	if version < 1 {
		panic(fmt.Sprintf("events: %s registered at schema version %d; versions start at 1", name, version))
	}
	if _, dup := r.types[name]; dup {
		panic(fmt.Sprintf("events: %s registered twice", name))
	}
	t := reflect.TypeOf(e)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	reg := registration{version: version, typ: t, upcasters: make(map[int]func(json.RawMessage) (json.RawMessage, error))}
	for _, u := range upcasters {
		reg.upcasters[u.From] = u.Up
	}
	for v := 1; v < version; v++ {
		if reg.upcasters[v] == nil {
			panic(fmt.Sprintf("events: %s v%d has no upcaster to v%d", name, v, v+1))
		}
	}
	r.types[name] = reg
}

// Version returns the current schema version of an event type.
func (r *Registry) Version(eventType string) (int, bool) {
	reg, ok := r.types[eventType]
	return reg.version, ok
}

// Types lists the registered event type names in order.
func (r *Registry) Types() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// decode upcasts data from version v and unmarshals it into a new payload.
func (r *Registry) decode(eventType string, v int, data json.RawMessage) (Event, error) {
	reg, ok := r.types[eventType]
	if !ok {
		return nil, &UnknownTypeError{Type: eventType}
	}
	if v < 1 || v > reg.version {
		return nil, fmt.Errorf("events: %s has schema version %d, this build reads up to %d", eventType, v, reg.version)
	}
	for ; v < reg.version; v++ {
		var err error
		if data, err = reg.upcasters[v](data); err != nil {
			return nil, fmt.Errorf("events: upcasting %s from v%d: %w", eventType, v, err)
		}
	}
	p := reflect.New(reg.typ)
	if err := unmarshal(data, p.Interface()); err != nil {
		return nil, fmt.Errorf("events: decoding %s: %w", eventType, err)
	}
	return p.Elem().Interface().(Event), nil
}

// UnknownTypeError reports an event whose type this build does not know,
// for example one written by a newer version. Readers skip it safely.
type UnknownTypeError struct{ Type string }

func (e *UnknownTypeError) Error() string { return "events: unknown event type " + e.Type }

// renameField returns an upcaster that moves the top-level field from to
// to; an empty to drops it.
func renameField(from, to string) func(json.RawMessage) (json.RawMessage, error) {
	return func(old json.RawMessage) (json.RawMessage, error) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(old, &m); err != nil {
			return nil, err
		}
		if v, ok := m[from]; ok {
			delete(m, from)
			if to != "" {
				m[to] = v
			}
		}
		return json.Marshal(m)
	}
}
