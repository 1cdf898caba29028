// Package eventstoretest is the conformance suite every events.Store
// implementation must pass.
package eventstoretest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Run runs the suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) events.Store) {
	t.Run("AppendLoadRoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("ConflictOnStaleExpectation", func(t *testing.T) { testConflict(t, newStore(t)) })
	t.Run("NewStreamMustBeEmpty", func(t *testing.T) { testNewStream(t, newStore(t)) })
	t.Run("AtomicAcrossStreams", func(t *testing.T) { testAtomic(t, newStore(t)) })
	t.Run("ParallelWritersOneWins", func(t *testing.T) { testParallel(t, newStore(t)) })
	t.Run("LoadBeyondOneBatch", func(t *testing.T) { testLong(t, newStore(t)) })
}

func stream(id string) events.StreamID {
	return events.StreamID{Branch: "testbranch", Type: events.AggregateReferral, ID: id}
}

func meta() events.Metadata {
	return events.Metadata{Actor: events.Actor{Role: events.RoleSocialWorker, UserID: "u1"}, OccurredAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func doc(item int) events.Event { return events.DocumentSubmitted{Item: item, Pages: item} }

func testRoundTrip(t *testing.T, s events.Store) {
	ctx := context.Background()
	d := calendar.NewDate(2026, 2, 11)
	envs, err := s.Append(ctx, events.Append{Stream: stream("a"), Events: []events.Event{doc(1), events.DocumentSubmitted{Item: 5, Pages: 2, IssuedOn: &d}}, Meta: meta()})
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 2 || envs[0].Version != 1 || envs[1].Version != 2 || envs[1].Position != envs[0].Position+1 {
		t.Fatalf("versions/positions: %+v", envs)
	}
	l, err := s.Load(ctx, stream("a"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 2 || l.LastSeq != envs[1].Position {
		t.Fatalf("loaded version %d last %d, want 2 and %d", l.Version, l.LastSeq, envs[1].Position)
	}
	got, ok := l.Events[1].Payload.(events.DocumentSubmitted)
	if !ok || got.Item != 5 || got.IssuedOn == nil || *got.IssuedOn != d {
		t.Fatalf("payload not round-tripped: %#v", l.Events[1].Payload)
	}
	if l.Events[0].Actor.UserID != "u1" || l.Events[0].Branch != "testbranch" || l.Events[0].AggregateID != "a" {
		t.Fatalf("envelope metadata lost: %+v", l.Events[0])
	}
	empty, err := s.Load(ctx, stream("nobody"))
	if err != nil || empty.Version != 0 || empty.LastSeq != 0 {
		t.Fatalf("empty stream: %+v %v", empty, err)
	}
	last, err := s.LastPosition(ctx)
	if err != nil || last != envs[1].Position {
		t.Fatalf("LastPosition = %d, %v; want %d", last, err, envs[1].Position)
	}
}

func testConflict(t *testing.T, s events.Store) {
	ctx := context.Background()
	first, err := s.Append(ctx, events.Append{Stream: stream("c"), Events: []events.Event{doc(1)}, Meta: meta()})
	if err != nil {
		t.Fatal(err)
	}
	// Another writer moves the stream on.
	if _, err := s.Append(ctx, events.Append{Stream: stream("c"), ExpectedSeq: first[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(2)}, Meta: meta()}); err != nil {
		t.Fatal(err)
	}
	// A writer that loaded before that is refused.
	_, err = s.Append(ctx, events.Append{Stream: stream("c"), ExpectedSeq: first[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(3)}, Meta: meta()})
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("stale append: err = %v, want ErrConflict", err)
	}
	// Also for a multi-event append (an atomic batch).
	_, err = s.Append(ctx, events.Append{Stream: stream("c"), ExpectedSeq: first[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(3), doc(4)}, Meta: meta()})
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("stale batch append: err = %v, want ErrConflict", err)
	}
	l, _ := s.Load(ctx, stream("c"))
	if l.Version != 2 {
		t.Fatalf("version = %d after refused appends, want 2", l.Version)
	}
}

func testNewStream(t *testing.T, s events.Store) {
	ctx := context.Background()
	if _, err := s.Append(ctx, events.Append{Stream: stream("n"), Events: []events.Event{doc(1)}, Meta: meta()}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, events.Append{Stream: stream("n"), Events: []events.Event{doc(1)}, Meta: meta()})
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("second create: err = %v, want ErrConflict", err)
	}
}

func testAtomic(t *testing.T, s events.Store) {
	ctx := context.Background()
	roster := events.StreamID{Branch: "testbranch", Type: events.AggregateRoster}
	r, err := s.Append(ctx, events.Append{Stream: roster, Events: []events.Event{doc(1)}, Meta: meta()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Append(ctx, events.Append{Stream: stream("x"), Events: []events.Event{doc(1)}, Meta: meta()})
	if err != nil {
		t.Fatal(err)
	}
	// The case expectation is stale: neither stream may change.
	_, err = s.Append(ctx,
		events.Append{Stream: roster, ExpectedSeq: r[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(2)}, Meta: meta()},
		events.Append{Stream: stream("x"), ExpectedSeq: c[0].Position - 1, ExpectedVersion: 1, Events: []events.Event{doc(2)}, Meta: meta()},
	)
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	for _, id := range []events.StreamID{roster, stream("x")} {
		if l, _ := s.Load(ctx, id); l.Version != 1 {
			t.Fatalf("%s has %d events after a refused atomic append, want 1", id.Subject(), l.Version)
		}
	}
	// With both expectations right, both change together.
	envs, err := s.Append(ctx,
		events.Append{Stream: roster, ExpectedSeq: r[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(2)}, Meta: meta()},
		events.Append{Stream: stream("x"), ExpectedSeq: c[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(2), doc(3)}, Meta: meta()},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 3 || envs[2].Position != envs[0].Position+2 || envs[2].Version != 3 {
		t.Fatalf("atomic append envelopes: %+v", envs)
	}
}

func testParallel(t *testing.T, s events.Store) {
	ctx := context.Background()
	first, err := s.Append(ctx, events.Append{Stream: stream("p"), Events: []events.Event{doc(1)}, Meta: meta()})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Append(ctx, events.Append{Stream: stream("p"), ExpectedSeq: first[0].Position, ExpectedVersion: 1, Events: []events.Event{doc(2 + i%10)}, Meta: meta()})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, events.ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Fatalf("wins %d conflicts %d, want 1 and %d", wins.Load(), conflicts.Load(), writers-1)
	}
}

func testLong(t *testing.T, s events.Store) {
	ctx := context.Background()
	var seq, version uint64
	const n = 600 // more than one batched read
	for version < n {
		batch := []events.Event{doc(1), doc(2), doc(3)}
		envs, err := s.Append(ctx, events.Append{Stream: stream("long"), ExpectedSeq: seq, ExpectedVersion: version, Events: batch, Meta: meta()})
		if err != nil {
			t.Fatal(err)
		}
		seq, version = envs[len(envs)-1].Position, envs[len(envs)-1].Version
	}
	l, err := s.Load(ctx, stream("long"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != n || l.LastSeq != seq {
		t.Fatalf("loaded %d events (last %d), want %d (last %d)", l.Version, l.LastSeq, n, seq)
	}
	for i, e := range l.Events {
		if e.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, e.Version)
		}
	}
}
