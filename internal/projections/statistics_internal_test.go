package projections

import (
	"fmt"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

func tday(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// R-STAT-1 (counting decision: persons): the loader makes one student of
// a person's cases, takes the enrolment ranges from the dated roster (cut
// at the case's end while the seat is not released), falls back on the
// case's enrolment and end days where the roster has no seat, and takes
// the categories of the latest case that knows them.
func TestR_STAT_1_LoaderCountsPersonsAndDatedRanges(t *testing.T) {
	rows := []statCase{
		// Person p1, first case: enrolled, left on 2025-03-31 (seat released).
		{ID: "c1", PersonKey: "p1", Sex: "F", Background: "single_parent", Identified: true, Identity: []string{"indigenous"},
			EnrolledOn: tday("2024-09-02"), EndedOn: tday("2025-03-31"), SeatFrom: tday("2024-09-02"), SeatLast: tday("2025-03-31"), Released: true},
		// Person p1, second case: categories never recorded; seat held to
		// the planned graduation but the case ended (graduated) earlier.
		{ID: "c2", PersonKey: "p1", Sex: "F", Background: "unknown",
			EnrolledOn: tday("2025-09-01"), EndedOn: tday("2026-06-30"), SeatFrom: tday("2025-09-01"), SeatLast: tday("2026-07-31")},
		// Person p2: recorded before the roster was dated: no seat.
		{ID: "c3", PersonKey: "p2", Sex: "M", Background: "both_parents", Identified: true, Identity: []string{},
			EnrolledOn: tday("2023-02-01")},
		// No person key: the case is the student.
		{ID: "c4", Sex: "M", Background: "unknown", EnrolledOn: tday("2025-02-01"), EndedOn: tday("2025-05-01")},
	}
	eps := []Episode{
		{CaseID: "c1", Episode: 1, FirstDayAbsent: *tday("2025-01-06"), Whereabouts: "unknown", Reason: "family", FoundOn: tday("2025-01-20"), ClosedOn: tday("2025-03-31")},
		{CaseID: "c2", Episode: 1, FirstDayAbsent: *tday("2025-10-06"), Whereabouts: "known", Reason: "school", ReturnedOn: tday("2025-10-10"), ClosedOn: tday("2025-10-11")},
		{CaseID: "gone", Episode: 1, FirstDayAbsent: *tday("2025-10-06"), Whereabouts: "known", Reason: "school"},
	}
	got := statStudents(rows, eps)
	if len(got) != 3 {
		t.Fatalf("%d students, want 3 (two cases of p1 are one student): %+v", len(got), got)
	}
	p1, p2, c4 := got[0], got[1], got[2]
	if p1.Key != "p1" || fmt.Sprint(p1.CaseIDs) != "[c1 c2]" || len(p1.Episodes) != 2 {
		t.Fatalf("p1: %+v", p1)
	}
	if p1.Background != "single_parent" || !p1.IdentityKnown || fmt.Sprint(p1.Identity) != "[indigenous]" {
		t.Errorf("p1's categories (the latest case that knows them): %q %v %v", p1.Background, p1.IdentityKnown, p1.Identity)
	}
	if fmt.Sprint(p1.Enrolments) != "[{2024-09-02 2025-03-31} {2025-09-01 2026-06-30}]" {
		t.Errorf("p1's ranges: %v", p1.Enrolments)
	}
	if p1.Episodes[0].Found.String() != "2025-01-20" || p1.Episodes[1].Returned.String() != "2025-10-10" || p1.Episodes[1].Closed.String() != "2025-10-11" {
		t.Errorf("p1's episodes: %+v", p1.Episodes)
	}
	if p2.Key != "p2" || len(p2.Enrolments) != 1 || p2.Enrolments[0].From.String() != "2023-02-01" || !p2.Enrolments[0].Last.IsZero() ||
		!p2.IdentityKnown || len(p2.Identity) != 0 || p2.Background != "both_parents" {
		t.Errorf("p2 (no seat, open-ended): %+v", p2)
	}
	if c4.Key != "c4" || c4.Background != domain.CategoryUnknown || c4.IdentityKnown || fmt.Sprint(c4.Enrolments) != "[{2025-02-01 2025-05-01}]" {
		t.Errorf("c4: %+v", c4)
	}

	// Counted as one student: AA 1, A 1 for year 114, though both cases
	// were enrolled; H 1, the episodes of both cases counted together.
	tab := domain.DropoutStatistics(domain.NewStatPeriod(114, *civilPtr(tday("2026-08-05"))), got[:1])
	if tab.Total.Counts["AA"] != 1 || tab.Total.Counts["A"] != 1 || tab.Total.Counts["B"] != 0 || tab.Total.Counts["H"] != 1 {
		t.Errorf("p1 in year 114: %v", tab.Total.Counts)
	}
}

// R-STAT-1: an episode still open when the case ended (suspended while
// out, R-SUS-1 (4)) stops counting the student out from the next day: not
// in the next year's B, not in P on a later print date. A planned end
// (a graduation ahead) does not end it.
func TestR_STAT_1_EpisodeEndsWithTheEnrolment(t *testing.T) {
	d := func(s string) calendar.Date {
		v, err := calendar.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	suspended := domain.StatStudent{Key: "s", CaseIDs: []string{"c1"}, Sex: "M",
		Enrolments: []domain.Enrolment{{From: d("2025-09-01"), Last: d("2026-06-15")}},
		Episodes:   []domain.StatEpisode{{CaseID: "c1", Episode: 1, Start: d("2026-05-20"), Whereabouts: "unknown", Reason: "family"}}}
	staying := domain.StatStudent{Key: "t", CaseIDs: []string{"c2"}, Sex: "F",
		Enrolments: []domain.Enrolment{{From: d("2025-09-01"), Last: d("2027-07-31")}},
		Episodes:   []domain.StatEpisode{{CaseID: "c2", Episode: 1, Start: d("2026-05-20"), Whereabouts: "unknown", Reason: "family"}}}
	ended := map[string]calendar.Date{"c1": d("2026-06-15")}
	endWithEnrolment(&suspended, ended)
	endWithEnrolment(&staying, ended)
	if got := suspended.Episodes[0].Closed; got != d("2026-06-16") {
		t.Fatalf("suspended student's open episode closes on %s, want 2026-06-16", got)
	}
	if got := staying.Episodes[0].Closed; !got.IsZero() {
		t.Fatalf("a planned graduation closed an open episode on %s", got)
	}
	students := []domain.StatStudent{suspended, staying}
	y114 := domain.DropoutStatistics(domain.NewStatPeriod(114, d("2026-08-05")), students)
	if a, p := y114.Total.Counts["A"], y114.Total.Counts["P"]; a != 2 || p != 1 {
		t.Errorf("year 114: A %d P %d, want A 2 (both dropped out) and P 1 (only the student still enrolled is out)", a, p)
	}
	y115 := domain.DropoutStatistics(domain.NewStatPeriod(115, d("2027-08-05")), students)
	if b := y115.Total.Counts["B"]; b != 1 {
		t.Errorf("year 115: B %d, want 1 (the suspended student is no longer the branch's)", b)
	}
}
