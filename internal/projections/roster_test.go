package projections_test

import (
	"context"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// R-CAP-1 (dated), migration 00014: the projected roster answers for any
// date, and roster events recorded before the roster carried dates read
// as the domain reads them: a seat holds from its event's day,
// open-ended; a release ends it the day before; an enrolment with a grade
// plans the graduation (Jul 31 of grade 9). The projection and the roster
// stream agree on every day.
func TestR_CAP_1_ProjectedRosterReadsUndatedEvents(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{})
	roster := events.StreamID{Branch: e.Branch.Code, Type: events.AggregateRoster}
	at := func(y int, m time.Month, d int) events.Metadata {
		return events.Metadata{Actor: events.Actor{Role: events.RoleSystem}, OccurredAt: time.Date(y, m, d, 10, 0, 0, 0, domain.Taipei)}
	}
	from := calendar.NewDate(2026, time.August, 1)
	var seq, ver uint64
	for _, x := range []struct {
		meta events.Metadata
		ev   events.Event
	}{
		{at(2025, 9, 1), events.SeatTaken{CaseID: "a", Cap: 135, Taken: 1}},
		{at(2025, 9, 2), events.SeatTaken{CaseID: "b", Cap: 135, Taken: 2}},
		{at(2025, 9, 3), events.SeatEnrolled{CaseID: "b", Grade: 9, Class: "9-1"}},
		{at(2026, 1, 10), events.SeatReleased{CaseID: "a"}},
		{at(2026, 5, 20), events.SeatTaken{CaseID: "c", Cap: 135, From: &from, Grade: 7, GradeYear: 115}},
		{at(2026, 5, 20), events.WaitlistJoined{CaseID: "d", ApplicationPosition: 9}},
	} {
		envs, err := e.Store.Append(ctx, events.Append{Stream: roster, ExpectedSeq: seq, ExpectedVersion: ver, Events: []events.Event{x.ev}, Meta: x.meta})
		if err != nil {
			t.Fatal(err)
		}
		seq, ver = envs[0].Position, envs[0].Version
	}
	if got := e.Waiter.Wait(ctx, seq); got < seq {
		t.Fatalf("projector at %d of %d", got, seq)
	}
	l, err := e.Store.Load(ctx, roster)
	if err != nil {
		t.Fatal(err)
	}
	var r domain.Roster
	for _, env := range l.Events {
		r.Apply(env)
	}
	reader := projections.NewReader(e.DB)
	for on, want := range map[string][2]int{ // held, enrolled
		"2025-08-31": {0, 0}, "2025-09-01": {1, 0}, "2025-09-02": {2, 0}, "2025-09-03": {2, 1},
		"2026-01-09": {2, 1}, "2026-01-10": {1, 1}, "2026-07-31": {1, 1}, "2026-08-01": {1, 0}, "2029-07-31": {1, 0}, "2029-08-01": {0, 0},
	} {
		d, _ := calendar.ParseDate(on)
		got, err := reader.RosterOn(ctx, e.Branch.Code, d)
		if err != nil {
			t.Fatal(err)
		}
		if got.Held != want[0] || got.Enrolled != want[1] || r.HeldOn(d) != want[0] {
			t.Errorf("%s: projected %d held (%d enrolled), roster stream %d; want %v", on, got.Held, got.Enrolled, r.HeldOn(d), want)
		}
		if len(got.Waiting) != 1 || got.Waiting[0].CaseID != "d" {
			t.Errorf("%s: waiting %v", on, got.Waiting)
		}
	}
}
