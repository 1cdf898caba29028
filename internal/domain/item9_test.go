package domain_test

import (
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-DOC-1 item 9: a mid-year application's health-check copy conforms
// only with the copy of the student's accident-insurance record; a
// start-of-year one needs no such copy. The total page count is the sum
// of the submitted items.
func TestR_DOC_1_Item9AccidentInsurance(t *testing.T) {
	school := events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	sw := events.Actor{Role: events.RoleSocialWorker}
	today := calendar.NewDate(2026, 2, 11)
	submit := func(r *domain.Referral, withInsurance bool) {
		t.Helper()
		e, err := r.SubmitDocumentWith(school, 9, 3, nil, domain.Enclosures{AccidentInsurance: withInsurance}, today)
		if err != nil {
			t.Fatal(err)
		}
		r.Apply(events.Envelope{Payload: e, OccurredAt: today.Time()})
	}
	mid := &domain.Referral{ID: "c1", Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Stage: domain.StageIntake}
	submit(mid, false)
	if _, err := mid.CheckDocument(sw, 9, true, events.Sealed{}); ruleOf(err) != "R-DOC-1" {
		t.Fatalf("mid-year item 9 without the accident-insurance copy checked as conforming: %v", err)
	}
	if _, err := mid.CheckDocument(sw, 9, false, events.Sealed{}); err != nil {
		t.Fatalf("checking it as not conforming: %v", err)
	}
	submit(mid, true)
	if _, err := mid.CheckDocument(sw, 9, true, events.Sealed{}); err != nil {
		t.Fatalf("mid-year item 9 with the copy: %v", err)
	}
	soy := &domain.Referral{ID: "c2", Route: domain.RouteStartOfYear, Stage: domain.StageIntake}
	submit(soy, false)
	if _, err := soy.CheckDocument(sw, 9, true, events.Sealed{}); err != nil {
		t.Fatalf("start-of-year item 9: %v", err)
	}
	if _, err := soy.SubmitDocumentWith(school, 8, 1, nil, domain.Enclosures{AccidentInsurance: true}, today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("the accident-insurance copy on item 8: %v", err)
	}
	var docs [domain.ChecklistItems + 1]domain.Document
	docs[1] = domain.Document{Submitted: true, Pages: 2}
	docs[9] = domain.Document{Submitted: true, Pages: 3}
	docs[12] = domain.Document{Pages: 7} // not submitted
	if got := domain.DocumentPages(docs); got != 5 {
		t.Fatalf("total pages %d, want 5", got)
	}
}
