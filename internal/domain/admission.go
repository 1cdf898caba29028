package domain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Admission stages.
const (
	StageAdmitted   Stage = "admitted"   // holds a place, awaiting enrolment
	StageWaitlisted Stage = "waitlisted" // passed; waiting for a place (R-SOY-5)
	StageRejected   Stage = "rejected"
	StageEnrolled   Stage = "enrolled"
	StageLeft       Stage = "left" // declined or left the place
)

// Resolutions a meeting records (R-MTG-3).
const (
	ResolutionAdmit    = "admit"
	ResolutionWaitlist = "waitlist"
	ResolutionReject   = "reject"
)

// Stakeholders who may attend a second review (R-SOY-4).
var Stakeholders = []string{"student", "parent", "school", "network_unit"}

// Admission is a referral's admission state.
type Admission struct {
	ApplicationPosition uint64 // application time: the position of the filing
	Appealed            bool
	Attendees           []string
	MeetingID           string
	HealthExamined      *calendar.Date
	Infectious          bool
	HealthCleared       *calendar.Date
	EnrolledOn          *calendar.Date // R-ENR-2: registrations from this semester
	Registrations       []string
	// The dated roster and the academic year (rollover.go): GradeYear is
	// the academic year Referral.Grade is of once a roll-over advanced it
	// (0: the referral's year); MajorReason, a major reason recorded for
	// a grade-9 transfer in the second semester (R-EXCL-4); EndState and
	// Ended the case's end and its day (declined, withdrawn, graduated,
	// lapsed, …).
	GradeYear   int
	MajorReason bool
	EndState    string
	Ended       *calendar.Date
}

// OnDocket reports whether the case belongs on the next meeting's docket
// (R-MTG-2): every first-reviewed case reaches the committee, so
// recommended, to discuss, and not passed whether or not anyone appealed
// (the committee confirms with `reject` or overturns it).
func (r *Referral) OnDocket() bool {
	switch r.Stage {
	case StageRecommended, StageToDiscuss, StageNotEligible:
		return true
	}
	return false
}

// applyAdmission folds the admission events of a referral.
func (r *Referral) applyAdmission(env events.Envelope) {
	switch e := env.Payload.(type) {
	case events.AppealFiled:
		r.Admission.Appealed = true
		r.Admission.Attendees = e.Attendees
	case events.Admitted:
		r.Stage = StageAdmitted
		r.Admission.MeetingID = e.MeetingID
	case events.Waitlisted:
		r.Stage = StageWaitlisted
		r.Admission.MeetingID = e.MeetingID
	case events.Rejected:
		r.Stage = StageRejected
		r.Admission.MeetingID = e.MeetingID
	case events.PlaceReleased:
		r.Stage = StageLeft
		r.Admission.EndState, r.Admission.Ended = placeEnding(e, env)
	case events.HealthCheckRecorded:
		d := e.ExaminedOn
		r.Admission.HealthExamined, r.Admission.Infectious, r.Admission.HealthCleared = &d, e.Infectious, e.ClearedOn
	case events.Enrolled:
		r.Stage = StageEnrolled
		r.Grade = e.Grade
		on := e.On
		r.Admission.EnrolledOn = &on
	case events.RegistrationRecorded:
		r.Admission.Registrations = append(r.Admission.Registrations, e.Semester)
	default:
		r.applyYear(env) // the academic year's events (rollover.go)
	}
}

// ValidateAppeal checks who attends (the closed set of stakeholders) and
// the number of documents submitted (R-SOY-4).
func ValidateAppeal(attendees []string, documents int) error {
	var c Check
	c.EachOneOf("attendees", attendees, Stakeholders, MaxListItems)
	c.Int("documents", documents, 0, MaxAppealDocuments)
	if len(attendees) == 0 && documents == 0 {
		c.Set("attendees", "name who attends, or the documents submitted")
	}
	return c.Err()
}

