package domain_test

import (
	"context"
	"strings"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

func TestTextProblem(t *testing.T) {
	tests := []struct {
		name      string
		v         string
		max       int
		multiline bool
		ok        bool
	}{
		{"plain", "王小明", 100, false, true},
		{"empty", "", 100, false, true},
		{"NUL", "王\x00明", 100, true, false},
		{"invalid UTF-8", "王\xff", 100, true, false},
		{"lone surrogate bytes", "\xed\xa0\x80", 100, true, false},
		{"newline in a name", "王\n明", 100, false, false},
		{"newline in free text", "第一行\n第二行\t縮排", 100, true, true},
		{"carriage return", "a\rb", 100, true, false},
		{"escape", "a\x1bb", 100, true, false},
		{"C1 control", "a\u0085b", 100, true, false},
		{"line separator", "a\u2028b", 100, true, false},
		{"noncharacter", "a\uffffb", 100, true, false},
		{"exactly max runes", strings.Repeat("王", 100), 100, false, true},
		{"one rune over", strings.Repeat("王", 101), 100, false, false},
	}
	for _, tt := range tests {
		p := domain.TextProblem(tt.v, tt.max, tt.multiline)
		if (p == "") != tt.ok {
			t.Errorf("%s: problem %q, want ok=%v", tt.name, p, tt.ok)
		}
		if p != "" && tt.v != "" && strings.Contains(p, tt.v) {
			t.Errorf("%s: the message echoes the value", tt.name)
		}
	}
}

// Issue 7: the domain refuses what it must never record, so a caller that
// is not the HTTP API cannot poison the log either. Messages never
// contain the value.
func TestOpenRefusesUnstorableAndImplausibleFields(t *testing.T) {
	now := at(2026, 2, 11)
	tests := []struct {
		name  string
		edit  func(c *domain.OpenReferral)
		field string
	}{
		{"NUL in the name", func(c *domain.OpenReferral) { c.Person.StudentName = "王\x00明" }, "student.name"},
		{"invalid UTF-8 in the guardian", func(c *domain.OpenReferral) { c.Person.GuardianName = "王\xc3\x28" }, "guardian.name"},
		{"control in a reason", func(c *domain.OpenReferral) { c.Person.Reason = "理由\x07" }, "reason"},
		{"long name", func(c *domain.OpenReferral) { c.Person.StudentName = strings.Repeat("名", 101) }, "student.name"},
		{"long notes", func(c *domain.OpenReferral) { c.Person.Family.Notes = strings.Repeat("記", domain.MaxNoteLen+1) }, "family.notes"},
		{"birth date in the future", func(c *domain.OpenReferral) { c.Person.BirthDate = "2099-01-01" }, "student.birth_date"},
		{"birth date absurdly old", func(c *domain.OpenReferral) { c.Person.BirthDate = "1900-01-01" }, "student.birth_date"},
		{"birth date of a toddler", func(c *domain.OpenReferral) { c.Person.BirthDate = "2024-01-01" }, "student.birth_date"},
		{"birth date not a date", func(c *domain.OpenReferral) { c.Person.BirthDate = "2012-02-30" }, "student.birth_date"},
		{"academic year out of range", func(c *domain.OpenReferral) { c.AcademicYear = 9223372036854775807 }, "academic_year"},
		{"school code with NUL", func(c *domain.OpenReferral) { c.OriginSchool = "0345\x00" }, "origin_school"},
		{"unknown ground", func(c *domain.OpenReferral) { c.Grounds = []string{"secret-ground-value"} }, "grounds"},
		{"unknown crisis type", func(c *domain.OpenReferral) { c.Person.CrisisType = "secret-crisis-value" }, "crisis_type"},
		{"too many grounds", func(c *domain.OpenReferral) { c.Grounds = make([]string, 21) }, "grounds"},
		{"non-ASCII national ID", func(c *domain.OpenReferral) { c.Person.NationalID = "\u017f123456784" }, "student.national_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cmd(now)
			tt.edit(&c)
			_, err := domain.Open(context.Background(), sealer(), c)
			e := domain.AsError(err)
			if e.Code != domain.EInvalid || e.Fields[tt.field] == "" {
				t.Fatalf("err = %v (fields %v), want invalid on %s", err, e.Fields, tt.field)
			}
			for _, secret := range []string{"王", "secret-", "名名名", "0345"} {
				if strings.Contains(e.Error()+e.Fields[tt.field], secret) {
					t.Fatalf("the message echoes the value: %q", e.Fields[tt.field])
				}
			}
		})
	}
}

