package domain_test

import (
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// returnedReferral folds a mid-year direct referral opened at position 1
// and returned at position 3.
func returnedReferral() *domain.Referral {
	var r domain.Referral
	r.Apply(events.Envelope{Version: 1, Position: 1, Payload: events.ReferralOpened{ReferralID: "rabc", OriginSchool: "034501",
		AcademicYear: 114, Route: string(domain.RouteMidYear), Channel: string(domain.ChannelDirect), ReceivedOn: calendar.NewDate(2026, 2, 11)}})
	r.Apply(events.Envelope{Version: 2, Position: 3, Payload: events.ApplicationReturned{Missing: []int{2}}})
	return &r
}

// R-MID-3 Decision: a re-submission recorded now takes the application
// position of its own event; one recorded before the decision (no
// takes_new_place) keeps the filing's, so a replay of an old log orders
// its cases as the decisions already taken did.
func TestR_MID_3_ResubmissionPositionUpcastSafe(t *testing.T) {
	r := returnedReferral()
	r.Apply(events.Envelope{Version: 3, Position: 9, Payload: events.ApplicationResubmitted{ReceivedOn: calendar.NewDate(2026, 2, 12), TakesNewPlace: true}})
	if r.Admission.ApplicationPosition != 9 {
		t.Fatalf("new re-submission: position %d, want 9", r.Admission.ApplicationPosition)
	}
	old := returnedReferral()
	codec := events.NewCodec(events.DefaultRegistry())
	env := events.Envelope{ID: "x", AggregateType: events.AggregateReferral, AggregateID: "rabc", Version: 3}
	data, err := codec.Encode(&env, events.ApplicationResubmitted{ReceivedOn: calendar.NewDate(2026, 2, 12)})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := codec.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	e := dec.Payload.(events.ApplicationResubmitted)
	old.Apply(events.Envelope{Version: 3, Position: 9, Payload: e})
	if old.Admission.ApplicationPosition != 1 || old.Stage != domain.StageIntake {
		t.Fatalf("old re-submission: position %d stage %s, want 1 intake", old.Admission.ApplicationPosition, old.Stage)
	}
}

// R-MID-3 Decision: the lapse is the job's, only for a returned case, and
// only after the window's last day.
func TestR_MID_3_LapseOnlyAfterTheLastDay(t *testing.T) {
	sys := events.Actor{Role: events.RoleSystem}
	last := calendar.NewDate(2026, 3, 2)
	r := returnedReferral()
	if _, ok, err := r.Lapse(sys, last, last); ok || err != nil {
		t.Fatalf("on the last day: %v %v", ok, err)
	}
	if _, _, err := r.Lapse(events.Actor{Role: domain.RoleSocialWorker}, last, last.AddDays(1)); domain.AsError(err).Code != domain.EForbidden {
		t.Fatalf("a social worker lapses: %v", err)
	}
	e, ok, err := r.Lapse(sys, last, last.AddDays(1))
	if !ok || err != nil || e.ResubmitBy != last || e.Letter.ToSchool != "034501" {
		t.Fatalf("the day after: %+v %v %v", e, ok, err)
	}
	r.Apply(events.Envelope{Version: 3, Position: 5, Payload: e})
	if _, ok, _ := r.Lapse(sys, last, last.AddDays(2)); ok || r.Stage != domain.StageLapsed {
		t.Fatalf("lapsing again: %v, stage %s", ok, r.Stage)
	}
}

// R-MID-3 Decision and retention: a lapsed application is closed on the
// day it lapsed, like a rejected one.
func TestR_MID_3_LapsedCaseClosedOnItsDay(t *testing.T) {
	d := calendar.NewDate(2026, 3, 3)
	if got := domain.ClosedOn(domain.RetentionFacts{Stage: domain.StageLapsed, StageOn: d, AcademicYear: 114}); got != d {
		t.Fatalf("a lapsed case closed on %s, want %s", got, d)
	}
}
