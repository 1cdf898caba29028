package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"cihui/internal/events"
)

// decodeSeeds are stored envelopes as the event store holds them, plus
// near misses, for the fuzz targets of the codec.
var decodeSeeds = []string{
	`{"id":"e1","type":"ReferralOpened","schema_version":1,"aggregate_type":"referral","aggregate_id":"r1","branch":"b1","version":1,"occurred_at":"2026-03-02T08:00:00+08:00","recorded_at":"2026-03-02T00:00:00.123456789Z","actor":{"role":"origin_school","school":"034501","user_id":"t1"},"correlation_id":"c1","idempotency_key":"k1","request_hash":"h","data":{"referral_id":"r1","origin_school":"034501","academic_year":115,"route":"mid_year","channel":"direct","received_on":"2026-03-02","grade":8,"sex":"M","grounds":["family_dysfunction"],"person_key":"p_00","personal":{"kid":"p_00","nonce":"AAAA","ct":"AQID"}}}`,
	`{"id":"e2","type":"DocumentSubmitted","schema_version":1,"aggregate_type":"referral","aggregate_id":"r1","branch":"b1","version":2,"occurred_at":"2026-03-03T00:00:00Z","recorded_at":"2026-03-03T00:00:00Z","actor":{"role":"origin_school"},"data":{"item":3,"pages":2,"issued_on":"2026-02-27"}}`,
	`{"id":"e3","type":"DocumentChecked","schema_version":1,"version":3,"actor":{"role":"social_worker","branch":"b1"},"data":{"item":3,"conforms":false,"note":{"kid":"p_00","nonce":null,"ct":""}}}`,
	`{"id":"e4","type":"CalendarYearImported","schema_version":1,"data":{"year":2026,"weekdays_off":["2026-01-01","2026-02-16"],"weekends_work":[],"sha256":"00"}}`,
	`{"id":"e5","type":"WaitlistJoined","schema_version":1,"data":{"case_id":"r9","application_position":18446744073709551615}}`,
	`{"id":"e6","type":"Admitted","schema_version":1,"data":{"meeting_id":"m1","report_by":null,"letter":{"to_school":"034501","student_alias":"甲","subject":"s","outcome":"admit","next_step":"n"}}}`,
	`{"id":"e7","type":"HealthCheckRecorded","schema_version":1,"data":{"examined_on":"9999-12-31","infectious":true,"cleared_on":"0001-01-01"}}`,
	`{"id":"e8","type":"FromTheFuture","schema_version":1,"data":{}}`,
	`{"id":"e9","type":"OfficeClosed","schema_version":2,"data":{"date":"2026-09-01","reason":"typhoon"}}`,
	`{"id":"e10","type":"OfficeClosed","schema_version":0,"data":{}}`,
	`{"type":"OfficeClosed","schema_version":1,"data":null}`,
	`{"type":"OfficeClosed","schema_version":1}`,
	`{"type":"OfficeClosed","schema_version":1,"data":{"date":"2026-02-30"}}`,
	`{"type":"DocumentSubmitted","schema_version":1,"data":{"item":1e400}}`,
	`{"type":"ApplicationReturned","schema_version":1,"data":{"missing":[1,2,3],"note":{"kid":"k","nonce":"\u0000","ct":"!!"}}}`,
	`{"type":"PersonErased","schema_version":1,"data":{"person_key":"p\u0000\ud800","reason":"\xff"}}`,
	`{"type":"SeatTaken","schema_version":1,"version":-1,"data":{}}`,
	`{"type":"SeatTaken","schema_version":1,"occurred_at":"10000-01-01T00:00:00Z","data":{}}`,
	`[]`,
	`null`,
	``,
	`{"type":"SeatTaken","schema_version":1,"data":{}}{}`,
}

// FuzzDecodeEnvelope: decoding arbitrary bytes with the system's registry
// never panics; what decodes has a registered type at a version this build
// reads and a payload of that type; an unknown type is reported as such
// with no payload; and a decoded envelope re-encodes to bytes that decode
// to the same envelope and payload, which re-encode to the same bytes.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	codec := events.NewCodec(events.DefaultRegistry())
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := codec.Decode(b)
		if err != nil {
			if env.Payload != nil {
				t.Fatalf("failed decode (%v) left a payload", err)
			}
			if events.IsUnknownType(err) {
				if _, known := codec.Registry().Version(env.Type); known {
					t.Fatalf("type %q is registered but reported unknown", env.Type)
				}
			}
			return
		}
		checkDecoded(t, codec, env)
		roundTrip(t, codec, env)
	})
}