// Appeal records that stakeholders of a to-discuss or not-passed case ask
// to submit documents and attend the second review (R-SOY-4).
func (r *Referral) Appeal(a events.Actor, attendees []string, documents int, details events.Sealed) (events.AppealFiled, error) {
	if a.Role != RoleOriginSchool {
		return events.AppealFiled{}, Errorf(EForbidden, "appeals are filed by the origin school")
	}
	if err := ValidateAppeal(attendees, documents); err != nil {
		return events.AppealFiled{}, err
	}
	if r.Stage != StageToDiscuss && r.Stage != StageNotEligible && !r.OnSuspensionDocket() { // R-SUS-3: a suspension case too
		// R-SOY-4 for the start-of-year route, R-MID-5 for mid-year.
		rule := "R-SOY-4"
		if r.Route == RouteMidYear {
			rule = "R-MID-5"
		}
		return events.AppealFiled{}, RuleError(rule, "stakeholders may appeal a case on the to-discuss or not-passed list only")
	}
	slices.Sort(attendees)
	return events.AppealFiled{Attendees: slices.Compact(attendees), Documents: documents, Details: details}, nil
}

// Meeting is a second-review meeting of the city committee.
type Meeting struct {
	ID           string
	AcademicYear int
	Kind         string
	Date         calendar.Date
	Title        string
	Status       string // scheduled | open | closed
	Resolutions  []MeetingResolution
	Version      uint64
}

// MeetingResolution is one case's resolution at a meeting.
type MeetingResolution struct {
	CaseID     string
	Resolution string
	Reason     events.Sealed
	Finding    string // a committee finding a reject cites (R-EXCL-3)
	// Destination of a suspend resolution (R-SUS-4).
	Destination string
}

// FindingUnfitBoarding is the committee's finding that the student is
// unfit for group living and boarding (R-EXCL-3).
const FindingUnfitBoarding = "R-EXCL-3"

// ValidateFinding checks a resolution's finding: none, or R-EXCL-3 on a
// reject (R-EXCL-3 is a committee finding a reject may cite).
func ValidateFinding(resolution, finding string) error {
	switch {
	case finding == "":
		return nil
	case finding != FindingUnfitBoarding:
		return Invalid(map[string]string{"finding": "must be R-EXCL-3 or absent"})
	case resolution != ResolutionReject:
		return Invalid(map[string]string{"finding": "only a reject cites a finding (R-EXCL-3)"})
	}
	return nil
}

// Meeting kinds (R-MTG-1): the start-of-year meeting, March, October and
// December, or extra ones as needed.
var MeetingKinds = []string{"start_of_year", "march", "october", "december", "extra"}

// RegularMeetingsPerYear is the number of second reviews a year (R-MTG-1).
const RegularMeetingsPerYear = 4

// Apply folds a meeting event.
func (m *Meeting) Apply(env events.Envelope) {
	switch e := env.Payload.(type) {
	case events.MeetingScheduled:
		m.ID, m.AcademicYear, m.Kind, m.Date, m.Title, m.Status = e.MeetingID, e.AcademicYear, e.Kind, e.Date, e.Title, "scheduled"
	case events.MeetingOpened:
		m.Status = "open"
	case events.ResolutionRecorded:
		m.Resolutions = append(m.Resolutions, MeetingResolution{CaseID: e.CaseID, Resolution: e.Resolution, Reason: e.Reason, Finding: e.Finding,
			Destination: e.Destination})
	case events.MeetingClosed:
		m.Status = "closed"
	}
	m.Version = env.Version
}

// ValidateSchedule checks a meeting to schedule: an ROC academic year in
// the plausible window, a known kind, a date, and a one-line title. That
// the date fits the academic year and is not past is a rule (R-MTG-1),
// checked by Schedule.
func ValidateSchedule(year int, kind string, date calendar.Date, title string) error {
	var c Check
	c.OneOf("kind", kind, MeetingKinds, true)
	if year < MinAcademicYear || year > MaxAcademicYear {
		c.Set("academic_year", "must be an ROC academic year from "+strconv.Itoa(MinAcademicYear)+" to "+strconv.Itoa(MaxAcademicYear)+", such as 115")
	}
	if date.IsZero() {
		c.Set("date", "required")
	}
	c.Line("title", title, MaxLineLen, false)
	return c.Err()
}

// MeetingSpan is when a meeting of kind for academic year year may be
// held (R-MTG-1): within the academic year (Aug 1 – Jul 31), except the
// start-of-year meeting, which decides the admissions of the coming year
// and so is held in the year before it begins (R-SOY-6: report in June,
// enrol in August; R-CAP-1: a start-of-year meeting in May fills the
// seats of the year that starts on Aug 1).
func MeetingSpan(year int, kind string) (from, to calendar.Date) {
	start := year + 1911
	if kind == "start_of_year" {
		start--
	}
	return calendar.NewDate(start, time.August, 1), calendar.NewDate(start+1, time.July, 31)
}

