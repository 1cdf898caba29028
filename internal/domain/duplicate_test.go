package domain_test

import (
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-CAP-1: which referrals are still open for the duplicate check. A
// rejected case and a place left have ended; a case found not eligible
// awaits the committee (R-MTG-2) and is open; any other application
// lapses after Jul 31 of its academic year; an enrolled student is open
// until graduation in grade 9.
func TestR_CAP_1_WhichReferralsAreOpen(t *testing.T) {
	jul31 := calendar.NewDate(2026, 7, 31) // end of academic year 114
	aug1 := calendar.NewDate(2026, 8, 1)
	for _, c := range []struct {
		name  string
		r     domain.Referral
		today calendar.Date
		ended bool
	}{
		{"intake", domain.Referral{Stage: domain.StageIntake, AcademicYear: 114}, jul31, false},
		{"intake lapsed", domain.Referral{Stage: domain.StageIntake, AcademicYear: 114}, aug1, true},
		{"returned", domain.Referral{Stage: domain.StageReturned, AcademicYear: 114}, jul31, false},
		{"not eligible awaits the committee", domain.Referral{Stage: domain.StageNotEligible, AcademicYear: 114}, jul31, false},
		{"waitlisted lapsed", domain.Referral{Stage: domain.StageWaitlisted, AcademicYear: 114}, aug1, true},
		{"rejected", domain.Referral{Stage: domain.StageRejected, AcademicYear: 114}, jul31, true},
		{"left", domain.Referral{Stage: domain.StageLeft, AcademicYear: 114}, jul31, true},
		{"lapsed (R-MID-3)", domain.Referral{Stage: domain.StageLapsed, AcademicYear: 114}, jul31, true},
		{"enrolled grade 8", domain.Referral{Stage: domain.StageEnrolled, AcademicYear: 114, Grade: 8}, aug1, false},
		{"enrolled grade 8 graduated", domain.Referral{Stage: domain.StageEnrolled, AcademicYear: 114, Grade: 8}, calendar.NewDate(2027, 8, 1), true},
	} {
		c.r.Version = 1
		if got := c.r.Ended(c.today); got != c.ended {
			t.Errorf("%s on %s: ended %v, want %v", c.name, c.today, got, c.ended)
		}
	}
}

// R-CAP-1: the same school with an open referral is a conflict naming
// only its own case; other schools' open referrals are possible
// duplicates; ended ones count for nothing.
func TestR_CAP_1_CheckDuplicate(t *testing.T) {
	today := calendar.NewDate(2026, 3, 2)
	ref := func(id, school string, stage domain.Stage) *domain.Referral {
		return &domain.Referral{ID: id, OriginSchool: school, Stage: stage, AcademicYear: 114, Version: 1}
	}
	dups, err := domain.CheckDuplicate("034501", []*domain.Referral{
		ref("rb", "034502", domain.StageIntake), ref("ra", "034503", domain.StageRecommended),
		ref("rc", "034501", domain.StageRejected), ref("rd", "034504", domain.StageLeft),
	}, today)
	if err != nil || len(dups) != 2 || dups[0] != "ra" || dups[1] != "rb" {
		t.Fatalf("dups %v err %v, want [ra rb]", dups, err)
	}
	_, err = domain.CheckDuplicate("034502", []*domain.Referral{ref("rq1", "034503", domain.StageIntake), ref("rq2", "034502", domain.StageIntake)}, today)
	e := domain.AsError(err)
	if err == nil || e.Code != domain.EConflict || e.Rule != "R-CAP-1" {
		t.Fatalf("same school: %v", err)
	}
	if !strings.Contains(e.Message, "(rq2)") || strings.Contains(e.Message, "rq1") {
		t.Fatalf("the conflict should name the school's own case only: %s", e.Message)
	}
}

// R-CAP-1: the person stream lists each referral once, in order.
func TestR_CAP_1_PersonReferralsFold(t *testing.T) {
	var p domain.PersonReferrals
	for i, id := range []string{"ra", "rb", "ra"} {
		p.Apply(events.Envelope{Payload: events.PersonReferred{ReferralID: id}, Version: uint64(i + 1), Position: uint64(10 + i)})
	}
	if len(p.Cases) != 2 || p.Cases[0] != "ra" || p.Cases[1] != "rb" || p.Version != 3 || p.LastSeq != 12 {
		t.Fatalf("%+v", p)
	}
}
