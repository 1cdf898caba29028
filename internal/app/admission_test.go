package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/pgtest"
	"cihui/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	committee = app.Meta{Actor: events.Actor{Role: domain.RoleCommittee, Branch: domain.DefaultBranchCode}}
	worker    = app.Meta{Actor: events.Actor{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode}}
)

// reportOn is the reporting date the tests' closes and offers carry
// (R-SOY-6): a working day after the test clock's today.
var reportOn = calendar.NewDate(2026, 4, 7)

func meeting(t *testing.T, e *testenv.Env, date calendar.Date) string {
	t.Helper()
	res, _, err := e.App.ScheduleMeeting(context.Background(), committee, 114, "extra", date, "")
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

// must fails the test on a command's error.
func must(t *testing.T) func(app.Result, error) {
	return func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// R-CAP-1: two meetings' closings and waiting-list promotions racing in
// parallel, repeated, never leave more than 135 places taken — checked
// from the roster's event log itself, event by event, and against the
// cases' own events. (Closings also meet on the committee stream; the
// store-level test in internal/jetstream proves the roster guard alone.)
func TestClosingsAndPromotionsRacingNeverExceedTheCap(t *testing.T) {
	for iter := range 8 {
		t.Run(fmt.Sprint(iter), func(t *testing.T) { raceOnce(t) })
	}
}

const held0 = 128

func raceOnce(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{NoProjector: true})
	branch := e.Branch.Code
	roster := events.StreamID{Branch: branch, Type: events.AggregateRoster}
	meta := events.Metadata{Actor: events.Actor{Role: events.RoleSystem}}

	// 128 places already held.
	var seats []events.Event
	for i := range held0 {
		seats = append(seats, events.SeatTaken{CaseID: fmt.Sprintf("held%03d", i), Cap: 135, Taken: i + 1})
	}
	if _, err := e.Store.Append(ctx, events.Append{Stream: roster, Events: seats, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	// Five real students admitted at an earlier meeting: 133 taken.
	var early []string
	for range 5 {
		early = append(early, e.RecommendedCase("034501", domain.OutcomeRecommend))
	}
	c := meeting(t, e, calendar.NewDate(2026, 2, 12))
	must(t)(e.App.OpenMeeting(ctx, committee, c))
	for _, id := range early {
		must(t)(e.App.Resolve(ctx, committee, c, id, domain.ResolutionAdmit, ""))
	}
	must(t)(e.App.CloseMeeting(ctx, committee, c, &reportOn))

	// Ten more recommended: five resolved at meeting A, five at meeting B.
	var cases []string
	for range 10 {
		cases = append(cases, e.RecommendedCase("034501", domain.OutcomeRecommend))
	}
	a := meeting(t, e, calendar.NewDate(2026, 3, 23))
	b := meeting(t, e, calendar.NewDate(2026, 3, 24))
	must(t)(e.App.OpenMeeting(ctx, committee, a))
	// The committee opens one meeting at a time; the cap must hold even if
	// that rule were bypassed, so B is opened behind its back.
	bl, err := e.Store.Load(ctx, events.StreamID{Branch: branch, Type: events.AggregateMeeting, ID: b})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Append(ctx, events.Append{Stream: events.StreamID{Branch: branch, Type: events.AggregateMeeting, ID: b},
		ExpectedSeq: bl.LastSeq, ExpectedVersion: bl.Version, Events: []events.Event{events.MeetingOpened{MeetingID: b}}, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	for i, id := range cases {
		m := a
		if i >= 5 {
			m = b
		}
		must(t)(e.App.Resolve(ctx, committee, m, id, domain.ResolutionAdmit, ""))
	}

	// Race: both closings and five releases (each offering the freed
	// place to the first on the waiting list).
	racers := []func() error{
		func() error { _, err := e.App.CloseMeeting(ctx, committee, a, &reportOn); return err },
		func() error { _, err := e.App.CloseMeeting(ctx, committee, b, &reportOn); return err },
	}
	for _, id := range early {
		racers = append(racers, func() error { _, err := e.App.ReleasePlace(ctx, worker, id, "declined_place", &reportOn); return err })
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(racers))
	start := make(chan struct{})
	for _, f := range racers {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; errs <- f() }()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("racing command: %v", err)
		}
	}

	// Replay the roster from the log: never more than the cap.
	l, err := e.Store.Load(ctx, roster)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	for _, env := range l.Events {
		switch ev := env.Payload.(type) {
		case events.SeatTaken:
			if held[ev.CaseID] {
				t.Fatalf("case %s took two places", ev.CaseID)
			}
			held[ev.CaseID] = true
		case events.SeatReleased:
			delete(held, ev.CaseID)
		}
		if len(held) > e.Branch.Cap {
			t.Fatalf("the roster held %d places at position %d, cap %d", len(held), env.Position, e.Branch.Cap)
		}
	}
	if len(held) != e.Branch.Cap {
		t.Fatalf("%d places held at the end, want exactly the cap %d (demand exceeds it)", len(held), e.Branch.Cap)
	}
	// Every admitted case in the log holds a place, and vice versa.
	admitted := 0
	for _, id := range append(early, cases...) {
		cl, err := e.Store.Load(ctx, events.StreamID{Branch: branch, Type: events.AggregateReferral, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		var r domain.Referral
		for _, env := range cl.Events {
			r.Apply(env)
		}
		if (r.Stage == domain.StageAdmitted) != held[id] {
			t.Fatalf("case %s: stage %s, holds a place %v", id, r.Stage, held[id])
		}
		if r.Stage == domain.StageAdmitted {
			admitted++
		}
	}
	if admitted+held0 != e.Branch.Cap {
		t.Fatalf("%d real cases admitted beside %d held places, cap %d", admitted, held0, e.Branch.Cap)
	}
}