// Schedule returns the event scheduling a meeting, and a warning when the
// year would have more than four meetings or a regular meeting falls
// outside the branch's month for its kind (R-MTG-1 warns, never forbids;
// months nil: the default months).
func Schedule(a events.Actor, id string, year int, kind string, date calendar.Date, title string, alreadyThisYear int, months map[string]time.Month, today calendar.Date) (events.MeetingScheduled, []string, error) {
	if a.Role != RoleCommittee && a.Role != RoleBureau {
		return events.MeetingScheduled{}, nil, Errorf(EForbidden, "meetings are scheduled by the committee or the bureau")
	}
	if err := ValidateSchedule(year, kind, date, title); err != nil {
		return events.MeetingScheduled{}, nil, err
	}
	// R-MTG-1: a meeting is scheduled ahead, never in the past (it would
	// become the next meeting and collect the docket), and within its
	// academic year.
	if date.Before(today) {
		return events.MeetingScheduled{}, nil, RuleError("R-MTG-1", "a meeting cannot be scheduled in the past: %s is before today, %s", date, today)
	}
	if from, to := MeetingSpan(year, kind); date.Before(from) || date.After(to) {
		return events.MeetingScheduled{}, nil, RuleError("R-MTG-1", "a %s meeting of academic year %d is held from %s to %s, not on %s", kind, year, from, to, date)
	}
	var warnings []string
	if alreadyThisYear+1 > RegularMeetingsPerYear {
		warnings = append(warnings, fmt.Sprintf("R-MTG-1: academic year %d would have %d second-review meetings; four a year is the rule, extra ones only as needed", year, alreadyThisYear+1))
	}
	// The month of each kind, the branch's or else the default (a
	// configuration stored before the start-of-year month existed). The
	// date already lies in the meeting's span (MeetingSpan), so the month
	// places it in its academic year: a start-of-year meeting in May is
	// May before the year begins.
	want, ok := months[kind]
	if !ok {
		want = DefaultMeetingMonths()[kind]
	}
	if want != 0 && date.Month() != want {
		warnings = append(warnings, fmt.Sprintf("R-MTG-1: a %s meeting of academic year %d dated %s; the branch holds it in month %d", kind, year, date, want))
	}
	if title == "" {
		title = fmt.Sprintf("%d 學年度學生轉介就讀複審會議", year)
	}
	return events.MeetingScheduled{MeetingID: id, AcademicYear: year, Kind: kind, Date: date, Title: title}, warnings, nil
}

// Committee is a branch's city committee: the meetings it scheduled per
// year (R-MTG-1) and which one is open for resolutions (one at a time).
type Committee struct {
	Open    string
	PerYear map[int]int // meetings scheduled per academic year
	Version uint64
}

// Apply folds a committee event.
func (c *Committee) Apply(env events.Envelope) {
	switch e := env.Payload.(type) {
	case events.MeetingScheduled:
		if c.PerYear == nil {
			c.PerYear = map[int]int{}
		}
		c.PerYear[e.AcademicYear]++
	case events.MeetingOpened:
		c.Open = e.MeetingID
	case events.MeetingClosed:
		if c.Open == e.MeetingID {
			c.Open = ""
		}
	}
	c.Version = env.Version
}

// OpenMeeting opens m for resolutions.
func OpenMeeting(a events.Actor, c *Committee, m *Meeting) (events.MeetingOpened, error) {
	if a.Role != RoleCommittee {
		return events.MeetingOpened{}, Errorf(EForbidden, "meetings are opened by the committee")
	}
	if m.Status != "scheduled" {
		return events.MeetingOpened{}, Errorf(EConflict, "the meeting is %s", m.Status)
	}
	if c.Open != "" {
		return events.MeetingOpened{}, Errorf(EConflict, "meeting %s is still open: one meeting is open for resolutions at a time", c.Open)
	}
	return events.MeetingOpened{MeetingID: m.ID}, nil
}

// ValidateResolution checks a resolution (R-MTG-3): admit, waitlist or
// reject, a reject with its reason; suspend or continue for a suspension
// case (R-SUS-3).
func ValidateResolution(resolution string, hasReason bool) error {
	var c Check
	c.OneOf("resolution", resolution, Resolutions, true)
	if resolution == ResolutionReject && !hasReason {
		c.Set("reason", "required for reject")
	}
	return c.Err()
}

