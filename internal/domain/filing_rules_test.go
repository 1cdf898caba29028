package domain_test

import (
	"context"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Each test below proves one filing rule by the rule id it cites; the
// command is the same valid mid-year filing (cmd) with one thing changed.

func openRule(t *testing.T, c domain.OpenReferral) string {
	t.Helper()
	_, err := domain.Open(context.Background(), sealer(), c)
	if err != nil && ruleOf(err) == "" {
		return "error: " + err.Error()
	}
	return ruleOf(err)
}

// R-ELIG-2: a family crisis or dysfunction is one of the three kinds.
func TestR_ELIG_2_CrisisMustBeOneOfTheThreeKinds(t *testing.T) {
	c := cmd(at(2025, 9, 1))
	c.Grounds = []string{domain.GroundDysfunction}
	if got := openRule(t, c); got != "R-ELIG-2" {
		t.Fatalf("dysfunction without a crisis type: %q, want R-ELIG-2", got)
	}
	for _, kind := range []string{domain.CrisisVulnerableFamily, domain.CrisisOrphanRelatives, domain.CrisisSingleParent} {
		c.Person.CrisisType = kind
		if got := openRule(t, c); got != "" {
			t.Fatalf("crisis %s refused: %s", kind, got)
		}
	}
}

// R-ELIG-3: the guardian's consent and the student's willingness.
func TestR_ELIG_3_ConsentAndWillingnessRequired(t *testing.T) {
	for _, tc := range []struct{ consent, willing bool }{{false, true}, {true, false}, {false, false}} {
		c := cmd(at(2025, 9, 1))
		c.GuardianConsent, c.StudentWilling = tc.consent, tc.willing
		if got := openRule(t, c); got != "R-ELIG-3" {
			t.Fatalf("consent %v willing %v: %q, want R-ELIG-3", tc.consent, tc.willing, got)
		}
	}
	if got := openRule(t, cmd(at(2025, 9, 1))); got != "" {
		t.Fatalf("both given: %s", got)
	}
}

// R-EXCL-2: a student who should be in a special-education class.
func TestR_EXCL_2_SpecialEducationNotAccepted(t *testing.T) {
	c := cmd(at(2025, 9, 1))
	c.Exclusions = []string{domain.ExclSpecialEducation}
	if got := openRule(t, c); got != "R-EXCL-2" {
		t.Fatalf("special education declared: %q, want R-EXCL-2", got)
	}
}

// R-MID-2: an assessed mid-year application goes with its report to the
// bureau, which files it; the origin school cannot file it itself.
func TestR_MID_2_AssessedApplicationFiledByTheBureau(t *testing.T) {
	c := cmd(at(2025, 9, 1))
	c.Channel = domain.ChannelAssessed
	if got := openRule(t, c); got != "R-MID-2" {
		t.Fatalf("assessed filed by the school: %q, want R-MID-2", got)
	}
	c.Actor = events.Actor{Role: events.RoleBureau}
	c.OriginSchool = "034501"
	if got := openRule(t, c); got != "" {
		t.Fatalf("assessed filed by the bureau: %s", got)
	}
}

// R-SOY-1: a graduating grade-6 pupil is referred by the elementary school
// on the start-of-year route, naming the junior high the pupil will
// attend.
func TestR_SOY_1_GraduatingPupilNamesTheJuniorHigh(t *testing.T) {
	c := cmd(at(2026, 4, 20))
	c.Route, c.Channel, c.Grade, c.ElementaryGraduate = domain.RouteStartOfYear, "", 7, true
	if _, err := domain.Open(context.Background(), sealer(), c); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("no intended junior high: %v, want invalid", err)
	}
	c.IntendedSchool = "034502"
	e, err := domain.Open(context.Background(), sealer(), c)
	if err != nil || !e.ElementaryGraduate || e.IntendedSchool != "034502" {
		t.Fatalf("graduating pupil: %+v %v", e, err)
	}
	m := cmd(at(2025, 9, 1))
	m.ElementaryGraduate, m.IntendedSchool, m.Grade = true, "034502", 7
	if _, err := domain.Open(context.Background(), sealer(), m); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("a graduating pupil on the mid-year route: %v, want invalid", err)
	}
}

// R-MTG-3: each case gets one resolution of a meeting.
func TestR_MTG_3_OneResolutionPerCase(t *testing.T) {
	committee := events.Actor{Role: events.RoleCommittee}
	m := &domain.Meeting{ID: "m1", AcademicYear: 114, Status: "open"}
	r := &domain.Referral{ID: "c1", OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 114, Stage: domain.StageRecommended}
	e, err := m.Resolve(committee, r, domain.ResolutionAdmit, events.Sealed{}, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Apply(events.Envelope{Payload: e, Version: 2})
	if _, err := m.Resolve(committee, r, domain.ResolutionWaitlist, events.Sealed{}, false); ruleOf(err) != "R-MTG-3" {
		t.Fatalf("a second resolution on the case: %v, want R-MTG-3", err)
	}
	other := &domain.Referral{ID: "c2", OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 114, Stage: domain.StageRecommended}
	if _, err := m.Resolve(committee, other, domain.ResolutionWaitlist, events.Sealed{}, false); err != nil {
		t.Fatalf("another case's resolution: %v", err)
	}
}

// R-SOY-4: stakeholders of a start-of-year case on the to-discuss or
// not-passed list may ask to attend; a recommended case has nothing to
// appeal.
func TestR_SOY_4_AppealOnlyForToDiscussOrNotPassed(t *testing.T) {
	school := events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	for stage, want := range map[domain.Stage]string{
		domain.StageToDiscuss: "", domain.StageNotEligible: "", domain.StageRecommended: "R-SOY-4",
	} {
		r := &domain.Referral{ID: "c", OriginSchool: "034501", Route: domain.RouteStartOfYear, AcademicYear: 115, Stage: stage}
		_, err := r.Appeal(school, []string{"parent", "school"}, 1, events.Sealed{})
		if got := ruleOf(err); got != want || (want == "" && err != nil) {
			t.Errorf("appeal on a %s case: %v, want rule %q", stage, err, want)
		}
	}
}

// R-ORG-6: the origin school helps a suspended student leave; there is
// nothing to record for a student who was not suspended.
func TestR_ORG_6_LeaveAssistanceOnlyAfterSuspension(t *testing.T) {
	school := events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	today := calendar.DateOf(at(2026, 4, 1), domain.Taipei)
	f := &domain.DutyFacts{}
	if _, err := f.AssistLeave(school, today, today); ruleOf(err) != "R-ORG-6" {
		t.Fatalf("help to leave an enrolled student: %v, want R-ORG-6", err)
	}
	f.Suspended = true
	if _, err := f.AssistLeave(school, today, today); err != nil {
		t.Fatalf("help to leave a suspended student: %v", err)
	}
}
