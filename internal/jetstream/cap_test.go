package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"cihui/internal/events"
	"cihui/internal/jetstream"
)

type seatTaken struct {
	Case string `json:"case"`
}

func (seatTaken) EventType() string { return "TestSeatTaken" }

type admitted struct{}

func (admitted) EventType() string { return "TestAdmitted" }

// The cap is enforced by the event store, not by a read-model count: each
// admission appends a roster event and a case event in one atomic batch,
// guarded by the expected last sequence of both subjects. Many parallel
// admitters against a small cap never exceed it (the rule R-CAP-1 relies
// on this), checked from the event log itself.
func TestAtomicBatchNeverExceedsCapUnderParallelAdmitters(t *testing.T) {
	reg := events.NewRegistry()
	reg.Register(seatTaken{}, 1)
	reg.Register(admitted{}, 1)
	srv, auth := runServer(t, jetstream.ServerOptions{StoreDir: t.TempDir(), Port: -1})
	nc := connect(t, srv, auth, jetstream.UserAPI)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := jetstream.Open(ctx, nc, events.NewCodec(reg), jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const capacity, admitters = 7, 40
	roster := events.StreamID{Branch: "b1", Type: events.AggregateRoster}
	meta := events.Metadata{Actor: events.Actor{Role: events.RoleCommittee}, OccurredAt: time.Now()}

	var wg sync.WaitGroup
	results := make(chan bool, admitters)
	for i := range admitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := events.StreamID{Branch: "b1", Type: events.AggregateReferral, ID: fmt.Sprintf("c%02d", i)}
			for {
				l, err := s.Load(ctx, roster)
				if err != nil {
					t.Error(err)
					return
				}
				if l.Version >= capacity {
					results <- false // full: waiting list
					return
				}
				_, err = s.Append(ctx,
					events.Append{Stream: roster, ExpectedSeq: l.LastSeq, ExpectedVersion: l.Version, Events: []events.Event{seatTaken{Case: c.ID}}, Meta: meta},
					events.Append{Stream: c, Events: []events.Event{admitted{}}, Meta: meta},
				)
				if errors.Is(err, events.ErrConflict) {
					continue // someone else took a seat first: re-read and retry
				}
				if err != nil {
					t.Error(err)
					return
				}
				results <- true
				return
			}
		}()
	}
	wg.Wait()
	close(results)
	won := 0
	for ok := range results {
		if ok {
			won++
		}
	}
	l, err := s.Load(ctx, roster)
	if err != nil {
		t.Fatal(err)
	}
	if won != capacity || l.Version != capacity {
		t.Fatalf("admitted %d, roster holds %d seats; cap %d", won, l.Version, capacity)
	}
	// Every seat on the roster has its case event, and no case was admitted
	// without a seat: count across the whole log.
	admittedCases := 0
	for i := range admitters {
		c, err := s.Load(ctx, events.StreamID{Branch: "b1", Type: events.AggregateReferral, ID: fmt.Sprintf("c%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		admittedCases += int(c.Version)
	}
	if admittedCases != capacity {
		t.Fatalf("%d case admissions in the log, %d seats", admittedCases, capacity)
	}
}