// Resolve records the committee's one resolution on a docket case
// (R-MTG-3).
func (m *Meeting) Resolve(a events.Actor, r *Referral, resolution string, reason events.Sealed, hasReason bool) (events.ResolutionRecorded, error) {
	if a.Role != RoleCommittee {
		return events.ResolutionRecorded{}, Errorf(EForbidden, "resolutions are recorded by the committee")
	}
	if err := ValidateResolution(resolution, hasReason); err != nil {
		return events.ResolutionRecorded{}, err
	}
	if m.Status != "open" {
		return events.ResolutionRecorded{}, Errorf(EConflict, "the meeting is not open for resolutions (%s)", m.Status)
	}
	if err := checkDocketKind(r, resolution); err != nil {
		return events.ResolutionRecorded{}, err
	}
	if slices.ContainsFunc(m.Resolutions, func(x MeetingResolution) bool { return x.CaseID == r.ID }) {
		return events.ResolutionRecorded{}, RuleError("R-MTG-3", "the case already has this meeting's resolution")
	}
	return events.ResolutionRecorded{CaseID: r.ID, Resolution: resolution, Reason: reason}, nil
}

// ClosePlan is what closing a meeting writes: one atomic append across the
// meeting, the committee, the roster and every resolved case.
type ClosePlan struct {
	Meeting, Committee, Roster []events.Event
	Cases                      map[string][]events.Event
	Admitted, Waitlisted       []string
	// Suspended are the cases whose enrolment ends at this close; FromWaitlist
	// the waiting cases given a seat at it (R-SUS-4, R-SOY-5).
	Suspended, FromWaitlist []string
}

// PlanClose makes a meeting's resolutions take effect (R-SOY-5, R-CAP-1):
// admitted cases take places in order of application time up to the cap;
// the rest join the waiting list in the same order. Every resolution sends
// a letter to the origin school (R-MTG-2). reportBy is the reporting date
// the committee's close carries (R-SOY-6; zero: none given), checked by
// CheckReportingDate; a close that admits anyone needs it.
func PlanClose(a events.Actor, m *Meeting, roster *Roster, cases map[string]*Referral, capacity int, today calendar.Date, reportBy calendar.Date) (ClosePlan, error) {
	if a.Role != RoleCommittee {
		return ClosePlan{}, Errorf(EForbidden, "meetings are closed by the committee")
	}
	if m.Status != "open" {
		return ClosePlan{}, Errorf(EConflict, "the meeting is not open (%s)", m.Status)
	}
	plan := ClosePlan{Cases: map[string][]events.Event{}}
	res := slices.Clone(m.Resolutions)
	slices.SortStableFunc(res, func(x, y MeetingResolution) int {
		return cmpU64(cases[x.CaseID].Admission.ApplicationPosition, cases[y.CaseID].Admission.ApplicationPosition)
	})
	// R-CAP-1 (dated): each admission is checked for every day of its
	// seat's range on a working copy that carries this close's seats.
	work := roster.Clone()
	// Suspensions first: the seats they free count for what follows.
	planSuspensions(&plan, m, work, cases, today)
	seated := map[string]bool{} // person keys given a place by this close
	for _, x := range res {
		r := cases[x.CaseID]
		if r == nil || !r.OnDocket() {
			continue // decided elsewhere since: nothing to take effect
		}
		_, holds := roster.HeldBy(r.PersonKey)
		if (holds || seated[r.PersonKey]) && (x.Resolution == ResolutionAdmit || x.Resolution == ResolutionWaitlist) {
			// R-CAP-1: one student holds at most one of the places. A
			// second case of a student who already holds one (or takes
			// one at this close) ends without a second place.
			plan.Cases[r.ID] = append(plan.Cases[r.ID], events.Rejected{MeetingID: m.ID, Reason: x.Reason, Letter: events.Letter{
				ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀複審結果通知",
				Outcome: "學生已於本分校取得就讀名額，本案不另予錄取（R-CAP-1）", NextStep: "請原學籍學校通知個案網絡單位（R-SOY-7）。"}})
			continue
		}
		switch x.Resolution {
		case ResolutionAdmit, ResolutionWaitlist:
			seat, ok, err := events.SeatTaken{}, false, error(nil)
			if x.Resolution == ResolutionAdmit {
				seat, ok, err = work.TakeSeat(r, today, capacity) // roster_dates.go
			}
			if err != nil {
				// R-EXCL-4: the transfer in would take effect in grade 9's
				// second semester without a recorded major reason.
				plan.Cases[r.ID] = append(plan.Cases[r.ID], transferRefused(r, m.ID, x.Reason))
				continue
			}
			if ok {
				if r.PersonKey != "" {
					seated[r.PersonKey] = true
				}
				plan.Roster = append(plan.Roster, seat)
				plan.Cases[r.ID] = append(plan.Cases[r.ID], admittedEvent(r, m.ID, reportBy, false))
				plan.Admitted = append(plan.Admitted, r.ID)
				continue
			}
			// The letter says why the case waits: the places are full, or
			// the committee resolved to waitlist it (free places or not).
			outcome := "複審通過，名額已滿，列入候補名單"
			if x.Resolution == ResolutionWaitlist {
				outcome = "複審通過，依複審會議決議列入候補名單"
			}
			plan.Roster = append(plan.Roster, events.WaitlistJoined{CaseID: r.ID, ApplicationPosition: r.Admission.ApplicationPosition})
			plan.Cases[r.ID] = append(plan.Cases[r.ID], events.Waitlisted{MeetingID: m.ID, Letter: events.Letter{
				ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀複審結果通知",
				Outcome: outcome, NextStep: "俟有名額，依報名先後順序通知報到（R-SOY-5）。請通知個案網絡單位。"}})
			plan.Waitlisted = append(plan.Waitlisted, r.ID)
		case ResolutionReject:
			outcome := "複審未通過"
			if x.Finding == FindingUnfitBoarding {
				outcome = "複審未通過：經委員會評估不適合團體生活及住宿（R-EXCL-3）"
			}
			plan.Cases[r.ID] = append(plan.Cases[r.ID], events.Rejected{MeetingID: m.ID, Reason: x.Reason, Letter: events.Letter{
				ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀複審結果通知",
				Outcome: outcome, NextStep: "請原學籍學校通知個案網絡單位（R-SOY-7）。"}})
		}
	}
	planWaitingList(&plan, m, roster.Waiting, work, cases, capacity, seated, today, reportBy)
	if (len(plan.Admitted) > 0 || len(plan.FromWaitlist) > 0) && reportBy.IsZero() {
		return ClosePlan{}, RuleError("R-SOY-6", "the close admits %d case(s): give the reporting date (reporting_date), a working day on or after %s", len(plan.Admitted)+len(plan.FromWaitlist), today)
	}
	closed := events.MeetingClosed{MeetingID: m.ID, On: today}
	plan.Meeting = []events.Event{closed}
	plan.Committee = []events.Event{closed}
	return plan, nil
}

