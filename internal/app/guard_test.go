package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/jetstream"
)

func TestStorableRefusesWhatNoStoreCanHold(t *testing.T) {
	d := calendar.NewDate(2026, 2, 11)
	ok := []events.Event{
		events.OfficeClosed{Date: d, Reason: "颱風停班停課"},
		events.FirstReviewDecided{Outcome: "recommend", On: d, Letter: events.Letter{Subject: "通知\n第二行"}},
		// Sealed values are opaque: their bytes are never text.
		events.DocumentChecked{Item: 1, Note: events.Sealed{KeyID: "p_1", Nonce: []byte{0}, Ciphertext: []byte{0, 0xff}}},
	}
	if err := Storable(events.Append{Events: ok}); err != nil {
		t.Fatalf("storable events refused: %v", err)
	}
	for _, c := range []struct {
		name string
		a    events.Append
		key  string
	}{
		{"NUL in a string", events.Append{Events: []events.Event{events.OfficeClosed{Date: d, Reason: "secret\x00"}}}, "OfficeClosed.Reason"},
		{"invalid UTF-8 in a nested struct", events.Append{Events: []events.Event{events.Waitlisted{Letter: events.Letter{Outcome: "secret\xff"}}}}, "Waitlisted.Letter.Outcome"},
		{"invalid UTF-8 in a slice", events.Append{Events: []events.Event{events.AppealFiled{Attendees: []string{"parent", "secret\xc3\x28"}}}}, "AppealFiled.Attendees[]"},
		{"an int no column holds", events.Append{Events: []events.Event{events.DocumentSubmitted{Item: 3, Pages: 9223372036854775807}}}, "DocumentSubmitted.Pages"},
		{"a pointer to an unstorable value", events.Append{Events: []events.Event{&events.OfficeClosed{Reason: "secret\x00"}}}, "OfficeClosed.Reason"},
		{"NUL in the metadata", events.Append{Meta: events.Metadata{CorrelationID: "secret\x00"}, Events: ok}, "metadata.correlation_id"},
	} {
		err := Storable(events.Append{Events: ok}, c.a)
		e := domain.AsError(err)
		if e.Code != domain.EInvalid || e.Fields[c.key] == "" {
			t.Errorf("%s: err = %v, fields %v; want invalid on %s", c.name, err, e.Fields, c.key)
		}
		if err != nil && strings.Contains(e.Error()+e.Fields[c.key], "secret") {
			t.Errorf("%s: the error echoes the value", c.name)
		}
	}
}

// The guard runs before every append: an event that bypassed the domain's
// checks is refused and the stream does not move.
func TestAppendGuardKeepsTheLogClean(t *testing.T) {
	authDir := t.TempDir()
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: t.TempDir(), AuthDir: authDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	creds, err := jetstream.Credentials(authDir, jetstream.UserAPI)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), creds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store, err := jetstream.Open(ctx, nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Store: store, Clock: domain.ClockFunc(time.Now)}
	m := Meta{Actor: events.Actor{Role: domain.RoleAdmin}}
	stream := calendarStream(domain.DefaultBranchCode)
	decide := func(reason string) func(events.Loaded) ([]events.Event, error) {
		return func(events.Loaded) ([]events.Event, error) {
			return []events.Event{events.OfficeClosed{Date: calendar.NewDate(2026, 2, 11), Reason: reason}}, nil
		}
	}
	if _, err := s.execute(ctx, stream, m, decide("王\x00明")); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("NUL appended: err = %v", err)
	}
	if _, err := s.execute(ctx, stream, m, decide("\xff")); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("invalid UTF-8 appended: err = %v", err)
	}
	if last, err := store.LastPosition(ctx); err != nil || last != 0 {
		t.Fatalf("stream at %d (%v), want nothing appended", last, err)
	}
	if _, err := s.execute(ctx, stream, m, decide("颱風")); err != nil {
		t.Fatalf("a clean event refused: %v", err)
	}
}
