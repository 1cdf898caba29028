package domain_test

import (
	"math"
	"slices"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

func sd(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// statYear is a constructed academic year 114 (2025-08-01 … 2026-07-31).
// The expected figures below are counted by hand from it.
func statYear() []domain.StatStudent {
	return []domain.StatStudent{
		{ // s1: dropped out before Aug 1 and still out: B, P.
			Key: "s1", CaseIDs: []string{"c1"}, Sex: "M", Background: domain.BackgroundSingleParent, IdentityKnown: true,
			Enrolments: []domain.Enrolment{{From: sd("2024-09-01")}},
			Episodes:   []domain.StatEpisode{{CaseID: "c1", Episode: 1, Start: sd("2025-06-10"), Whereabouts: "unknown", Reason: "family"}},
		},
		{ // s2: two episodes in the year, both returned: A, C, G, H.
			Key: "s2", CaseIDs: []string{"c2"}, Sex: "F", Background: domain.BackgroundBothParents, IdentityKnown: true,
			Enrolments: []domain.Enrolment{{From: sd("2025-08-01")}},
			Episodes: []domain.StatEpisode{
				{CaseID: "c2", Episode: 1, Start: sd("2025-10-01"), Whereabouts: "known", Reason: "personal", Returned: sd("2025-10-20"), Closed: sd("2025-10-21")},
				{CaseID: "c2", Episode: 2, Start: sd("2026-03-02"), Whereabouts: "known", Reason: "school", Returned: sd("2026-03-10")},
			},
		},
		{ // s3: in both A and B; the B episode returned in the year (D);
			// the A episode whereabouts-unknown, found (E), still out (P); H.
			Key: "s3", CaseIDs: []string{"c3"}, Sex: "M", Background: domain.BackgroundNoParent, IdentityKnown: true,
			Identity:   []string{domain.IdentityInstitutionalCare},
			Enrolments: []domain.Enrolment{{From: sd("2024-08-01")}},
			Episodes: []domain.StatEpisode{
				{CaseID: "c3", Episode: 1, Start: sd("2025-05-01"), Whereabouts: "unknown", Reason: "social", Returned: sd("2025-09-15")},
				{CaseID: "c3", Episode: 2, Start: sd("2026-01-05"), Whereabouts: "unknown", Reason: "social", Found: sd("2026-01-20")},
			},
		},
		{ // s4: an episode from Jul 31 to Aug 1: A, but its return falls
			// after the period (not C) and it is over on the print date.
			Key: "s4", CaseIDs: []string{"c4"}, Sex: "F", Background: "",
			Enrolments: []domain.Enrolment{{From: sd("2025-09-01")}},
			Episodes:   []domain.StatEpisode{{CaseID: "c4", Episode: 1, Start: sd("2026-07-31"), Whereabouts: "known", Reason: "school", Returned: sd("2026-08-01")}},
		},
		{ // s5: enrolled, never out: AA only.
			Key: "s5", CaseIDs: []string{"c5"}, Sex: "M", Background: domain.BackgroundBothParents, IdentityKnown: true,
			Identity:   []string{domain.IdentityIndigenous},
			Enrolments: []domain.Enrolment{{From: sd("2025-08-01")}},
		},
		{ // s6: graduated the year before: in nothing.
			Key: "s6", CaseIDs: []string{"c6"}, Sex: "F", Background: domain.BackgroundSingleParent, IdentityKnown: true,
			Enrolments: []domain.Enrolment{{From: sd("2023-08-01"), Last: sd("2025-07-31")}},
			Episodes:   []domain.StatEpisode{{CaseID: "c6", Episode: 1, Start: sd("2024-01-01"), Whereabouts: "known", Reason: "other", Returned: sd("2024-02-01")}},
		},
		{ // s7: enrolled in the year; an episode after it: AA only.
			Key: "s7", CaseIDs: []string{"c7"}, Sex: "M", Background: domain.BackgroundBothParents, IdentityKnown: true,
			Enrolments: []domain.Enrolment{{From: sd("2026-02-01")}},
			Episodes:   []domain.StatEpisode{{CaseID: "c7", Episode: 1, Start: sd("2026-08-03"), Whereabouts: "unknown", Reason: "personal"}},
		},
	}
}

func wantCounts(t *testing.T, got domain.StatFigures, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if got.Counts[k] != v {
			t.Errorf("%s = %d, want %d (counts %v)", k, got.Counts[k], v, got.Counts)
		}
	}
}

func wantRate(t *testing.T, got domain.StatFigures, name string, num, den int) {
	t.Helper()
	r := got.Rates[name]
	if r.Numerator != num || r.Denominator != den {
		t.Errorf("%s = %d/%d, want %d/%d", name, r.Numerator, r.Denominator, num, den)
	}
	if den == 0 {
		if r.Value != nil || r.Undefined == "" {
			t.Errorf("%s with a zero denominator = %v, %q; want undefined with a reason", name, r.Value, r.Undefined)
		}
		return
	}
	if r.Value == nil || math.Abs(*r.Value-float64(num)/float64(den)) > 1e-12 {
		t.Errorf("%s = %v, want %d/%d", name, r.Value, num, den)
	}
}

// TestR_STAT_1_ConstructedYear checks every figure and rate of R-STAT-1 on
// a year counted by hand.
func TestR_STAT_1_ConstructedYear(t *testing.T) {
	p := domain.NewStatPeriod(114, sd("2026-08-05"))
	tab := domain.DropoutStatistics(p, statYear())
	wantCounts(t, tab.Total, map[string]int{"AA": 6, "A": 3, "B": 2, "C": 1, "D": 1, "E": 1, "F": 0, "G": 1, "H": 2, "P": 2})
	wantRate(t, tab.Total, "I", 1, 3)
	wantRate(t, tab.Total, "J", 2, 5)
	wantRate(t, tab.Total, "K", 1, 3)
	wantRate(t, tab.Total, "L", 1, 2)
	wantRate(t, tab.Total, "M", 2, 5)
	wantRate(t, tab.Total, "N", 3, 6)
	wantRate(t, tab.Total, "O", 2, 6)
}

// TestR_STAT_1_PrintDateCutsLaterFacts: printed on 2026-03-05, s2's
// second episode is still open (its return comes later) and s4's episode
// has not begun; s7, enrolled from Feb 1, is in AA already.
func TestR_STAT_1_PrintDateCutsLaterFacts(t *testing.T) {
	p := domain.NewStatPeriod(114, sd("2026-03-05"))
	tab := domain.DropoutStatistics(p, statYear())
	wantCounts(t, tab.Total, map[string]int{"AA": 6, "A": 2, "B": 2, "C": 1, "D": 1, "E": 1, "G": 1, "H": 2, "P": 3})
}

// TestR_STAT_1_ZeroDenominatorIsUndefined: a year with no dropouts has
// rates that are undefined, not 0.
func TestR_STAT_1_ZeroDenominatorIsUndefined(t *testing.T) {
	p := domain.NewStatPeriod(112, sd("2024-08-05"))
	tab := domain.DropoutStatistics(p, statYear()[5:6])
	wantCounts(t, tab.Total, map[string]int{"AA": 1, "A": 1, "B": 0})
	wantRate(t, tab.Total, "L", 0, 0)
	wantRate(t, tab.Total, "N", 1, 1)
	none := domain.DropoutStatistics(domain.NewStatPeriod(110, sd("2022-08-05")), statYear())
	for _, r := range domain.StatRates {
		if none.Total.Rates[r].Value != nil {
			t.Errorf("year with nobody: rate %s = %v, want undefined", r, *none.Total.Rates[r].Value)
		}
	}
}

// TestR_STAT_2_Breakdowns counts each category by hand.
func TestR_STAT_2_Breakdowns(t *testing.T) {
	tab := domain.DropoutStatistics(domain.NewStatPeriod(114, sd("2026-08-05")), statYear())
	row := func(dim, v string) domain.StatFigures {
		for _, r := range tab.Breakdowns[dim] {
			if r.Value == v {
				return r.StatFigures
			}
		}
		t.Fatalf("no row %s=%s", dim, v)
		return domain.StatFigures{}
	}
	wantCounts(t, row("sex", "M"), map[string]int{"AA": 4, "A": 1, "B": 2, "P": 2})
	wantCounts(t, row("sex", "F"), map[string]int{"AA": 2, "A": 2, "B": 0, "G": 1})
	wantCounts(t, row("background", domain.CategoryUnknown), map[string]int{"AA": 1, "A": 1})
	wantCounts(t, row("identity", domain.CategoryUnknown), map[string]int{"AA": 1, "A": 1})
	wantCounts(t, row("identity", domain.IdentityInstitutionalCare), map[string]int{"AA": 1, "A": 1, "B": 1, "E": 1})
	wantCounts(t, row("whereabouts", "unknown"), map[string]int{"A": 1, "B": 2, "E": 1})
	wantCounts(t, row("whereabouts", "known"), map[string]int{"A": 2, "B": 0})
	wantCounts(t, row("reason", "social"), map[string]int{"A": 1, "B": 1})
	if _, ok := row("whereabouts", "known").Counts["AA"]; ok {
		t.Error("the whereabouts breakdown has an AA: enrolled students without an episode have no whereabouts")
	}
	wantRate(t, row("sex", "F"), "L", 0, 0)
}

// TestR_STAT_1_ExplainListsExactlyTheStudents: each figure's drill-down
// lists exactly the students its count counts.
func TestR_STAT_1_ExplainListsExactlyTheStudents(t *testing.T) {
	p := domain.NewStatPeriod(114, sd("2026-08-05"))
	students := statYear()
	tab := domain.DropoutStatistics(p, students)
	want := map[string][]string{"A": {"c2", "c3", "c4"}, "B": {"c1", "c3"}, "H": {"c2", "c3"}, "P": {"c1", "c3"}, "E": {"c3"}, "F": {}}
	for _, fig := range domain.StatCounts {
		got, ok := domain.ExplainFigure(p, students, fig)
		if !ok {
			t.Fatalf("figure %s unknown", fig)
		}
		if len(got) != tab.Total.Counts[fig] {
			t.Errorf("explain %s lists %d students, the table counts %d", fig, len(got), tab.Total.Counts[fig])
		}
		if w, ok := want[fig]; ok {
			var ids []string
			for _, e := range got {
				ids = append(ids, e.CaseIDs...)
			}
			if !slices.Equal(ids, w) && !(len(ids) == 0 && len(w) == 0) {
				t.Errorf("explain %s = %v, want %v", fig, ids, w)
			}
		}
	}
	h, _ := domain.ExplainFigure(p, students, "H")
	if len(h) != 2 || len(h[1].Episodes) != 2 || h[1].Episodes[0] != (domain.EpisodeRef{CaseID: "c3", Episode: 1}) {
		t.Errorf("explain H = %+v: want s3 with both its episodes", h)
	}
	if _, ok := domain.ExplainFigure(p, students, "I"); ok {
		t.Error("a rate has no student list")
	}
}