// admittedEvent is the admission with its letter to the origin school,
// which shows the reporting date the branch set (R-SOY-6, R-MID-5).
func admittedEvent(r *Referral, meetingID string, reportBy calendar.Date, fromWaitlist bool) events.Admitted {
	// Issue 12: each clause is its own, after the sentence it qualifies.
	when := ""
	if r.Route == RouteStartOfYear {
		// R-SOY-6: report in June, enrol in August of the same year.
		when = fmt.Sprintf("；民國%d年8月入學（R-SOY-6）", r.AcademicYear)
	}
	outcome := "複審通過，錄取就讀"
	if fromWaitlist {
		outcome = "候補遞補，錄取就讀"
	}
	d := reportBy
	return events.Admitted{MeetingID: meetingID, ReportBy: &d, FromWaitlist: fromWaitlist, Letter: events.Letter{
		ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班入學報到通知",
		Outcome: outcome, NextStep: fmt.Sprintf("報到日期：%s。請於當日派員陪同學生至分校報到，報到時檢附二個月內之健康檢查報告（R-ENR-1）%s。請通知個案網絡單位（R-SOY-7）。", reportBy.ROC(), when)}}
}

// ReleasePlan frees a place and offers it to the first case on the
// waiting list.
type ReleasePlan struct {
	Case, Roster []events.Event
	Offered      string
	OfferEvents  []events.Event
}

// ValidateRelease checks the reason a place is released: free text about
// the student (sealed before it is recorded), required.
func ValidateRelease(reason string) error {
	var c Check
	c.Text("reason", reason, MaxNoteLen, false)
	if !c.Has("reason") && isBlank(reason) {
		c.Set("reason", "required, e.g. declined_place or left")
	}
	return c.Err()
}

