package testenv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// Finding 2, on the whole system as it runs: the log cannot be reached
// without credentials, and a forged DocumentChecked envelope, correctly
// encoded, cannot be slipped into a case's subject with the projector's
// credentials either. The case keeps its events; the projector still
// projects.
func TestFinding2ForgedEnvelopeNeverReachesTheLog(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	sid := events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id}
	before, err := e.Store.Load(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := e.Store.LastPosition(ctx)

	if nc, err := nats.Connect(e.Server.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the system's NATS")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("anonymous connect: %v", err)
	}

	env := events.Envelope{
		ID: "forged", AggregateType: sid.Type, AggregateID: id, Branch: sid.Branch,
		Version: before.Version + 1, OccurredAt: time.Now(), RecordedAt: time.Now(),
		Actor: events.Actor{Role: domain.RoleSocialWorker, Branch: sid.Branch},
	}
	data, err := e.Codec.Encode(&env, events.DocumentChecked{Item: 7, Conforms: true})
	if err != nil {
		t.Fatal(err)
	}
	violation := make(chan error, 1)
	nc, err := e.ConnectNATS("projector", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case violation <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Publish(sid.Subject(), data); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-violation:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("publish with the projector's credentials: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the projector's publish into the log was not refused")
	}
	after, err := e.Store.Load(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version {
		t.Fatalf("the case went from version %d to %d", before.Version, after.Version)
	}
	if now, _ := e.Store.LastPosition(ctx); now != last {
		t.Fatalf("the log went from %d to %d events", last, now)
	}
}
