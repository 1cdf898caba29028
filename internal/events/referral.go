package events

import "cihui/internal/domain/calendar"

// ReferralOpened: an origin school (or the bureau, for an assessed mid-year
// application) filed a referral. Personal data is sealed with the
// student's data key; everything in the clear is a code or a category.
type ReferralOpened struct {
	ReferralID   string        `json:"referral_id"`
	OriginSchool string        `json:"origin_school"`
	AcademicYear int           `json:"academic_year"` // ROC year it enrols into
	Route        string        `json:"route"`         // start_of_year | mid_year
	Channel      string        `json:"channel,omitempty"`
	ReceivedOn   calendar.Date `json:"received_on"`
	Grade        int           `json:"grade"`
	// ElementaryGraduate: filed by an elementary school for a graduating
	// grade-6 pupil (R-SOY-1); IntendedSchool is the junior high.
	ElementaryGraduate bool     `json:"elementary_graduate,omitempty"`
	IntendedSchool     string   `json:"intended_school,omitempty"`
	Sex                string   `json:"sex"`
	Grounds            []string `json:"grounds"`
	// DropoutRecord: the student has a dropout record, so checklist item
	// 10 must include the dropout personal file (R-DOC-1).
	DropoutRecord bool `json:"dropout_record,omitempty"`
	// MajorReason: the filing recorded a major reason (sealed in
	// Personal's exclusion_reason) for a transfer of a grade-9 student in
	// the second semester (R-EXCL-4, checked when the transfer takes
	// effect).
	MajorReason bool   `json:"major_reason,omitempty"`
	PersonKey   string `json:"person_key"`
	Personal    Sealed `json:"personal"`
	// Categories are the statistical categories (R-STAT-2), in the clear;
	// absent in events recorded before they were carried (unknown).
	Categories Categories `json:"categories,omitzero"`
}

// EventType implements Event.
func (ReferralOpened) EventType() string { return "ReferralOpened" }

// DocumentSubmitted: the origin school handed in checklist item Item.
type DocumentSubmitted struct {
	Item     int            `json:"item"`
	Pages    int            `json:"pages"`
	IssuedOn *calendar.Date `json:"issued_on,omitempty"`
	// WithDropoutFile: item 10 includes the dropout personal file.
	WithDropoutFile bool `json:"with_dropout_file,omitempty"`
	// WithAccidentInsurance: item 9 includes the copy of the student's
	// accident-insurance record, required for mid-year (R-DOC-1).
	WithAccidentInsurance bool `json:"with_accident_insurance,omitempty"`
}

// EventType implements Event.
func (DocumentSubmitted) EventType() string { return "DocumentSubmitted" }

// DocumentChecked: a social worker checked item Item as conforming
// (符合) or not (不符合). The note may describe the family and is sealed.
type DocumentChecked struct {
	Item     int    `json:"item"`
	Conforms bool   `json:"conforms"`
	Note     Sealed `json:"note,omitzero"`
}

// EventType implements Event.
func (DocumentChecked) EventType() string { return "DocumentChecked" }

// ApplicationReturned: the branch school returned an incomplete
// application without a visit (退件, R-MID-3). Missing lists the checklist
// items that were not complete; the note is sealed.
type ApplicationReturned struct {
	Missing []int  `json:"missing"`
	Note    Sealed `json:"note,omitzero"`
	// Letter to the origin school naming the missing items by number and
	// name, and the day the window closes (R-MID-3 Decision). Absent in
	// events recorded before returns carried a letter.
	Letter *Letter `json:"letter,omitempty"`
	// ResubmitBy is the last day of the route's window: a re-submission
	// after it is refused, and the application lapses (R-MID-3).
	ResubmitBy *calendar.Date `json:"resubmit_by,omitempty"`
}

// EventType implements Event.
func (ApplicationReturned) EventType() string { return "ApplicationReturned" }

// ApplicationResubmitted: the origin school sent the completed
// application again; the home-visit clock restarts from ReceivedOn.
type ApplicationResubmitted struct {
	ReceivedOn calendar.Date `json:"received_on"`
	// TakesNewPlace: the re-submission takes its place in the application
	// order (R-SOY-5) from its own position in the log, since it is
	// complete only now (R-MID-3 Decision). False in events recorded
	// before the decision, which kept the place of the first filing: a
	// replay of the log keeps the order those decisions were made in.
	TakesNewPlace bool `json:"takes_new_place,omitempty"`
}

// EventType implements Event.
func (ApplicationResubmitted) EventType() string { return "ApplicationResubmitted" }

// ApplicationLapsed: a returned application was not re-submitted by the
// end of its window; the case is closed, with a letter to the origin
// school (R-MID-3 Decision). Recorded by the lapse job.
type ApplicationLapsed struct {
	On         calendar.Date `json:"on"`
	ResubmitBy calendar.Date `json:"resubmit_by"` // the window's last day
	Letter     Letter        `json:"letter"`
}

// EventType implements Event.
func (ApplicationLapsed) EventType() string { return "ApplicationLapsed" }

