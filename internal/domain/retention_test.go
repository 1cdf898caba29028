package domain

import (
	"testing"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

func TestClosedOn(t *testing.T) {
	d := calendar.NewDate(2026, time.March, 3)
	for _, tc := range []struct {
		name string
		f    RetentionFacts
		want calendar.Date
	}{
		{"left on the release day", RetentionFacts{Stage: StageLeft, StageOn: d, AcademicYear: 114}, d},
		{"rejected on the rejection day", RetentionFacts{Stage: StageRejected, StageOn: d, AcademicYear: 114}, d},
		// R-MTG-2: not passed at first review is still open: it goes on the
		// docket; unresolved, it lapses like any pending application.
		{"not eligible lapses at the academic year's end", RetentionFacts{Stage: StageNotEligible, StageOn: d, AcademicYear: 114}, calendar.NewDate(2026, time.July, 31)},
		{"returned lapses at the academic year's end", RetentionFacts{Stage: StageReturned, StageOn: d, AcademicYear: 114}, calendar.NewDate(2026, time.July, 31)},
		{"waiting lapses at the academic year's end", RetentionFacts{Stage: StageWaitlisted, StageOn: d, AcademicYear: 115}, calendar.NewDate(2027, time.July, 31)},
		{"enrolled in grade 8 graduates a year later", RetentionFacts{Stage: StageEnrolled, StageOn: d, AcademicYear: 114, Grade: 8}, calendar.NewDate(2027, time.July, 31)},
		{"enrolled in grade 9 graduates that year", RetentionFacts{Stage: StageEnrolled, StageOn: d, AcademicYear: 114, Grade: 9}, calendar.NewDate(2026, time.July, 31)},
	} {
		if got := ClosedOn(tc.f); got != tc.want {
			t.Errorf("%s: closed on %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestRetentionDue_TenYearsAndADay: kept through the tenth anniversary of
// the close, due the day after (學生輔導法施行細則 §10).
func TestRetentionDue_TenYearsAndADay(t *testing.T) {
	f := RetentionFacts{Stage: StageRejected, StageOn: calendar.NewDate(2026, time.March, 3)}
	end := calendar.NewDate(2036, time.March, 3)
	if got := RetentionEnd(ClosedOn(f)); got != end {
		t.Fatalf("retention end %s, want %s", got, end)
	}
	if RetentionDue(f, end.AddDays(-1)) || RetentionDue(f, end) {
		t.Error("due before or on the retention end")
	}
	if !RetentionDue(f, end.AddDays(1)) {
		t.Error("not due the day after the retention end")
	}
}

// TestPersonDue_EveryCaseAndNoHold: the key is the person's, so one case
// still kept or held keeps the person.
func TestPersonDue_EveryCaseAndNoHold(t *testing.T) {
	old := RetentionFacts{Stage: StageRejected, StageOn: calendar.NewDate(2010, time.March, 3)}
	recent := RetentionFacts{Stage: StageRejected, StageOn: calendar.NewDate(2022, time.March, 3)}
	today := calendar.NewDate(2031, time.January, 1)
	if !PersonDue([]RetentionFacts{old}, today) {
		t.Error("one old case: not due")
	}
	if PersonDue([]RetentionFacts{old, recent}, today) {
		t.Error("due although another case of the person is still kept")
	}
	held := old
	held.OnHold = true
	if PersonDue([]RetentionFacts{held}, today) {
		t.Error("due although under a legal hold")
	}
	if PersonDue(nil, today) {
		t.Error("no cases: due")
	}
}

func TestLegalHold(t *testing.T) {
	admin := events.Actor{Role: RoleAdmin}
	var h LegalHold
	if _, err := h.PlaceHold(events.Actor{Role: RoleSocialWorker}, "litigation", events.Sealed{}); ErrorCode(err) != EForbidden {
		t.Errorf("social worker placed a hold: %v", err)
	}
	if _, err := h.PlaceHold(admin, "because", events.Sealed{}); ErrorCode(err) != EInvalid {
		t.Errorf("free-text reason accepted: %v", err)
	}
	if _, err := h.LiftHold(admin); ErrorCode(err) != EConflict {
		t.Errorf("lifted a hold that was not placed: %v", err)
	}
	e, err := h.PlaceHold(admin, "litigation", events.Sealed{})
	if err != nil {
		t.Fatal(err)
	}
	h.Apply(events.Envelope{Payload: e})
	if _, err := h.PlaceHold(admin, "audit", events.Sealed{}); ErrorCode(err) != EConflict {
		t.Errorf("placed a second hold: %v", err)
	}
	l, err := h.LiftHold(admin)
	if err != nil {
		t.Fatal(err)
	}
	h.Apply(events.Envelope{Payload: l})
	if h.On {
		t.Error("still on hold after the lift")
	}
}

func TestErase_SystemOnlyForRetention(t *testing.T) {
	r := Referral{PersonKey: "k"}
	sys := events.Actor{Role: events.RoleSystem}
	if _, err := r.Erase(sys, "data_subject_request"); ErrorCode(err) != EForbidden {
		t.Errorf("system erased for a data subject request: %v", err)
	}
	if e, err := r.Erase(sys, ErasureRetention); err != nil || e.Reason != ErasureRetention {
		t.Errorf("system retention erasure: %v %+v", err, e)
	}
}

// R-MTG-2: a first review that finds the student not eligible closes
// nothing (the case goes on the next docket and ends when the committee
// confirms it with reject): ten years and a day after that review, it is
// not due; the committee's rejection on the same day would be.
func TestR_MTG_2_NotEligibleIsNotClosedAtFirstReview(t *testing.T) {
	d := calendar.NewDate(2026, time.March, 3)
	later := calendar.NewDate(2036, time.March, 4)
	if RetentionDue(RetentionFacts{Stage: StageNotEligible, StageOn: d, AcademicYear: 114}, later) {
		t.Error("a case not passed at first review counted as closed on the review day")
	}
	if !RetentionDue(RetentionFacts{Stage: StageRejected, StageOn: d, AcademicYear: 114}, later) {
		t.Error("a case the committee rejected is not due ten years and a day later")
	}
}