// checkDecoded asserts what every successfully decoded envelope satisfies.
func checkDecoded(t *testing.T, codec *events.Codec, env events.Envelope) {
	t.Helper()
	v, ok := codec.Registry().Version(env.Type)
	if !ok {
		t.Fatalf("decoded an unregistered type %q", env.Type)
	}
	if env.SchemaVersion < 1 || env.SchemaVersion > v {
		t.Fatalf("decoded %s at schema version %d, this build reads 1-%d", env.Type, env.SchemaVersion, v)
	}
	if env.Payload == nil || env.Payload.EventType() != env.Type {
		t.Fatalf("decoded %s with payload %T", env.Type, env.Payload)
	}
}

// roundTrip asserts that env (decoded) re-encodes and decodes to itself.
func roundTrip(t *testing.T, codec *events.Codec, env events.Envelope) {
	t.Helper()
	again := env
	b2, err := codec.Encode(&again, env.Payload)
	if err != nil {
		t.Fatalf("a decoded %s does not re-encode: %v", env.Type, err)
	}
	env2, err := codec.Decode(b2)
	if err != nil {
		t.Fatalf("a re-encoded %s does not decode: %v\n%s", env.Type, err, b2)
	}
	checkDecoded(t, codec, env2)
	// The first decode may hold a value in a form the encoding does not
	// distinguish (an empty sealed note with a nil or an empty ciphertext
	// is zero either way), so it is compared as encoded; from then on the
	// values are identical.
	if p1, p2 := mustMarshal(t, env.Payload), mustMarshal(t, env2.Payload); !bytes.Equal(p1, p2) {
		t.Fatalf("payload changed over a round trip:\n%s\n%s", p1, p2)
	}
	if err := sameMetadata(env, env2); err != nil {
		t.Fatalf("%s: %v", env.Type, err)
	}
	if v, _ := codec.Registry().Version(env.Type); env2.SchemaVersion != v {
		t.Fatalf("re-encoded at schema version %d, want the current %d", env2.SchemaVersion, v)
	}
	b3, err := codec.Encode(&env2, env2.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b2, b3) {
		t.Fatalf("encoding is not a fixed point:\n%s\n%s", b2, b3)
	}
	env3, err := codec.Decode(b3)
	if err != nil || !reflect.DeepEqual(env2.Payload, env3.Payload) {
		t.Fatalf("a re-encoded payload does not decode to itself (%v):\n%#v\n%#v", err, env2.Payload, env3.Payload)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameMetadata compares everything but the payload and its encoding.
func sameMetadata(a, b events.Envelope) error {
	switch {
	case a.ID != b.ID, a.Type != b.Type, a.AggregateType != b.AggregateType,
		a.AggregateID != b.AggregateID, a.Branch != b.Branch, a.Version != b.Version,
		a.Actor != b.Actor, a.CausationID != b.CausationID, a.CorrelationID != b.CorrelationID,
		a.IdempotencyKey != b.IdempotencyKey, a.RequestHash != b.RequestHash:
		return fmt.Errorf("metadata changed over a round trip:\n%+v\n%+v", a, b)
	}
	for _, p := range [][2]time.Time{{a.OccurredAt, b.OccurredAt}, {a.RecordedAt, b.RecordedAt}} {
		if x, y := p[0].Format(time.RFC3339Nano), p[1].Format(time.RFC3339Nano); x != y {
			return fmt.Errorf("time changed over a round trip: %s, %s", x, y)
		}
	}
	return nil
}

// noteV4 is an event at schema version 4 whose stored history went
// through three shapes; the upcasters record the order they ran in.
type noteV4 struct {
	Text  string   `json:"text"`
	Tags  []string `json:"tags"`
	Trail []int    `json:"trail"` // the versions upcast from, in order
}

func (noteV4) EventType() string { return "NoteAdded" }

const noteVersion = 4

// upcastStep returns the upcaster from version from: it requires a JSON
// object and appends from to its "trail".
func upcastStep(from int, calls *int) events.Upcaster {
	return events.Upcaster{From: from, Up: func(old json.RawMessage) (json.RawMessage, error) {
		*calls++
		var m map[string]any
		if err := json.Unmarshal(old, &m); err != nil {
			return nil, err
		}
		if m == nil {
			return nil, errors.New("not an object")
		}
		trail, _ := m["trail"].([]any)
		m["trail"] = append(trail, from)
		return json.Marshal(m)
	}}
}

// FuzzUpcast: decoding an event stored at any schema version runs exactly
// the upcasters from that version to the current one, in ascending order,
// once each, and terminates; a version outside 1 to the current one is an
// error that runs no upcaster; the result re-encodes at the current
// version. Registering a type whose upcasters leave a gap panics.
func FuzzUpcast(f *testing.F) {
	f.Add(1, []byte(`{"text":"hello"}`), uint8(0b111))
	f.Add(2, []byte(`{"text":"x","trail":[1]}`), uint8(0b110))
	f.Add(3, []byte(`{"text":"x","tags":["a"]}`), uint8(0b100))
	f.Add(4, []byte(`{"text":"current","trail":[]}`), uint8(0))
	f.Add(0, []byte(`{}`), uint8(0b111))
	f.Add(5, []byte(`{}`), uint8(0b111))
	f.Add(-1, []byte(`{}`), uint8(0b011))
	f.Add(1, []byte(`null`), uint8(0b111))
	f.Add(2, []byte(`{"trail":"not a list"}`), uint8(0b101))
	f.Add(1, []byte(`[1,2]`), uint8(0b111))
	f.Fuzz(func(t *testing.T, from int, data []byte, have uint8) {
		// Registration: upcasters from the versions whose bit is set.
		calls := 0
		var ups []events.Upcaster
		complete := true
		for v := 1; v < noteVersion; v++ {
			if have&(1<<(v-1)) != 0 {
				ups = append(ups, upcastStep(v, &calls))
			} else {
				complete = false
			}
		}
		reg := events.NewRegistry()
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			reg.Register(noteV4{}, noteVersion, ups...)
			return false
		}()
		if panicked == complete {
			t.Fatalf("upcasters %03b: Register panicked = %v", have&0b111, panicked)
		}
		if !complete {
			return
		}

		codec := events.NewCodec(reg)
		stored, err := json.Marshal(map[string]any{"id": "e1", "type": "NoteAdded", "schema_version": from, "data": json.RawMessage("null")})
		if err != nil {
			t.Fatal(err)
		}
		if json.Valid(data) {
			stored = bytes.Replace(stored, []byte(`"data":null`), append([]byte(`"data":`), data...), 1)
		}
		env, err := codec.Decode(stored)
		if from < 1 || from > noteVersion {
			if err == nil || calls != 0 {
				t.Fatalf("schema version %d: error %v after %d upcasts, want an error and none", from, err, calls)
			}
			return
		}
		if calls > noteVersion-from {
			t.Fatalf("from v%d: %d upcasts, at most %d", from, calls, noteVersion-from)
		}
		if err != nil {
			return // an upcaster or the payload refused the stored data
		}
		if calls != noteVersion-from {
			t.Fatalf("from v%d: %d upcasts, want %d", from, calls, noteVersion-from)
		}
		got := env.Payload.(noteV4)
		n := len(got.Trail)
		if n < calls {
			t.Fatalf("trail %v records fewer than the %d upcasts", got.Trail, calls)
		}
		for i, v := range got.Trail[n-calls:] {
			if v != from+i {
				t.Fatalf("from v%d: upcasters ran in the order %v", from, got.Trail[n-calls:])
			}
		}
		roundTrip(t, codec, env)
	})
}

// A type registered at version 0 could never be decoded (every stored
// version is out of range), so registration refuses it.
func TestRegisterVersionZeroPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering at schema version 0 must panic")
		}
	}()
	events.NewRegistry().Register(noteV4{}, 0)
}