// Issue 7, finding 6: a lower-case national ID is the same person as the
// upper-case one — the same data key — and is stored upper case.
func TestLowercaseNationalIDIsNormalised(t *testing.T) {
	s := &recordingSealer{Sealer: sealer()}
	c := cmd(at(2026, 2, 11))
	c.Person.NationalID = " a123456789"
	lower, err := domain.Open(context.Background(), s, c)
	if err != nil {
		t.Fatal(err)
	}
	c.Person.NationalID = "A123456789"
	if _, err := domain.Open(context.Background(), s, c); err != nil {
		t.Fatal(err)
	}
	// The person's key is looked up by the normalised number: the same
	// person (the blind index itself is tested with the key ring).
	if len(s.ids) != 2 || s.ids[0] != "A123456789" || s.ids[1] != "A123456789" {
		t.Fatalf("person keys looked up for %q, want the upper-case number twice", s.ids)
	}
	var p domain.Person
	if err := s.Open(context.Background(), lower.Personal, &p); err != nil {
		t.Fatal(err)
	}
	if p.NationalID != "A123456789" {
		t.Fatalf("sealed national ID %q, want upper case", p.NationalID)
	}
}

func TestCommandRanges(t *testing.T) {
	today := calendar.NewDate(2026, 2, 11)
	future := today.AddDays(1)
	old := calendar.NewDate(1990, 1, 1)
	r := &domain.Referral{ID: "r1", Stage: domain.StageIntake}
	school := events.Actor{Role: domain.RoleOriginSchool, School: "034501"}
	for _, c := range []struct {
		name  string
		err   error
		field string
	}{
		{"pages max int", second(r.SubmitDocument(school, 3, 9223372036854775807, nil, false, today)), "pages"},
		{"pages 501", second(r.SubmitDocument(school, 3, 501, nil, false, today)), "pages"},
		{"pages 0", second(r.SubmitDocument(school, 3, 0, nil, false, today)), "pages"},
		{"item 13", second(r.SubmitDocument(school, 13, 1, nil, false, today)), "item"},
		{"issued in the future", second(r.SubmitDocument(school, 3, 1, &future, false, today)), "issued_on"},
		{"issued absurdly long ago", second(r.SubmitDocument(school, 3, 1, &old, false, today)), "issued_on"},
		{"semester letters", domain.ValidateSemester("abc-1"), "semester"},
		{"semester out of window", domain.ValidateSemester("999-1"), "semester"},
		{"meeting year", domain.ValidateSchedule(-99999999999, "march", today, ""), "academic_year"},
		{"meeting title NUL", domain.ValidateSchedule(114, "march", today, "a\x00"), "title"},
		{"appeal documents", domain.ValidateAppeal([]string{"parent"}, 1<<40), "documents"},
		{"release reason NUL", domain.ValidateRelease("left\x00"), "reason"},
		{"release reason blank", domain.ValidateRelease(" \n"), "reason"},
		{"enrolment override NUL", domain.ValidateEnrolment(8, "8-1", "\x00"), "override_reason"},
		{"class under another label", domain.ValidateEnrolment(8, "+8-1", ""), "class"},
		{"class with a leading zero", domain.ValidateEnrolment(8, "8-01", ""), "class"},
		{"health check ages ago", domain.ValidateHealthCheck(old, nil, today), "examined_on"},
		{"visit in the future", domain.ValidateVisit("visit", future, today), "on"},
		{"note with NUL", domain.CheckNote("note", "a\x00"), "note"},
		{"closure reason invalid UTF-8", domain.ValidateClosure("\xff"), "reason"},
	} {
		e := domain.AsError(c.err)
		if e.Code != domain.EInvalid || e.Fields[c.field] == "" {
			t.Errorf("%s: err = %v (fields %v), want invalid on %s", c.name, c.err, e.Fields, c.field)
		}
	}
	if _, err := r.SubmitDocument(school, 3, domain.MaxPages, nil, false, today); err != nil {
		t.Errorf("500 pages refused: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestIDForms(t *testing.T) {
	good := "r" + strings.Repeat("a", 20) + "2345"
	for _, id := range []string{"r>", "r*", "..", "", "r", strings.Repeat("r", 300), "R" + good[1:], good + "a", "r" + strings.Repeat("a", 23) + "1", "r\x00" + good[2:]} {
		if domain.IsReferralID(id) {
			t.Errorf("%q taken for a referral id", id)
		}
	}
	if !domain.IsReferralID(good) || domain.IsMeetingID(good) || !domain.IsMeetingID("m"+good[1:]) {
		t.Fatal("well-formed ids refused")
	}
}

// recordingSealer records the national IDs person keys are looked up for.
type recordingSealer struct {
	*events.Sealer
	ids []string
}

func (r *recordingSealer) PersonKeyID(ctx context.Context, nationalID string) (string, error) {
	r.ids = append(r.ids, nationalID)
	return r.Sealer.PersonKeyID(ctx, nationalID)
}