// ValidateReportingDate checks the form of a reporting date: within a
// year of today (what the stores hold; that it is a working day on or
// after the offer is R-SOY-6, CheckReportingDate).
func ValidateReportingDate(d, today calendar.Date) error {
	var c Check
	c.DateIn("reporting_date", d, yearsBefore(today, 1), yearsBefore(today, -1), "must be within a year of today")
	return c.Err()
}

// CheckReportingDate checks the reporting date the branch sets when it
// admits (the committee's close) or offers a freed place (R-SOY-6): a
// working day of the branch's office calendar, on or after on, the day of
// the close or the offer. The system proposes none of its own.
func CheckReportingDate(cal *calendar.Calendar, d, on calendar.Date) error {
	if d.Before(on) {
		return RuleError("R-SOY-6", "the reporting date %s is before the day of the offer, %s", d, on)
	}
	work, err := cal.IsWorkday(d)
	var unknown *calendar.YearUnknownError
	if errors.As(err, &unknown) {
		e := RuleError("R-SOY-6", "no office calendar for %d: the reporting date must be a working day; import the official calendar of that year", unknown.Year)
		e.Fields = map[string]string{CalendarYearNeededField: strconv.Itoa(unknown.Year)}
		return e
	}
	if err != nil {
		return err
	}
	if !work {
		return RuleError("R-SOY-6", "the reporting date %s is not a working day on the office calendar", d)
	}
	return nil
}

// PlanRelease records that an admitted or enrolled student leaves the
// place, and offers the freed place to the first on the waiting list
// (R-SOY-5), all in one atomic append. The reason is free text about the
// student: the caller seals it with the student's key (hasReason says
// whether one was given). reportBy is the reporting date the social
// worker's offer carries (R-SOY-6; zero: none given), checked by
// CheckReportingDate; an offer needs it.
func PlanRelease(a events.Actor, r *Referral, roster *Roster, first *Referral, capacity int, reason events.Sealed, hasReason bool, today, reportBy calendar.Date) (ReleasePlan, error) {
	if a.Role != RoleSocialWorker {
		return ReleasePlan{}, Errorf(EForbidden, "places are released by the branch school")
	}
	if !hasReason {
		return ReleasePlan{}, Invalid(map[string]string{"reason": "required, e.g. declined_place or left"})
	}
	// Withdrawal is only for a place not yet taken up (R-SUS-1 decision,
	// R-ENR-4): declining an admission, or leaving the waiting list
	// (roster_exits.go).
	return planWithdrawal(r, roster, first, capacity, reason, today, reportBy)
}

// MaxHealthCheckAgeYears bounds how old a recorded health check may be.
const MaxHealthCheckAgeYears = 2

// ValidateHealthCheck checks the health-check dates (R-ENR-1): not in the
// future, not absurdly old, and the cure after the examination.
func ValidateHealthCheck(examined calendar.Date, cleared *calendar.Date, today calendar.Date) error {
	var c Check
	oldest := yearsBefore(today, MaxHealthCheckAgeYears)
	if examined.After(today) || examined.Before(oldest) || (cleared != nil && (cleared.After(today) || cleared.Before(examined))) {
		c.Set("examined_on", "dates cannot be in the future nor more than "+strconv.Itoa(MaxHealthCheckAgeYears)+" years old, and cure follows the examination")
	}
	return c.Err()
}

// RecordHealthCheck records the health check for admission (R-ENR-1).
func (r *Referral) RecordHealthCheck(a events.Actor, examined calendar.Date, infectious bool, cleared *calendar.Date, today calendar.Date) (events.HealthCheckRecorded, error) {
	if a.Role != RoleSocialWorker {
		return events.HealthCheckRecorded{}, Errorf(EForbidden, "health checks are recorded by the branch school")
	}
	if err := ValidateHealthCheck(examined, cleared, today); err != nil {
		return events.HealthCheckRecorded{}, err
	}
	if r.Stage != StageAdmitted {
		return events.HealthCheckRecorded{}, Errorf(EConflict, "a health check is recorded for an admitted student")
	}
	return events.HealthCheckRecorded{ExaminedOn: examined, Infectious: infectious, ClearedOn: cleared}, nil
}

