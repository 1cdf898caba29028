package domain_test

import (
	"context"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// R-ELIG-1: ground (a) is a dropout returned to school, so it needs a
// dropout record; with one it is accepted.
func TestR_ELIG_1_GroundANeedsDropoutRecord(t *testing.T) {
	c := cmd(at(2026, 2, 11))
	c.Grounds = []string{domain.GroundCrisisDropout}
	c.Person.CrisisType = domain.CrisisSingleParent
	if _, err := domain.Open(context.Background(), sealer(), c); ruleOf(err) != "R-ELIG-1" {
		t.Fatalf("ground (a) without a dropout record: %v, want R-ELIG-1", err)
	}
	c.DropoutRecord = true
	if _, err := domain.Open(context.Background(), sealer(), c); err != nil {
		t.Fatalf("ground (a) with a dropout record: %v", err)
	}
}

// R-EXCL-1: a student ever ordered into reformatory education (not only
// one under it) is not accepted.
func TestR_EXCL_1_EverOrdered(t *testing.T) {
	c := cmd(at(2026, 2, 11))
	c.Exclusions = []string{domain.ExclCriminalEverOrdered}
	if _, err := domain.Open(context.Background(), sealer(), c); ruleOf(err) != "R-EXCL-1" {
		t.Fatalf("ever ordered: %v, want R-EXCL-1", err)
	}
}

// R-EXCL-3: the committee's finding that a student is unfit for group
// living and boarding may be cited by a reject, and the letter says so;
// no other resolution cites it.
func TestR_EXCL_3_CommitteeFindingOnReject(t *testing.T) {
	if err := domain.ValidateFinding(domain.ResolutionReject, domain.FindingUnfitBoarding); err != nil {
		t.Fatalf("reject citing R-EXCL-3: %v", err)
	}
	if domain.ValidateFinding(domain.ResolutionAdmit, domain.FindingUnfitBoarding) == nil || domain.ValidateFinding(domain.ResolutionReject, "R-EXCL-9") == nil {
		t.Fatal("a finding on an admit, or an unknown finding, was accepted")
	}
	m := &domain.Meeting{ID: "m1", Status: "open"}
	m.Apply(events.Envelope{Payload: events.ResolutionRecorded{CaseID: "x", Resolution: domain.ResolutionReject, Finding: domain.FindingUnfitBoarding}, Version: 1})
	cases := map[string]*domain.Referral{"x": {ID: "x", OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 115, Stage: domain.StageRecommended}}
	today := calendar.NewDate(2026, 3, 20)
	plan, err := domain.PlanClose(events.Actor{Role: events.RoleCommittee}, m, &domain.Roster{}, cases, 135, today, today)
	if err != nil {
		t.Fatal(err)
	}
	rej, ok := plan.Cases["x"][0].(events.Rejected)
	if !ok || !strings.Contains(rej.Letter.Outcome, "R-EXCL-3") {
		t.Fatalf("letter %#v does not cite R-EXCL-3", plan.Cases["x"])
	}
}
