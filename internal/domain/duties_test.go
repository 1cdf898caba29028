package domain_test

import (
	"slices"
	"sort"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

func d(y int, m time.Month, day int) calendar.Date { return calendar.NewDate(y, m, day) }

// Graduation (R-SUS "Decision (leaving)"): grade 9 leaves on Jul 31 of
// its academic year; an earlier end counts instead.
func TestEnrolmentLastDayIsGraduationOrTheEnd(t *testing.T) {
	for _, c := range []struct {
		on    calendar.Date
		grade int
		ended *calendar.Date
		want  calendar.Date
	}{
		{d(2026, 2, 11), 9, nil, d(2026, 7, 31)},
		{d(2026, 2, 11), 8, nil, d(2027, 7, 31)},
		{d(2025, 9, 1), 7, nil, d(2028, 7, 31)},
		{d(2026, 8, 1), 9, nil, d(2027, 7, 31)},
		{d(2026, 2, 11), 8, new(d(2026, 5, 20)), d(2026, 5, 20)},
	} {
		e := domain.DutyEnrolment{EnrolledOn: c.on, Grade: c.grade, EndedOn: c.ended}
		if got := e.LastDay(); got != c.want {
			t.Errorf("enrolled %s in grade %d: last day %s, want %s", c.on, c.grade, got, c.want)
		}
	}
}

// R-ENR-2: semester 1 runs Aug 1 – Jan 31, semester 2 Feb 1 – Jul 31; an
// enrolment owes the semesters it has begun, up to its last day.
func TestR_ENR_2_SemestersOfAnEnrolment(t *testing.T) {
	e := domain.DutyEnrolment{EnrolledOn: d(2026, 1, 31), Grade: 9}
	var got []string
	for _, s := range e.Semesters(d(2026, 12, 1)) {
		got = append(got, s.String())
	}
	if !slices.Equal(got, []string{"114-1", "114-2"}) {
		t.Fatalf("semesters %v, want [114-1 114-2] (graduated 2026-07-31)", got)
	}
	if s := (domain.Semester{Year: 114, Term: 1}); s.Start() != d(2025, 8, 1) || s.End() != d(2026, 1, 31) {
		t.Fatalf("114-1: %s – %s", s.Start(), s.End())
	}
	if s := (domain.Semester{Year: 114, Term: 2}); s.Start() != d(2026, 2, 1) || s.End() != d(2026, 7, 31) {
		t.Fatalf("114-2: %s – %s", s.Start(), s.End())
	}
	if got := e.Semesters(d(2026, 1, 30)); len(got) != 0 {
		t.Fatalf("semesters before the enrolment: %v", got)
	}
}

// R-ORG-5: every month with a student enrolled, July and August excepted,
// up to the as-of month; the duty starts on the first day enrolled.
func TestR_ORG_5_CoCounsellingMonths(t *testing.T) {
	es := []domain.DutyEnrolment{
		{EnrolledOn: d(2026, 6, 15), Grade: 9},                               // graduates 2026-07-31
		{EnrolledOn: d(2026, 9, 10), Grade: 8, EndedOn: new(d(2026, 10, 1))}, // two months
	}
	got := domain.CoCounsellingMonths(es, d(2026, 12, 31))
	var months []string
	for m := range got {
		months = append(months, m.String())
	}
	sort.Strings(months)
	if !slices.Equal(months, []string{"2026-06", "2026-09", "2026-10"}) {
		t.Fatalf("months %v", months)
	}
	if got[domain.MonthOf(d(2026, 6, 1))] != d(2026, 6, 15) || got[domain.MonthOf(d(2026, 10, 1))] != d(2026, 10, 1) {
		t.Fatalf("starts %v", got)
	}
	if got := domain.CoCounsellingMonths(es, d(2026, 6, 14)); len(got) != 0 {
		t.Fatalf("months before the enrolment: %v", got)
	}
	if m := domain.MonthOf(d(2028, 2, 3)); m.Last() != d(2028, 2, 29) {
		t.Fatalf("last day of 2028-02: %s", m.Last())
	}
}
