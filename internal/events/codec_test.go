package events_test

import (
	"encoding/json"
	"testing"

	"cihui/internal/events"
)

type noteV2 struct {
	Text     string `json:"text"`
	Priority int    `json:"priority"`
}

func (noteV2) EventType() string { return "NoteAdded" }

// An event stored at schema version 1 is read as version 2 through its
// upcaster; unknown types are reported as such, so readers can skip them.
func TestUpcastOldVersionAndUnknownType(t *testing.T) {
	reg := events.NewRegistry()
	reg.Register(noteV2{}, 2, events.Upcaster{From: 1, Up: func(old json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(old, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(noteV2{Text: v1.Body, Priority: 1})
	}})
	codec := events.NewCodec(reg)
	stored := []byte(`{"id":"e1","type":"NoteAdded","schema_version":1,"aggregate_type":"referral","aggregate_id":"r1","branch":"b","version":1,"data":{"body":"hello"}}`)
	env, err := codec.Decode(stored)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Payload.(noteV2); got.Text != "hello" || got.Priority != 1 {
		t.Fatalf("upcast payload %+v", got)
	}
	// A round trip writes the current version.
	b, err := codec.Encode(&events.Envelope{ID: "e2"}, noteV2{Text: "x", Priority: 3})
	if err != nil {
		t.Fatal(err)
	}
	env, err = codec.Decode(b)
	if err != nil || env.SchemaVersion != 2 || env.Payload.(noteV2).Priority != 3 {
		t.Fatalf("round trip: %+v %v", env, err)
	}
	_, err = codec.Decode([]byte(`{"type":"FromTheFuture","schema_version":1,"data":{}}`))
	if !events.IsUnknownType(err) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := codec.Decode([]byte(`{"type":"NoteAdded","schema_version":3,"data":{}}`)); err == nil {
		t.Fatal("a newer schema version than this build reads must be an error")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering v2 without an upcaster from v1 must panic")
		}
	}()
	events.NewRegistry().Register(noteV2{}, 2)
}

// Issue 8, finding 5: events of schema v1 held the withdrawal and
// enrolment override reasons in the clear. Old logs still hold them; read
// back, they land in legacy fields that nothing shows (or are dropped from
// the roster, which keeps no copy), and the current fields are sealed.
func TestV1PlaintextReasonsUpcast(t *testing.T) {
	codec := events.NewCodec(events.DefaultRegistry())
	decode := func(typ, data string) events.Event {
		t.Helper()
		env, err := codec.Decode([]byte(`{"id":"e1","type":"` + typ + `","schema_version":1,"aggregate_type":"referral","aggregate_id":"r1","branch":"b","version":1,"data":` + data + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return env.Payload
	}
	if p := decode("PlaceReleased", `{"reason":"old text"}`).(events.PlaceReleased); p.LegacyReason != "old text" || !p.Reason.IsZero() {
		t.Fatalf("PlaceReleased v1: %+v", p)
	}
	if p := decode("Enrolled", `{"on":"2026-03-01","grade":8,"class":"8-1","override_reason":"old"}`).(events.Enrolled); p.LegacyOverrideReason != "old" || !p.OverrideReason.IsZero() || p.Class != "8-1" {
		t.Fatalf("Enrolled v1: %+v", p)
	}
	if p := decode("SeatReleased", `{"case_id":"r1","reason":"old"}`).(events.SeatReleased); p.CaseID != "r1" {
		t.Fatalf("SeatReleased v1: %+v", p)
	}
	for _, typ := range []string{"PlaceReleased", "Enrolled", "SeatReleased"} {
		if v, _ := events.DefaultRegistry().Version(typ); v != 2 {
			t.Fatalf("%s is at schema version %d, want 2", typ, v)
		}
	}
}
