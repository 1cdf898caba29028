package events

import "cihui/internal/domain/calendar"

// The enrolled life of a case (issue 10): dropout episodes (R-ORG-4),
// suspension grounds (R-SUS-1), adaptation meetings (R-ENR-4) and the
// 中止就讀 procedure (R-SUS-2..4). All of them live on the referral's
// stream. Free text about the student is sealed; codes and dates are in
// the clear, so that the statistics (R-STAT-1, R-STAT-2) survive an
// erasure.

// DropoutOpened: the branch school recorded that an enrolled student
// dropped out (中輟) and notified the origin school (R-ORG-4). Episodes are
// numbered 1, 2, … per case.
type DropoutOpened struct {
	Episode        int           `json:"episode"`
	FirstDayAbsent calendar.Date `json:"first_day_absent"`
	// Whereabouts: unknown (行蹤不明) | known (非行蹤不明), R-STAT-2.
	Whereabouts string `json:"whereabouts"`
	// Reason: personal | family | school | social | other (輟學原因, R-STAT-2).
	Reason string `json:"reason"`
	// SubReason is a code from the domain's closed list for Reason; empty
	// when none is given.
	SubReason string `json:"sub_reason,omitempty"`
	Note      Sealed `json:"note,omitzero"`
	Letter    Letter `json:"letter"`
}

// EventType implements Event.
func (DropoutOpened) EventType() string { return "DropoutOpened" }

// DropoutReported: the origin school filed the national dropout report
// for an episode (R-ORG-4).
type DropoutReported struct {
	Episode    int           `json:"episode"`
	ReportedOn calendar.Date `json:"reported_on"`
}

// EventType implements Event.
func (DropoutReported) EventType() string { return "DropoutReported" }

// DropoutFollowUpLogged: one school logged follow-up, a search or
// counselling for an episode (R-ORG-4).
type DropoutFollowUpLogged struct {
	Episode int           `json:"episode"`
	Kind    string        `json:"kind"`  // follow_up | search | counselling
	Party   string        `json:"party"` // branch | origin_school
	On      calendar.Date `json:"on"`
	Note    Sealed        `json:"note,omitzero"`
}

// EventType implements Event.
func (DropoutFollowUpLogged) EventType() string { return "DropoutFollowUpLogged" }

// DropoutFound: a whereabouts-unknown student was found (R-SUS-1 (4), (5);
// R-STAT-1 E, F).
type DropoutFound struct {
	Episode int           `json:"episode"`
	FoundOn calendar.Date `json:"found_on"`
}

// EventType implements Event.
func (DropoutFound) EventType() string { return "DropoutFound" }

// DropoutReturned: the student returned to school (復學); the absence
// ends on ReturnedOn (R-STAT-1 C, D).
type DropoutReturned struct {
	Episode    int           `json:"episode"`
	ReturnedOn calendar.Date `json:"returned_on"`
}

// EventType implements Event.
func (DropoutReturned) EventType() string { return "DropoutReturned" }

// DropoutClosed: the episode's follow-up ended (R-ORG-4 「至結案為止」).
// Outcome: returned | left (the enrolment ended) | other.
type DropoutClosed struct {
	Episode  int           `json:"episode"`
	ClosedOn calendar.Date `json:"closed_on"`
	Outcome  string        `json:"outcome"`
}

// EventType implements Event.
func (DropoutClosed) EventType() string { return "DropoutClosed" }

// SuspensionGroundRecorded: staff recorded one of the grounds of R-SUS-1
// that need evidence: 1 (referral reason gone), 2 (no longer wants to
// attend), 3 (serious misconduct) or 6 (cannot adapt to boarding). Grounds
// 4 and 5 are detected from the dropout episodes by date, never recorded.
type SuspensionGroundRecorded struct {
	Ground   int           `json:"ground"`
	On       calendar.Date `json:"on"`
	Evidence Sealed        `json:"evidence,omitzero"`
}

// EventType implements Event.
func (SuspensionGroundRecorded) EventType() string { return "SuspensionGroundRecorded" }

// AdaptationMeetingHeld: the branch school's adaptation meeting
// (就讀輔導會議, R-ENR-4). propose_end opens the suspension procedure; it
// does not end the enrolment.
type AdaptationMeetingHeld struct {
	On      calendar.Date `json:"on"`
	Outcome string        `json:"outcome"` // continue | propose_end
	Notes   Sealed        `json:"notes,omitzero"`
}

// EventType implements Event.
func (AdaptationMeetingHeld) EventType() string { return "AdaptationMeetingHeld" }

// SuspensionOpened: the branch school opened the 中止就讀 procedure with
// its grounds (R-SUS-1 numbers 1–6), by itself or from an adaptation
// meeting's propose_end (R-ENR-4).
type SuspensionOpened struct {
	Grounds []int         `json:"grounds"`
	On      calendar.Date `json:"on"`
	Source  string        `json:"source"` // social_worker | adaptation_meeting
	Note    Sealed        `json:"note,omitzero"`
}

// EventType implements Event.
func (SuspensionOpened) EventType() string { return "SuspensionOpened" }

// SuspensionVisitLogged: the home visit or the origin-school visit that
// must precede a suspension (R-SUS-2).
type SuspensionVisitLogged struct {
	Kind string        `json:"kind"` // home | origin_school
	On   calendar.Date `json:"on"`
	Note Sealed        `json:"note,omitzero"`
}

// EventType implements Event.
func (SuspensionVisitLogged) EventType() string { return "SuspensionVisitLogged" }

// SuspensionReportSent: the evaluation report went to the origin school
// (R-SUS-2); the case goes on the next meeting's docket as a suspension
// case (R-SUS-3, R-MTG-2).
type SuspensionReportSent struct {
	On     calendar.Date `json:"on"`
	Report Sealed        `json:"report,omitzero"`
	Letter Letter        `json:"letter"`
}

// EventType implements Event.
func (SuspensionReportSent) EventType() string { return "SuspensionReportSent" }

// Suspended: the committee's suspend resolution took effect when its
// meeting closed (R-SUS-3, R-SUS-4); the enrolment ends on On.
type Suspended struct {
	MeetingID   string        `json:"meeting_id"`
	On          calendar.Date `json:"on"`
	Destination string        `json:"destination"` // origin_school | social_welfare | judicial
	Letter      Letter        `json:"letter"`
}

// EventType implements Event.
func (Suspended) EventType() string { return "Suspended" }

// SuspensionDeclined: the committee resolved continue: the enrolment goes
// on and the procedure is closed.
type SuspensionDeclined struct {
	MeetingID string        `json:"meeting_id"`
	On        calendar.Date `json:"on"`
	Letter    Letter        `json:"letter"`
}

// EventType implements Event.
func (SuspensionDeclined) EventType() string { return "SuspensionDeclined" }

func enrolledLifeEvents() []Event {
	return []Event{
		DropoutOpened{}, DropoutReported{}, DropoutFollowUpLogged{}, DropoutFound{},
		DropoutReturned{}, DropoutClosed{}, SuspensionGroundRecorded{},
		AdaptationMeetingHeld{}, SuspensionOpened{}, SuspensionVisitLogged{},
		SuspensionReportSent{}, Suspended{}, SuspensionDeclined{},
	}
}
