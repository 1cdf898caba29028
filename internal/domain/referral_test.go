package domain_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// sealer seals with a throwaway in-memory key ring.
type memKeys map[string][]byte

func (k memKeys) DataKey(_ context.Context, id string, create bool) ([]byte, error) {
	if key, ok := k[id]; ok {
		return key, nil
	}
	if !create {
		return nil, events.ErrKeyDestroyed
	}
	k[id] = make([]byte, 32)
	return k[id], nil
}
func (k memKeys) DestroyKey(_ context.Context, id string) error { delete(k, id); return nil }

// PersonKey: a new key per filing (the real blind index is tested with
// the JetStream key ring).
func (k memKeys) PersonKey(context.Context, string) (string, error) { return events.NewKeyID(), nil }

func sealer() *events.Sealer {
	return events.NewSealer(memKeys{}, []byte("blind-index-secret-for-tests"))
}

func at(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, domain.Taipei) }

func cmd(now time.Time) domain.OpenReferral {
	return domain.OpenReferral{
		ReferralID: "r1", Branch: domain.DefaultBranch(),
		Actor: events.Actor{Role: events.RoleOriginSchool, School: "034501"},
		Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Grade: 8, Sex: "M",
		Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
		Person: domain.Person{StudentName: "x", NationalID: "A123456789", BirthDate: "2012-01-01", GuardianName: "g", Reason: "r"},
		Now:    now,
	}
}

func ruleOf(err error) string {
	var e *domain.Error
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}

func TestOpenWindows(t *testing.T) {
	soy := func(now time.Time) domain.OpenReferral {
		c := cmd(now)
		c.Route, c.Channel = domain.RouteStartOfYear, ""
		return c
	}
	tests := []struct {
		name string
		c    domain.OpenReferral
		rule string // "" = accepted
		year int
	}{
		// R-MID-1: Jul 1 – Feb 28 of the academic year.
		{"R-MID-1 first day", cmd(at(2025, 7, 1)), "", 114},
		{"R-MID-1 last day", cmd(at(2026, 2, 28)), "", 114},
		{"R-MID-1 day after", cmd(at(2026, 3, 1)), "R-MID-1", 0},
		{"R-MID-1 day before", cmd(at(2025, 6, 30)), "R-MID-1", 0},
		// R-SOY-2: Apr 12 – May 14 before the academic year.
		{"R-SOY-2 first day", soy(at(2026, 4, 12)), "", 115},
		{"R-SOY-2 last day", soy(at(2026, 5, 14)), "", 115},
		{"R-SOY-2 day after", soy(at(2026, 5, 15)), "R-SOY-2", 0},
		{"R-SOY-2 day before", soy(at(2026, 4, 11)), "R-SOY-2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := domain.Open(context.Background(), sealer(), tt.c)
			if got := ruleOf(err); got != tt.rule || (tt.rule == "" && err != nil) {
				t.Fatalf("rule = %q (err %v), want %q", got, err, tt.rule)
			}
			if tt.rule == "" && e.AcademicYear != tt.year {
				t.Fatalf("academic year %d, want %d", e.AcademicYear, tt.year)
			}
		})
	}
}

func TestOpenRules(t *testing.T) {
	now := at(2026, 2, 11) // second semester of 114, inside the mid-year window
	tests := []struct {
		name   string
		modify func(*domain.OpenReferral)
		rule   string
		code   domain.Code
	}{
		{"R-ELIG-1 no ground", func(c *domain.OpenReferral) { c.Grounds = nil }, "R-ELIG-1", domain.ERule},
		{"R-ELIG-2 crisis needs a type", func(c *domain.OpenReferral) { c.Grounds = []string{domain.GroundDysfunction} }, "R-ELIG-2", domain.ERule},
		{"R-ELIG-2 single parent ok", func(c *domain.OpenReferral) {
			c.Grounds = []string{domain.GroundDysfunction}
			c.Person.CrisisType = domain.CrisisSingleParent
		}, "", ""},
		{"R-ELIG-3 no consent", func(c *domain.OpenReferral) { c.GuardianConsent = false }, "R-ELIG-3", domain.ERule},
		{"R-ELIG-3 unwilling", func(c *domain.OpenReferral) { c.StudentWilling = false }, "R-ELIG-3", domain.ERule},
		{"R-EXCL-1", func(c *domain.OpenReferral) { c.Exclusions = []string{domain.ExclCriminalSupervision} }, "R-EXCL-1", domain.ERule},
		{"R-EXCL-2", func(c *domain.OpenReferral) { c.Exclusions = []string{domain.ExclSpecialEducation} }, "R-EXCL-2", domain.ERule},
		{"R-EXCL-3", func(c *domain.OpenReferral) { c.Exclusions = []string{domain.ExclUnfitBoarding} }, "R-EXCL-3", domain.ERule},
		// R-EXCL-4 is checked when the transfer takes effect, not at filing
		// (issue 9 defect 2; roster_dates_test.go).
		{"R-EXCL-4 grade 9 filed in the second semester", func(c *domain.OpenReferral) { c.Grade = 9 }, "", ""},
		{"R-EXCL-4 with a major reason", func(c *domain.OpenReferral) { c.Grade = 9; c.Person.ExclusionReason = "家庭重大變故" }, "", ""},
		{"R-MID-2 assessed goes via the bureau", func(c *domain.OpenReferral) { c.Channel = domain.ChannelAssessed }, "R-MID-2", domain.ERule},
		{"R-MID-2 bureau files assessed", func(c *domain.OpenReferral) {
			c.Channel = domain.ChannelAssessed
			c.Actor = events.Actor{Role: events.RoleBureau}
			c.OriginSchool = "034501"
		}, "", ""},
		{"R-MID-3 bureau does not file direct", func(c *domain.OpenReferral) {
			c.Actor = events.Actor{Role: events.RoleBureau}
			c.OriginSchool = "034501"
		}, "R-MID-3", domain.ERule},
		{"R-SOY-1 grade-6 pupil needs intended school", func(c *domain.OpenReferral) {
			c.Route, c.Channel, c.ElementaryGraduate, c.Grade = domain.RouteStartOfYear, "", true, 7
		}, "", domain.EInvalid},
		{"bad national ID", func(c *domain.OpenReferral) { c.Person.NationalID = "A123456788" }, "", domain.EInvalid},
		{"new resident number ok", func(c *domain.OpenReferral) { c.Person.NationalID = "A800000014" }, "", ""},
		{"family categories from the form", func(c *domain.OpenReferral) {
			c.Person.Family = domain.Family{Housing: "寄居", Economy: "低收入戶", LivingTypes: []string{"雙亡依親", "父母入獄"}}
		}, "", ""},
		{"unknown family category", func(c *domain.OpenReferral) { c.Person.Family.LivingTypes = []string{"外星"} }, "", domain.EInvalid},
		{"other school's code refused", func(c *domain.OpenReferral) { c.OriginSchool = "999999" }, "", domain.EForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cmd(now)
			tt.modify(&c)
			e, err := domain.Open(context.Background(), sealer(), c)
			if domain.ErrorCode(err) != tt.code || ruleOf(err) != tt.rule {
				t.Fatalf("err = %v; want code %q rule %q", err, tt.code, tt.rule)
			}
			if err == nil && (e.Personal.IsZero() || e.PersonKey == "" || e.ReceivedOn != calendar.NewDate(2026, 2, 11)) {
				t.Fatalf("event not sealed or dated: %+v", e)
			}
		})
	}
}