// IncompleteAccepted: a social worker accepted an application missing
// documents for a special reason (R-ELIG-4 Decision). The reason is free
// text about the student and is sealed; Owed lists the checklist items
// still owed, which stay shown on the case until they arrive.
type IncompleteAccepted struct {
	Owed   []int         `json:"owed"`
	On     calendar.Date `json:"on"`
	Reason Sealed        `json:"reason"`
}

// EventType implements Event.
func (IncompleteAccepted) EventType() string { return "IncompleteAccepted" }

// HomeVisitLogged: a social worker logged a contact, the home visit or the
// interview (R-MID-4, R-SOY-3). The note is sealed.
type HomeVisitLogged struct {
	Kind string        `json:"kind"` // contact | visit | interview
	On   calendar.Date `json:"on"`
	Note Sealed        `json:"note,omitzero"`
}

// EventType implements Event.
func (HomeVisitLogged) EventType() string { return "HomeVisitLogged" }

// AssessmentReportFinished: the home-visit assessment report is done; the
// visit is closed (R-MID-4).
type AssessmentReportFinished struct {
	On      calendar.Date `json:"on"`
	Summary Sealed        `json:"summary,omitzero"`
}

// EventType implements Event.
func (AssessmentReportFinished) EventType() string { return "AssessmentReportFinished" }

// FirstReviewDecided: the branch school's first review (R-SOY-3, R-MID-5)
// and the letter it sends the applying school.
type FirstReviewDecided struct {
	Outcome string        `json:"outcome"` // recommend | discuss | not_eligible
	On      calendar.Date `json:"on"`
	Reasons Sealed        `json:"reasons,omitzero"`
	Letter  Letter        `json:"letter"`
}

// EventType implements Event.
func (FirstReviewDecided) EventType() string { return "FirstReviewDecided" }

// Letter is a letter to a school, printable from the event alone: it holds
// no personal data (the student is named by alias).
type Letter struct {
	ToSchool     string `json:"to_school"`
	StudentAlias string `json:"student_alias"`
	Subject      string `json:"subject"`
	Outcome      string `json:"outcome"`
	NextStep     string `json:"next_step"`
	Meeting      string `json:"meeting,omitempty"`
}

// PersonErased: the person's data key was destroyed (crypto-shredding):
// every value sealed with it, in every case of that student, is gone for
// good; the cases and their timelines stay.
type PersonErased struct {
	PersonKey string `json:"person_key"`
	Reason    string `json:"reason"` // a category, never personal data
}

// EventType implements Event.
func (PersonErased) EventType() string { return "PersonErased" }

// CalendarYearImported: an admin imported the official office calendar of
// one year; it replaces an earlier import or the built-in table. Only the
// exceptions to the Mon–Fri rule are kept.
type CalendarYearImported struct {
	Year         int             `json:"year"`
	WeekdaysOff  []calendar.Date `json:"weekdays_off"`
	WeekendsWork []calendar.Date `json:"weekends_work"`
	SHA256       string          `json:"sha256"`
}

// EventType implements Event.
func (CalendarYearImported) EventType() string { return "CalendarYearImported" }

// OfficeClosed: an ad-hoc office closure such as a typhoon day.
type OfficeClosed struct {
	Date   calendar.Date `json:"date"`
	Reason string        `json:"reason"`
}

// EventType implements Event.
func (OfficeClosed) EventType() string { return "OfficeClosed" }

// DefaultRegistry returns the registry of every event type of the system
// at its current schema version.
func DefaultRegistry() *Registry {
	r := NewRegistry()
	for _, e := range []Event{
		ReferralOpened{}, DocumentSubmitted{}, DocumentChecked{},
		ApplicationReturned{}, ApplicationResubmitted{}, HomeVisitLogged{}, AssessmentReportFinished{},
		FirstReviewDecided{}, PersonErased{}, CalendarYearImported{}, OfficeClosed{},
		MeetingScheduled{}, MeetingOpened{}, ResolutionRecorded{}, MeetingClosed{}, AppealFiled{},
		SeatTaken{}, WaitlistJoined{}, Admitted{}, Waitlisted{}, Rejected{},
		HealthCheckRecorded{}, SeatEnrolled{}, RegistrationRecorded{},
		LegalHoldPlaced{}, LegalHoldLifted{},
		PersonReferred{}, CategoriesCorrected{},
		ApplicationLapsed{}, IncompleteAccepted{},
	} {
		r.Register(e, 1)
	}
	for _, e := range enrolledLifeEvents() {
		r.Register(e, 1)
	}
	for _, e := range dutyEvents() {
		r.Register(e, 1)
	}
	for _, e := range awardEvents() { // award.go
		r.Register(e, 1)
	}
	// v2: free text about a person is sealed (issue 8, finding 5). Old
	// events keep their plaintext in old logs; read back, it moves to a
	// legacy field that nothing shows, or is dropped where a sealed copy
	// lives elsewhere.
	r.Register(PlaceReleased{}, 2, Upcaster{From: 1, Up: renameField("reason", "legacy_reason")})
	r.Register(Enrolled{}, 2, Upcaster{From: 1, Up: renameField("override_reason", "legacy_override_reason")})
	r.Register(SeatReleased{}, 2, Upcaster{From: 1, Up: renameField("reason", "")})
	registerRoster(r) // the dated roster and the academic year (roster.go)
	return r
}
