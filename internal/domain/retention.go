package domain

import (
	"slices"
	"strings"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Retention (學生輔導法施行細則 §10): guidance records are kept for ten
// years after the student leaves, then destroyed.

// RetentionYears is how long a case is kept after it closed.
const RetentionYears = 10

// ErasureRetention is the erasure reason the retention job records.
const ErasureRetention = "retention_expired"

// RetentionFacts is what the retention rule needs to know of one case.
type RetentionFacts struct {
	CaseID    string
	PersonKey string
	Branch    string
	Stage     Stage
	// StageOn is the date the case entered its current stage.
	StageOn calendar.Date
	// AcademicYear is the ROC academic year the application was made for.
	AcademicYear int
	// Grade is the grade at enrolment (or, before it, at filing).
	Grade  int
	OnHold bool
}

// academicYearEnd is Jul 31 at the end of ROC academic year y (year 114
// runs from Aug 1, 2025 to Jul 31, 2026).
func academicYearEnd(y int) calendar.Date { return calendar.NewDate(y+1912, time.July, 31) }

// ClosedOn returns the date a case closes, which may lie in the future for
// a case still open:
//   - a student who left (declined the place, left the class, suspended):
//     the day the place was released;
//   - not admitted: the day of the committee's rejection. A first review
//     that found the student not eligible closes nothing: the case goes on
//     the next docket and ends when the committee confirms it (R-MTG-2);
//   - lapsed (a returned application never re-submitted, R-MID-3): the day
//     it lapsed;
//   - enrolled: graduation, Jul 31 of the academic year in grade 9;
//   - any other application (returned and not re-submitted, pending or
//     not passed at first review and never resolved, admitted but never
//     enrolled, waiting): it lapses at the end of the academic year it was made for (R-MID-3; waiting-list entries lapse on
//     Jul 31).
func ClosedOn(f RetentionFacts) calendar.Date {
	switch f.Stage {
	case StageLeft, StageRejected, StageLapsed, StageSuspended:
		return f.StageOn
	case StageEnrolled:
		years := 0
		if f.Grade >= 1 && f.Grade < 9 {
			years = 9 - f.Grade
		}
		return academicYearEnd(f.AcademicYear + years)
	}
	return academicYearEnd(f.AcademicYear)
}

// RetentionEnd is the last day a case closed on closed is kept.
func RetentionEnd(closed calendar.Date) calendar.Date {
	return calendar.NewDate(closed.Year()+RetentionYears, closed.Month(), closed.Day())
}

// RetentionDue reports whether the case's retention has ended on today:
// it is kept through its retention end and destroyed after it.
func RetentionDue(f RetentionFacts, today calendar.Date) bool {
	return today.After(RetentionEnd(ClosedOn(f)))
}

// PersonDue reports whether a person may be erased on today: the data key
// is the person's, so every case of that person must be past its retention
// and none may be under a legal hold.
func PersonDue(cases []RetentionFacts, today calendar.Date) bool {
	if len(cases) == 0 {
		return false
	}
	for _, c := range cases {
		if c.OnHold || !RetentionDue(c, today) {
			return false
		}
	}
	return true
}

// HoldReasons are the categories of a legal hold; details go in the
// sealed note.
var HoldReasons = []string{"litigation", "investigation", "audit", "data_subject_dispute", "other"}

// LegalHold is a case's hold state, folded from its events.
type LegalHold struct{ On bool }

// Apply folds one event.
func (h *LegalHold) Apply(env events.Envelope) {
	switch env.Payload.(type) {
	case events.LegalHoldPlaced:
		h.On = true
	case events.LegalHoldLifted:
		h.On = false
	}
}

// PlaceHold records a legal hold on the case, which defers its erasure.
func (h LegalHold) PlaceHold(a events.Actor, reason string, note events.Sealed) (events.LegalHoldPlaced, error) {
	if a.Role != RoleAdmin {
		return events.LegalHoldPlaced{}, Errorf(EForbidden, "legal holds are placed by an admin")
	}
	if !slices.Contains(HoldReasons, reason) {
		return events.LegalHoldPlaced{}, Invalid(map[string]string{"reason": "must be " + strings.Join(HoldReasons, ", ")})
	}
	if h.On {
		return events.LegalHoldPlaced{}, Errorf(EConflict, "the case is already under a legal hold")
	}
	return events.LegalHoldPlaced{Reason: reason, Note: note}, nil
}

// LiftHold lifts the case's legal hold.
func (h LegalHold) LiftHold(a events.Actor) (events.LegalHoldLifted, error) {
	if a.Role != RoleAdmin {
		return events.LegalHoldLifted{}, Errorf(EForbidden, "legal holds are lifted by an admin")
	}
	if !h.On {
		return events.LegalHoldLifted{}, Errorf(EConflict, "the case is not under a legal hold")
	}
	return events.LegalHoldLifted{}, nil
}