func TestPersonalDataIsSealed(t *testing.T) {
	s := sealer()
	e, err := domain.Open(context.Background(), s, cmd(at(2026, 3, 1).AddDate(0, 0, -1)))
	if err != nil {
		t.Fatal(err)
	}
	var p domain.Person
	if err := s.Open(context.Background(), e.Personal, &p); err != nil || p.NationalID != "A123456789" {
		t.Fatalf("open: %v %+v", err, p)
	}
	if err := s.Erase(context.Background(), e.PersonKey); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background(), e.Personal, &p); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("after erasure: %v", err)
	}
}

func TestDocumentRules(t *testing.T) {
	var r domain.Referral
	sw := events.Actor{Role: events.RoleSocialWorker}
	school := events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	if _, err := r.CheckDocument(sw, 5, true, events.Sealed{}); ruleOf(err) != "R-DOC-1" {
		t.Fatalf("checking an item not submitted: %v", err)
	}
	if _, err := r.SubmitDocument(school, 13, 1, nil, false, calendar.NewDate(2026, 2, 11)); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("item 13: %v", err)
	}
	if _, err := r.SubmitDocument(sw, 1, 1, nil, false, calendar.NewDate(2026, 2, 11)); domain.ErrorCode(err) != domain.EForbidden {
		t.Fatalf("social worker submitting: %v", err)
	}
}

// R-MID-5 / R-SOY-3: the first review follows the visit, the interview and
// the finished report.
func TestFirstReviewNeedsTheVisit(t *testing.T) {
	sw := events.Actor{Role: events.RoleSocialWorker}
	r := domain.Referral{Route: domain.RouteMidYear, Channel: domain.ChannelAssessed, Stage: domain.StageIntake}
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10, 11} {
		r.Documents[item] = domain.Document{Submitted: true, Checked: true, Conforms: true}
	}
	today := calendar.NewDate(2026, 2, 11)
	if _, err := r.DecideFirstReview(sw, domain.OutcomeRecommend, events.Sealed{}, false, today, ""); ruleOf(err) != "R-MID-5" {
		t.Fatalf("mid-year review without visit: %v", err)
	}
	r.Route, r.Channel = domain.RouteStartOfYear, ""
	if _, err := r.DecideFirstReview(sw, domain.OutcomeRecommend, events.Sealed{}, false, today, ""); ruleOf(err) != "R-SOY-3" {
		t.Fatalf("start-of-year review without visit: %v", err)
	}
	r.Visit = domain.Visit{Visited: true, Interviewed: true, ReportOn: &today}
	if _, err := r.DecideFirstReview(sw, domain.OutcomeNotEligible, events.Sealed{}, false, today, ""); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("not_eligible without reasons: %v", err)
	}
	e, err := r.DecideFirstReview(sw, domain.OutcomeRecommend, events.Sealed{}, false, today, "")
	if err != nil || e.Letter.Outcome == "" || e.Letter.NextStep == "" {
		t.Fatalf("review: %v %+v", err, e)
	}
	r.Apply(events.Envelope{Payload: e, Version: 2})
	if r.Stage != domain.StageRecommended {
		t.Fatalf("stage %s", r.Stage)
	}
	if _, err := r.DecideFirstReview(sw, domain.OutcomeRecommend, events.Sealed{}, false, today, ""); domain.ErrorCode(err) != domain.EConflict {
		t.Fatalf("second review: %v", err)
	}
}