// ValidateEnrolment checks an enrolment's grade, class label and
// override reason (R-CAP-2), free text sealed before it is recorded.
func ValidateEnrolment(grade int, class, override string) error {
	var c Check
	if grade < MinGrade || grade > MaxGrade {
		c.Set("grade", "must be 7, 8 or 9")
	} else if g, _, ok := ParseClass(class); !ok || g != grade {
		c.Set("class", fmt.Sprintf("must be a class of grade %d such as \"%d-1\" (R-CAP-2)", grade, grade))
	}
	c.Text("override_reason", override, MaxNoteLen, false)
	return c.Err()
}

// Enrol enrols an admitted student in a class, holding the place on the
// roster. R-ENR-1: a health check from the last two months is required,
// and a student with an infectious disease enrols only after cure.
// R-CAP-2: the branch's class norms; the override reason is free text,
// sealed by the caller (hasOverride says whether one was given).
func (r *Referral) Enrol(a events.Actor, roster *Roster, grade int, class string, override events.Sealed, hasOverride bool, norms ClassNorms, today calendar.Date) (events.Enrolled, events.SeatEnrolled, []string, error) {
	var zero events.Enrolled
	if a.Role != RoleSocialWorker {
		return zero, events.SeatEnrolled{}, nil, Errorf(EForbidden, "students are enrolled by the branch school")
	}
	if err := ValidateEnrolment(grade, class, ""); err != nil { // the override is sealed: checked before sealing
		return zero, events.SeatEnrolled{}, nil, err
	}
	if r.Stage != StageAdmitted {
		return zero, events.SeatEnrolled{}, nil, Errorf(EConflict, "only an admitted student is enrolled (%s)", r.Stage)
	}
	if _, ok := roster.Seats[r.ID]; !ok {
		return zero, events.SeatEnrolled{}, nil, Errorf(EConflict, "the roster holds no place for the case")
	}
	h := r.Admission.HealthExamined
	oldest := today.MonthsEarlier(2) // R-ENR-1: two months, same day or that month's last
	switch {
	case h == nil:
		return zero, events.SeatEnrolled{}, nil, RuleError("R-ENR-1", "a health-check report from the last two months is required before enrolment")
	case h.Before(oldest):
		return zero, events.SeatEnrolled{}, nil, RuleError("R-ENR-1", "the recorded health check is older than two months: a new report is required")
	case r.Admission.Infectious && r.Admission.HealthCleared == nil:
		return zero, events.SeatEnrolled{}, nil, RuleError("R-ENR-1", "a student with an infectious disease enrols after cure")
	}
	warnings, err := roster.CheckClass(grade, class, hasOverride, norms)
	if err != nil {
		return zero, events.SeatEnrolled{}, nil, err
	}
	return events.Enrolled{On: today, Grade: grade, Class: class, OverrideReason: override},
		events.SeatEnrolled{CaseID: r.ID, Grade: grade, Class: class}, warnings, nil
}

// ValidateSemester checks a semester label "<ROC year>-<1|2>" such as
// "115-1", the year in the plausible window (R-ENR-2).
func ValidateSemester(semester string) error {
	_, err := ParseSemester(semester)
	return err
}

// RecordRegistration records the per-semester registration at the origin
// school (R-ENR-2): a semester of the enrolment, from the one the student
// enrolled in up to the one after today's (a registration may be made
// before its semester starts).
func (r *Referral) RecordRegistration(a events.Actor, semester string, today calendar.Date) (events.RegistrationRecorded, error) {
	if a.Role != RoleOriginSchool {
		return events.RegistrationRecorded{}, Errorf(EForbidden, "registration is recorded by the origin school")
	}
	sem, err := ParseSemester(semester)
	if err != nil {
		return events.RegistrationRecorded{}, err
	}
	if r.Stage != StageEnrolled {
		return events.RegistrationRecorded{}, Errorf(EConflict, "registration is recorded for an enrolled student")
	}
	if r.Admission.EnrolledOn != nil {
		if first := SemesterOf(*r.Admission.EnrolledOn); sem.Before(first) {
			return events.RegistrationRecorded{}, RuleError("R-ENR-2", "semester %s is before the student's enrolment (from %s)", sem, first)
		}
	}
	if last := SemesterOf(today).Next(); last.Before(sem) {
		return events.RegistrationRecorded{}, RuleError("R-ENR-2", "semester %s is too far ahead: registrations are recorded up to %s", sem, last)
	}
	if slices.Contains(r.Admission.Registrations, semester) {
		return events.RegistrationRecorded{}, Errorf(EConflict, "semester %s is already recorded", semester)
	}
	return events.RegistrationRecorded{Semester: semester}, nil
}
