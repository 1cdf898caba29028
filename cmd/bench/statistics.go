package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/postgres"
	"cihui/internal/projections"
)

// Statistics bench (issue 11): a branch with 10 years of history, 2,000
// students and about 20,000 events, is written straight into the store
// (each referral opened through the application service, so that it is
// sealed as any other; its enrolment, seat and dropout episodes appended
// as the commands would), projected, and the national table is timed
// through the API against its baseline, the two read-model queries alone.
const (
	statStudents = 2000
	statRounds   = 30
)

func benchStatistics(ctx context.Context, e *env) error {
	actor := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	sw := events.Actor{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode}
	roster := events.StreamID{Branch: domain.DefaultBranchCode, Type: events.AggregateRoster}
	loaded, err := e.store.Load(ctx, roster)
	if err != nil {
		return err
	}
	rosterSeq, rosterVer := loaded.LastSeq, loaded.Version
	written := 0
	for i := range statStudents {
		res, err := e.svc.OpenReferral(ctx, actor, domain.OpenReferral{
			Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Grade: 8, Sex: []string{"M", "F"}[i%2],
			Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
			Person: domain.Person{StudentName: "bench", NationalID: benchNationalID(), BirthDate: "2012-01-01", GuardianName: "g", Reason: "r"},
		})
		if err != nil {
			var de *domain.Error
			if errors.As(err, &de) {
				return fmt.Errorf("statistics: open referral %d: %w %v", i, err, de.Fields)
			}
			return err
		}
		written += int(res.Version)
		year := 105 + i%10 // enrolled in academic years 105–114
		grade := 7 + i%3
		on := calendar.NewDate(year+1911, time.September, 1).AddDays(i % 90)
		last := domain.GraduationDay(grade, year)
		at := time.Date(on.Year(), on.Month(), on.Day(), 9, 0, 0, 0, domain.Taipei)
		evs := []events.Event{events.Enrolled{On: on, Grade: grade, Class: fmt.Sprintf("%d-1", grade)}}
		for j := range i % 5 { // 0–4 episodes, 2 on average
			start := on.AddDays(30 + 70*j)
			evs = append(evs, events.DropoutOpened{Episode: j + 1, FirstDayAbsent: start, Whereabouts: []string{"unknown", "known"}[j%2],
				Reason: domain.DropoutReasons[(i+j)%5], Letter: events.Letter{ToSchool: "034501", StudentAlias: domain.Alias(res.ID),
					Subject: "慈輝班學生中輟通知", Outcome: "中輟", NextStep: "協尋"}})
			if i%7 == 0 && j == i%5-1 {
				evs = append(evs, events.DropoutFollowUpLogged{Episode: j + 1, Kind: "search", Party: domain.PartyBranch, On: start.AddDays(3)})
				continue // still out
			}
			evs = append(evs, events.DropoutReturned{Episode: j + 1, ReturnedOn: start.AddDays(10)},
				events.DropoutClosed{Episode: j + 1, ClosedOn: start.AddDays(11), Outcome: "returned"})
		}
		meta := events.Metadata{Actor: sw, OccurredAt: at}
		if _, err := e.store.Append(ctx, events.Append{Stream: events.StreamID{Branch: domain.DefaultBranchCode, Type: events.AggregateReferral, ID: res.ID},
			ExpectedSeq: res.Position, ExpectedVersion: res.Version, Events: evs, Meta: meta}); err != nil {
			return fmt.Errorf("statistics: append the enrolled life of %d: %w", i, err)
		}
		seats, err := e.store.Append(ctx, events.Append{Stream: roster, ExpectedSeq: rosterSeq, ExpectedVersion: rosterVer, Meta: meta,
			Events: []events.Event{
				events.SeatTaken{CaseID: res.ID, Cap: 135, Taken: 1, From: &on, Last: &last, Grade: grade, GradeYear: year},
				events.SeatEnrolled{CaseID: res.ID, Grade: grade, Class: fmt.Sprintf("%d-1", grade)},
			}})
		if err != nil {
			return fmt.Errorf("statistics: append the seat of %d: %w", i, err)
		}
		rosterSeq, rosterVer = seats[len(seats)-1].Position, seats[len(seats)-1].Version
		written += len(evs) + 2
	}
	last, err := e.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	p := projections.New(projections.Options{DB: e.db, JetStream: e.store.JetStream(), Stream: e.store.StreamName(), Codec: e.codec})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.RunWithRestart(pctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	got := e.waiter.Wait(wctx, last)
	wcancel()
	cancel()
	<-done
	if got < last {
		return fmt.Errorf("statistics: read models at %d of %d", got, last)
	}

	tok, _, err := postgres.NewTokens(e.db).Create(ctx, postgres.TokenInfo{Role: domain.RoleSocialWorker}) // the default branch
	if err != nil {
		return err
	}
	reader := projections.NewReader(e.db)
	students, err := reader.StatStudents(ctx, domain.DefaultBranchCode)
	if err != nil {
		return err
	}
	if len(students) < statStudents {
		return fmt.Errorf("statistics: %d students read, want %d", len(students), statStudents)
	}
	url := e.http.URL + "/v1/statistics/dropouts?academic_year=114&as_of=2026-08-05"
	var api, raw []time.Duration
	for range statRounds {
		t0 := time.Now()
		if err := httpGet(url, tok); err != nil {
			return err
		}
		api = append(api, time.Since(t0))
		t0 = time.Now()
		if _, err := reader.StatStudents(ctx, domain.DefaultBranchCode); err != nil {
			return err
		}
		raw = append(raw, time.Since(t0))
	}
	emit(Result{Figure: "statistics_dropout_table_p50", Unit: "ms", Value: float64(pct(api, 0.5).Microseconds()) / 1000,
		Baseline: float64(pct(raw, 0.5).Microseconds()) / 1000, N: statRounds,
		Note: fmt.Sprintf("GET the national dropout table (all breakdowns) of a branch with 10 years of history: %d students, %d events written for them; baseline: the loader's two read-model queries alone", len(students), written)})
	return nil
}
