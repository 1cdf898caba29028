package events

import "cihui/internal/domain/calendar"

// MeetingScheduled: a second-review meeting of the city committee was
// scheduled (R-MTG-1).
type MeetingScheduled struct {
	MeetingID    string        `json:"meeting_id"`
	AcademicYear int           `json:"academic_year"`
	Kind         string        `json:"kind"` // start_of_year | march | october | december | extra
	Date         calendar.Date `json:"date"`
	Title        string        `json:"title"`
}

// EventType implements Event.
func (MeetingScheduled) EventType() string { return "MeetingScheduled" }

// MeetingOpened: the meeting is open for resolutions; a committee has one
// open meeting at a time.
type MeetingOpened struct {
	MeetingID string `json:"meeting_id"`
}

// EventType implements Event.
func (MeetingOpened) EventType() string { return "MeetingOpened" }

// ResolutionRecorded: the committee's one resolution on a docket case
// (R-MTG-3). The reason is sealed: it may describe the family.
type ResolutionRecorded struct {
	CaseID     string `json:"case_id"`
	Resolution string `json:"resolution"` // admit | waitlist | reject; for a suspension case suspend | continue
	// Destination of a suspend resolution (R-SUS-4): origin_school |
	// social_welfare | judicial.
	Destination string `json:"destination,omitempty"`
	Reason      Sealed `json:"reason,omitzero"`
	// Finding is a committee finding a reject cites: "R-EXCL-3" (unfit
	// for group living and boarding), shown in the letter.
	Finding string `json:"finding,omitempty"`
}

// EventType implements Event.
func (ResolutionRecorded) EventType() string { return "ResolutionRecorded" }

// MeetingClosed: the meeting closed and its resolutions took effect.
type MeetingClosed struct {
	MeetingID string        `json:"meeting_id"`
	On        calendar.Date `json:"on"`
}

// EventType implements Event.
func (MeetingClosed) EventType() string { return "MeetingClosed" }

// AppealFiled: stakeholders of a to-discuss or not-passed case ask to
// submit documents and attend the second review (R-SOY-4). Who attends is
// recorded by role; names are sealed.
type AppealFiled struct {
	Attendees []string `json:"attendees"` // student | parent | school | network_unit
	Documents int      `json:"documents"`
	Details   Sealed   `json:"details,omitzero"`
}

// EventType implements Event.
func (AppealFiled) EventType() string { return "AppealFiled" }

// SeatTaken (roster): a case took one of the branch's places (R-CAP-1).
type SeatTaken struct {
	CaseID string `json:"case_id"`
	// PersonKey is the student's data-key id (ReferralOpened.PersonKey):
	// one student holds at most one place (R-CAP-1). Empty in events
	// recorded before it was carried.
	PersonKey string `json:"person_key,omitempty"`
	Cap       int    `json:"cap"`
	Taken     int    `json:"taken"` // seats taken after this event
	// Dated roster (R-CAP-1 decision): the seat is held from From to Last
	// inclusive. From is Aug 1 of the academic year for a start-of-year
	// admission, the day the meeting closes (or the place is offered) for
	// a mid-year one; Last is the planned graduation day (Jul 31 of grade
	// 9). Grade is the student's grade in academic year GradeYear. Events
	// recorded before dates were carried have none: the seat holds from
	// the event's day, open-ended (domain.Roster.Apply).
	From      *calendar.Date `json:"from,omitempty"`
	Last      *calendar.Date `json:"last,omitempty"`
	Grade     int            `json:"grade,omitempty"`
	GradeYear int            `json:"grade_year,omitempty"`
}

// EventType implements Event.
func (SeatTaken) EventType() string { return "SeatTaken" }

// SeatReleased (roster): a place became free. Schema v1 also copied the
// case's free-text reason here, in the clear; v2 keeps it only on the
// case's PlaceReleased, sealed (issue 8, finding 5).
type SeatReleased struct {
	CaseID string `json:"case_id"`
	// Last is the last day the seat is held (R-CAP-1 decision): the day
	// before an exit or a declined place takes effect, Jul 31 for a
	// graduate. Events recorded before it was carried have none: the seat
	// ends the day before the event's day (domain.Roster.Apply).
	Last *calendar.Date `json:"last,omitempty"`
	// Ending says why: declined | withdrawn | graduated | suspended | left
	// (a code, never free text).
	Ending string `json:"ending,omitempty"`
}

