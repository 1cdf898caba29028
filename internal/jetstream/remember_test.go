package jetstream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"cihui/internal/events"
	"cihui/internal/jetstream"
)

// TestRememberedEqualsLoaded: the envelopes this process's appends put in
// the cache (built from the typed events, not decoded again, issue 13)
// equal what a load decodes from the server, field for field: events of
// every registered type with random payloads, single appends and atomic
// batches over two streams, with full metadata.
func TestRememberedEqualsLoaded(t *testing.T) {
	a, _ := newStore(t, jetstream.Config{})
	ctx := context.Background()
	reg := events.DefaultRegistry()
	codec := events.NewCodec(reg)
	cold, err := jetstream.Open(ctx, a.JetStream().Conn(), codec, jetstream.Config{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	var types []reflect.Type
	for _, name := range reg.Types() {
		v, _ := reg.Version(name)
		env, err := codec.Decode(fmt.Appendf(nil, `{"type":%q,"schema_version":%d,"data":{}}`, name, v))
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, reflect.TypeOf(env.Payload))
	}
	rng := rand.New(rand.NewPCG(1, 13))
	ids := []events.StreamID{
		{Branch: "x", Type: events.AggregateReferral, ID: "c1"},
		{Branch: "x", Type: events.AggregatePerson, ID: "p1"},
	}
	loaded := make([]events.Loaded, len(ids))
	for step := range 3 * len(types) {
		meta := events.Metadata{
			Actor:         events.Actor{Role: "origin_school", School: "034501", UserID: "u1"},
			OccurredAt:    time.Date(2026, 12, 7, 9, 0, 0, rng.IntN(1e9), time.FixedZone("Taipei", 8*3600)),
			CorrelationID: fmt.Sprint("corr-", step),
		}
		if step%2 == 0 {
			meta.IdempotencyKey, meta.RequestHash, meta.CausationID = fmt.Sprint("key-", step), "hash", "cause"
		}
		var appends []events.Append
		for i, id := range ids {
			if i > 0 && step%3 != 0 {
				break // an atomic batch over both streams every third step
			}
			var evs []events.Event
			for range 1 + rng.IntN(2) {
				p := reflect.New(types[rng.IntN(len(types))]).Elem()
				fillPayload(p, rng)
				evs = append(evs, p.Interface().(events.Event))
			}
			appends = append(appends, events.Append{Stream: id, ExpectedSeq: loaded[i].LastSeq,
				ExpectedVersion: loaded[i].Version, Events: evs, Meta: meta})
		}
		if _, err := a.Append(ctx, appends...); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for i, id := range ids {
			got, checked, err := a.LoadCached(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := cold.Load(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if checked {
				t.Fatalf("step %d: the cache did not keep stream %d", step, i)
			}
			if !reflect.DeepEqual(got, want) {
				for j := range want.Events {
					if j < len(got.Events) && !reflect.DeepEqual(got.Events[j], want.Events[j]) {
						t.Fatalf("step %d, stream %d, event %d (%s): cached %+v\nloaded %+v", step, i, j, want.Events[j].Type, got.Events[j], want.Events[j])
					}
				}
				t.Fatalf("step %d, stream %d: cached %d/%d, loaded %d/%d", step, i, got.Version, got.LastSeq, want.Version, want.LastSeq)
			}
			loaded[i] = got
		}
	}
}

// fillPayload sets every field of a payload to a random value: numbers
// 0–3, short strings, pointers set or nil, slices nil or of one or two
// elements, maps of up to two.
func fillPayload(v reflect.Value, rng *rand.Rand) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.IntN(4)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(rng.IntN(4)))
	case reflect.String:
		v.SetString([]string{"", "a", "班", "home"}[rng.IntN(4)])
	case reflect.Pointer:
		v.SetZero()
		if rng.IntN(2) == 0 {
			p := reflect.New(v.Type().Elem())
			fillPayload(p.Elem(), rng)
			v.Set(p)
		}
	case reflect.Slice:
		v.SetZero()
		if n := rng.IntN(3); n > 0 {
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fillPayload(s.Index(i), rng)
			}
			v.Set(s)
		}
	case reflect.Map:
		v.SetZero()
		if rng.IntN(3) > 0 {
			m := reflect.MakeMap(v.Type())
			for range 1 + rng.IntN(2) {
				k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fillPayload(k, rng)
				fillPayload(e, rng)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillPayload(v.Index(i), rng)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[events.Sealed]() {
			// As a sealer makes them: nothing, or a key, nonce and text.
			v.SetZero()
			if rng.IntN(2) == 0 {
				v.Set(reflect.ValueOf(events.Sealed{KeyID: "k1", Nonce: []byte{1, 2}, Ciphertext: []byte{3, byte(rng.IntN(256))}}))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillPayload(v.Field(i), rng)
			}
		}
	default:
		panic("fillPayload: no filler for " + v.Type().String())
	}
}

// A single event with an idempotency key carries its derived id as
// Nats-Msg-Id; one without a key carries none: its random id would never
// come again, and the server would keep it for its whole duplicate
// window, in the stream's serial write path (issue 13). (A retry of the
// same append meets the expected-sequence check first, and conflicts;
// the app recognises it in the stream: app.replay.)
func TestMsgIDOnlyWithIdempotencyKey(t *testing.T) {
	s, _ := newStore(t, jetstream.Config{})
	ctx := context.Background()
	keyed := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "k1"}
	plain := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "p1"}
	a := events.Append{Stream: keyed, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}},
		Meta: events.Metadata{IdempotencyKey: "key-1", RequestHash: "h"}}
	first, err := s.Append(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, events.Append{Stream: plain, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	st, err := s.JetStream().Stream(ctx, s.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[events.StreamID]string{keyed: first[0].ID, plain: ""} {
		m, err := st.GetLastMsgForSubject(ctx, id.Subject())
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Header.Get("Nats-Msg-Id"); got != want {
			t.Errorf("%s: Nats-Msg-Id %q, want %q", id.ID, got, want)
		}
	}
}
