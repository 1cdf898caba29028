package events

import "cihui/internal/domain/calendar"

// The dated roster and the academic year (R-CAP-1 decision, R-SUS-1
// decision on leaving, R-SOY-5): the roll-over on Aug 1, graduations,
// lapsed waiting-list entries, class proposals, and a case's recorded
// major reason for a transfer (R-EXCL-4).

// YearRolledOver (roster): academic year Year (ROC) began on On (Aug 1).
// Grades advanced (7→8, 8→9), the grade-9 students of the year before
// graduated on Jul 31 (their SeatReleased precede this event in the same
// append), the year's waiting list lapsed, and classes are proposed for
// the social worker to confirm (ClassesConfirmed). Recorded once a year.
type YearRolledOver struct {
	Year      int               `json:"year"`
	On        calendar.Date     `json:"on"`
	Advanced  []string          `json:"advanced"`
	Graduated []string          `json:"graduated"`
	Lapsed    []string          `json:"lapsed"`
	Proposal  []ClassAssignment `json:"proposal"`
}

// EventType implements Event.
func (YearRolledOver) EventType() string { return "YearRolledOver" }

// ClassAssignment places one case's student in a class.
type ClassAssignment struct {
	CaseID string `json:"case_id"`
	Grade  int    `json:"grade"`
	Class  string `json:"class"`
}

// ClassesConfirmed (roster): the social worker confirmed the year's class
// assignment (the roll-over's proposal, with any changes).
type ClassesConfirmed struct {
	Year        int               `json:"year"`
	Assignments []ClassAssignment `json:"assignments"`
}

// EventType implements Event.
func (ClassesConfirmed) EventType() string { return "ClassesConfirmed" }

// WaitlistLeft (roster): a case left the waiting list without a place:
// withdrawn (the case withdrew) or lapsed (the year it was made for
// ended on Jul 31, R-SUS-1 decision).
type WaitlistLeft struct {
	CaseID string `json:"case_id"`
	Ending string `json:"ending"` // withdrawn | lapsed
}

// EventType implements Event.
func (WaitlistLeft) EventType() string { return "WaitlistLeft" }

// GradeAdvanced (case): on Aug 1 of Year the student advanced to Grade.
type GradeAdvanced struct {
	Year  int `json:"year"`
	Grade int `json:"grade"`
}

// EventType implements Event.
func (GradeAdvanced) EventType() string { return "GradeAdvanced" }

// Graduated (case): the grade-9 student graduated; the place was held
// until On (Jul 31). The case's end state is graduated.
type Graduated struct {
	On calendar.Date `json:"on"`
}

// EventType implements Event.
func (Graduated) EventType() string { return "Graduated" }

// WaitlistLapsed (case): the waiting-list entry lapsed at the end of the
// academic year it was made for (Jul 31, R-SUS-1 decision); the origin
// school gets a letter. The case's end state is lapsed.
type WaitlistLapsed struct {
	Year   int           `json:"year"`
	On     calendar.Date `json:"on"`
	Letter Letter        `json:"letter"`
}

// EventType implements Event.
func (WaitlistLapsed) EventType() string { return "WaitlistLapsed" }

// ClassAssigned (case): the student's class for academic year Year, as
// the social worker confirmed it after the roll-over.
type ClassAssigned struct {
	Year  int    `json:"year"`
	Grade int    `json:"grade"`
	Class string `json:"class"`
}

// EventType implements Event.
func (ClassAssigned) EventType() string { return "ClassAssigned" }

// MajorReasonRecorded (case): a major reason for a transfer of a grade-9
// student in the second semester (R-EXCL-4). Free text, sealed.
type MajorReasonRecorded struct {
	Reason Sealed `json:"reason"`
}

// EventType implements Event.
func (MajorReasonRecorded) EventType() string { return "MajorReasonRecorded" }

func registerRoster(r *Registry) {
	for _, e := range []Event{YearRolledOver{}, ClassesConfirmed{}, WaitlistLeft{}, GradeAdvanced{},
		Graduated{}, WaitlistLapsed{}, ClassAssigned{}, MajorReasonRecorded{}} {
		r.Register(e, 1)
	}
}