// EventType implements Event.
func (SeatReleased) EventType() string { return "SeatReleased" }

// WaitlistJoined (roster): a case joined the waiting list (R-SOY-5).
type WaitlistJoined struct {
	CaseID string `json:"case_id"`
	// ApplicationPosition orders the list: application time.
	ApplicationPosition uint64 `json:"application_position"`
}

// EventType implements Event.
func (WaitlistJoined) EventType() string { return "WaitlistJoined" }

// Admitted (case): the case took a place at a meeting's close, in order of
// application time (R-SOY-5).
type Admitted struct {
	MeetingID    string         `json:"meeting_id"`
	ReportBy     *calendar.Date `json:"report_by,omitempty"`
	Letter       Letter         `json:"letter"`
	FromWaitlist bool           `json:"from_waitlist,omitempty"`
}

// EventType implements Event.
func (Admitted) EventType() string { return "Admitted" }

// Waitlisted (case): the case passed but no place was free, or the
// meeting resolved to waitlist it.
type Waitlisted struct {
	MeetingID string `json:"meeting_id"`
	Letter    Letter `json:"letter"`
}

// EventType implements Event.
func (Waitlisted) EventType() string { return "Waitlisted" }

// Rejected (case): the meeting did not admit the case.
type Rejected struct {
	MeetingID string `json:"meeting_id"`
	Reason    Sealed `json:"reason,omitzero"`
	Letter    Letter `json:"letter"`
}

// EventType implements Event.
func (Rejected) EventType() string { return "Rejected" }

// PlaceReleased (case): an admitted or enrolled student left the place
// (declined, withdrew, exited). The reason is free text about the student
// and is sealed with their key (schema v2).
type PlaceReleased struct {
	Reason Sealed `json:"reason,omitzero"`
	// EndState is the case's end state (declined: an admission not taken
	// up; withdrawn: a waiting case left the list; legacy events: left),
	// and Last the last day the place was held, if one was.
	EndState string         `json:"end_state,omitempty"`
	Last     *calendar.Date `json:"last,omitempty"`
	// LegacyReason is the reason of a schema v1 event, which held it in
	// the clear. Never written; shown nowhere.
	LegacyReason string `json:"legacy_reason,omitempty"`
}

// EventType implements Event.
func (PlaceReleased) EventType() string { return "PlaceReleased" }

// HealthCheckRecorded (case): the health check for admission (R-ENR-1).
type HealthCheckRecorded struct {
	ExaminedOn calendar.Date  `json:"examined_on"`
	Infectious bool           `json:"infectious"`
	ClearedOn  *calendar.Date `json:"cleared_on,omitempty"`
}

// EventType implements Event.
func (HealthCheckRecorded) EventType() string { return "HealthCheckRecorded" }

// Enrolled (case): the student reported and was enrolled in a class.
type Enrolled struct {
	On    calendar.Date `json:"on"`
	Grade int           `json:"grade"`
	Class string        `json:"class"`
	// OverrideReason (R-CAP-2) is free text and is sealed with the
	// student's key (schema v2).
	OverrideReason Sealed `json:"override_reason,omitzero"`
	// LegacyOverrideReason is the reason of a schema v1 event, which held
	// it in the clear. Never written; shown nowhere.
	LegacyOverrideReason string `json:"legacy_override_reason,omitempty"`
}

// EventType implements Event.
func (Enrolled) EventType() string { return "Enrolled" }

// SeatEnrolled (roster): the place's holder enrolled, in a class.
type SeatEnrolled struct {
	CaseID string `json:"case_id"`
	Grade  int    `json:"grade"`
	Class  string `json:"class"`
}

// EventType implements Event.
func (SeatEnrolled) EventType() string { return "SeatEnrolled" }

// RegistrationRecorded (case): the per-semester registration at the origin
// school (R-ENR-2).
type RegistrationRecorded struct {
	Semester string `json:"semester"` // e.g. "114-2"
}

// EventType implements Event.
func (RegistrationRecorded) EventType() string { return "RegistrationRecorded" }
