package domain

import (
	"slices"
	"strconv"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// 中止就讀 (R-SUS-1..4) and the adaptation meeting (R-ENR-4): ending an
// enrolment is the city committee's. The branch school opens the
// procedure, visits the home and the origin school, and sends its
// evaluation report (R-SUS-2); the case then goes on the next meeting's
// docket (R-SUS-3, R-MTG-2), whose suspend resolution takes effect when the
// meeting closes (R-SUS-4).

// StageSuspended: the committee ended the enrolment (中止就讀); the
// destination says where the student goes (R-SUS-4).
const StageSuspended Stage = "suspended"

// Resolutions on a suspension case (R-SUS-3).
const (
	ResolutionSuspend  = "suspend"
	ResolutionContinue = "continue"
)

// Resolutions is every resolution a meeting may record (R-MTG-3): admit,
// waitlist, reject for admission cases; suspend, continue for suspension
// cases.
var Resolutions = []string{ResolutionAdmit, ResolutionWaitlist, ResolutionReject, ResolutionSuspend, ResolutionContinue}

// Destinations of a suspended student (R-SUS-4): back to the origin
// school, or a referral by social-welfare or judicial units.
var Destinations = []string{"origin_school", "social_welfare", "judicial"}

// Adaptation meeting outcomes (R-ENR-4).
const (
	AdaptationContinue   = "continue"
	AdaptationProposeEnd = "propose_end"
)

// AdaptationOutcomes is the closed set of adaptation meeting outcomes.
var AdaptationOutcomes = []string{AdaptationContinue, AdaptationProposeEnd}

// SuspensionVisitKinds are the visits R-SUS-2 requires before the report.
var SuspensionVisitKinds = []string{"home", "origin_school"}

// Sources of a suspension procedure.
const (
	SuspensionBySocialWorker      = "social_worker"
	SuspensionByAdaptationMeeting = "adaptation_meeting"
)

// Suspension is the state of a case's 中止就讀 procedure.
type Suspension struct {
	Open        bool // a procedure is under way
	Grounds     []int
	OpenedOn    calendar.Date
	HomeVisit   *calendar.Date
	SchoolVisit *calendar.Date
	ReportOn    *calendar.Date // the report was sent: a suspension case
	Destination string         // once suspended (R-SUS-4)
	SuspendedOn *calendar.Date
}

// applySuspension folds the events of the 中止就讀 procedure.
func (r *Referral) applySuspension(env events.Envelope) {
	s := &r.Suspension
	switch e := env.Payload.(type) {
	case events.SuspensionOpened:
		*s = Suspension{Open: true, Grounds: slices.Clone(e.Grounds), OpenedOn: e.On}
	case events.SuspensionVisitLogged:
		on := e.On
		if e.Kind == "home" {
			s.HomeVisit = &on
		} else {
			s.SchoolVisit = &on
		}
	case events.SuspensionReportSent:
		on := e.On
		s.ReportOn = &on
	case events.Suspended:
		on := e.On
		s.Open, s.Destination, s.SuspendedOn = false, e.Destination, &on
		r.Stage = StageSuspended
	case events.SuspensionDeclined:
		*s = Suspension{}
	}
}

// OnSuspensionDocket reports whether the case goes on the next meeting's
// docket as a suspension case (R-SUS-3, R-MTG-2): an enrolled student whose
// evaluation report was sent.
func (r *Referral) OnSuspensionDocket() bool {
	return r.Stage == StageEnrolled && r.Suspension.Open && r.Suspension.ReportOn != nil
}

// ValidateGrounds checks the grounds of a suspension procedure (R-SUS-1):
// numbers 1–6, each once, at least one.
func ValidateGrounds(field string, grounds []int) error {
	var c Check
	seen := map[int]bool{}
	switch {
	case len(grounds) == 0:
		c.Set(field, "at least one ground of R-SUS-1 (1–6)")
	case len(grounds) > 6:
		c.Set(field, "at most the six grounds of R-SUS-1")
	}
	for _, g := range grounds {
		if g < 1 || g > 6 {
			c.Set(field, "each ground is a number of R-SUS-1 from 1 to 6")
		} else if seen[g] {
			c.Set(field, "each ground once")
		}
		seen[g] = true
	}
	return c.Err()
}

// ValidateDated checks a date of the procedure: given, not in the future,
// not more than a year ago.
func ValidateDated(field string, on, today calendar.Date) error {
	var c Check
	if on.IsZero() {
		c.Set(field, "required: a date YYYY-MM-DD")
	} else {
		c.DateIn(field, on, yearsBefore(today, 1), today, "cannot be in the future nor more than a year ago")
	}
	return c.Err()
}

// ValidateAdaptationMeeting checks an adaptation meeting's fields
// (R-ENR-4): the outcome, and grounds exactly for propose_end.
func ValidateAdaptationMeeting(on calendar.Date, outcome string, grounds []int, today calendar.Date) error {
	var c Check
	c.OneOf("outcome", outcome, AdaptationOutcomes, true)
	if err := c.Err(); err != nil {
		return err
	}
	if err := ValidateDated("on", on, today); err != nil {
		return err
	}
	if outcome == AdaptationProposeEnd {
		return ValidateGrounds("grounds", grounds)
	}
	if len(grounds) > 0 {
		return Invalid(map[string]string{"grounds": "only a propose_end outcome opens the procedure with grounds"})
	}
	return nil
}

// enrolledSince checks that the student is enrolled and that on is not
// before the enrolment.
func (r *Referral) enrolledSince(rule string, on calendar.Date) error {
	if r.Stage != StageEnrolled {
		return RuleError(rule, "only an enrolled student (the case is %s)", r.Stage)
	}
	if r.Admission.EnrolledOn != nil && on.Before(*r.Admission.EnrolledOn) {
		return Invalid(map[string]string{"on": "cannot be before the enrolment"})
	}
	return nil
}

// HoldAdaptationMeeting records the branch school's adaptation meeting
// (就讀輔導會議, R-ENR-4). propose_end opens the suspension procedure in
// the same append (R-SUS-2); it does not end the enrolment. A procedure
// already under way is not opened again.
func (r *Referral) HoldAdaptationMeeting(a events.Actor, on calendar.Date, outcome string, grounds []int, notes events.Sealed, today calendar.Date) ([]events.Event, error) {
	if a.Role != RoleSocialWorker {
		return nil, Errorf(EForbidden, "adaptation meetings are recorded by the branch school")
	}
	if err := ValidateAdaptationMeeting(on, outcome, grounds, today); err != nil {
		return nil, err
	}
	if err := r.enrolledSince("R-ENR-4", on); err != nil {
		return nil, err
	}
	if outcome == AdaptationProposeEnd && !r.Suspension.Open {
		if err := r.groundsHold(grounds, on, true); err != nil {
			return nil, err
		}
	}
	out := []events.Event{events.AdaptationMeetingHeld{On: on, Outcome: outcome, Notes: notes}}
	if outcome == AdaptationProposeEnd && !r.Suspension.Open {
		g := slices.Clone(grounds)
		slices.Sort(g)
		out = append(out, events.SuspensionOpened{Grounds: g, On: on, Source: SuspensionByAdaptationMeeting})
	}
	return out, nil
}

// OpenSuspension opens the 中止就讀 procedure with its grounds (R-SUS-1,
// R-SUS-2). The grounds are taken as the social worker states them.
func (r *Referral) OpenSuspension(a events.Actor, grounds []int, on calendar.Date, note events.Sealed, today calendar.Date) (events.SuspensionOpened, error) {
	if a.Role != RoleSocialWorker {
		return events.SuspensionOpened{}, Errorf(EForbidden, "the suspension procedure is opened by the branch school")
	}
	if err := ValidateGrounds("grounds", grounds); err != nil {
		return events.SuspensionOpened{}, err
	}
	if err := ValidateDated("on", on, today); err != nil {
		return events.SuspensionOpened{}, err
	}
	if err := r.enrolledSince("R-SUS-2", on); err != nil {
		return events.SuspensionOpened{}, err
	}
	if r.Suspension.Open {
		return events.SuspensionOpened{}, Errorf(EConflict, "a suspension procedure is already under way")
	}
	if err := r.groundsHold(grounds, on, false); err != nil {
		return events.SuspensionOpened{}, err
	}
	g := slices.Clone(grounds)
	slices.Sort(g)
	return events.SuspensionOpened{Grounds: g, On: on, Source: SuspensionBySocialWorker, Note: note}, nil
}

// groundsHold checks that every ground a procedure is opened with holds on
// its date (R-SUS-1): grounds (4) and (5) as detected from the dropout
// episodes, the others as recorded with their evidence. An adaptation
// meeting that finds the student cannot adapt is itself the evidence of
// ground (6) (R-ENR-4).
func (r *Referral) groundsHold(grounds []int, on calendar.Date, byAdaptationMeeting bool) error {
	hold := SuspensionGrounds(r, on)
	for _, g := range grounds {
		if slices.Contains(hold, g) || byAdaptationMeeting && g == 6 {
			continue
		}
		if g == 4 || g == 5 {
			return RuleError("R-SUS-1", "ground (%d) does not hold on %s: it is detected from the dropout episodes' dates", g, on)
		}
		return RuleError("R-SUS-1", "ground (%d) has no recorded evidence on or before %s: record it first (POST …/grounds)", g, on)
	}
	return nil
}

// openProcedure checks that a procedure is under way and its report not
// yet sent, and that on is not before it opened.
func (r *Referral) openProcedure(on calendar.Date) error {
	if r.Stage != StageEnrolled || !r.Suspension.Open {
		return RuleError("R-SUS-2", "no suspension procedure is under way: open it first")
	}
	if r.Suspension.ReportOn != nil {
		return Errorf(EConflict, "the evaluation report has been sent: the case awaits the committee")
	}
	if on.Before(r.Suspension.OpenedOn) {
		return Invalid(map[string]string{"on": "cannot be before the procedure opened (" + r.Suspension.OpenedOn.String() + ")"})
	}
	return nil
}

// ValidateSuspensionVisit checks a visit of the procedure (R-SUS-2).
func ValidateSuspensionVisit(kind string, on, today calendar.Date) error {
	var c Check
	c.OneOf("kind", kind, SuspensionVisitKinds, true)
	if err := c.Err(); err != nil {
		return err
	}
	return ValidateDated("on", on, today)
}

// LogSuspensionVisit records the home visit or the origin-school visit
// that precede a suspension (R-SUS-2).
func (r *Referral) LogSuspensionVisit(a events.Actor, kind string, on calendar.Date, note events.Sealed, today calendar.Date) (events.SuspensionVisitLogged, error) {
	if a.Role != RoleSocialWorker {
		return events.SuspensionVisitLogged{}, Errorf(EForbidden, "the visits are logged by the branch school")
	}
	if err := ValidateSuspensionVisit(kind, on, today); err != nil {
		return events.SuspensionVisitLogged{}, err
	}
	if err := r.openProcedure(on); err != nil {
		return events.SuspensionVisitLogged{}, err
	}
	return events.SuspensionVisitLogged{Kind: kind, On: on, Note: note}, nil
}

// SendSuspensionReport records the evaluation report sent to the origin
// school (R-SUS-2): both visits come first. The case then goes on the next
// meeting's docket as a suspension case (R-SUS-3).
func (r *Referral) SendSuspensionReport(a events.Actor, on calendar.Date, report events.Sealed, today calendar.Date) (events.SuspensionReportSent, error) {
	if a.Role != RoleSocialWorker {
		return events.SuspensionReportSent{}, Errorf(EForbidden, "the evaluation report is sent by the branch school")
	}
	if err := ValidateDated("on", on, today); err != nil {
		return events.SuspensionReportSent{}, err
	}
	if err := r.openProcedure(on); err != nil {
		return events.SuspensionReportSent{}, err
	}
	s := r.Suspension
	if s.HomeVisit == nil || s.SchoolVisit == nil {
		return events.SuspensionReportSent{}, RuleError("R-SUS-2", "the evaluation report follows the home visit and the origin-school visit: log both first")
	}
	if on.Before(*s.HomeVisit) || on.Before(*s.SchoolVisit) {
		return events.SuspensionReportSent{}, Invalid(map[string]string{"on": "cannot be before the visits"})
	}
	grounds := make([]string, len(s.Grounds))
	for i, g := range s.Grounds {
		grounds[i] = "(" + strconv.Itoa(g) + ")"
	}
	return events.SuspensionReportSent{On: on, Report: report, Letter: events.Letter{
		ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班學生中止就讀評估報告",
		Outcome:  "分校已完成家庭訪視及原學籍學校訪視，檢送中止就讀評估報告（R-SUS-2；事由第 " + joinComma(grounds) + " 款，R-SUS-1）",
		NextStep: "本案提下次複審會議審議（R-SUS-3）；貴校及利害關係人得提出書面資料並申請列席說明。"}}, nil
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "、"
		}
		out += x
	}
	return out
}

// ValidateDestination checks a resolution's destination: required for
// suspend (R-SUS-4), absent for every other resolution.
func ValidateDestination(resolution, destination string) error {
	var c Check
	if resolution == ResolutionSuspend {
		c.OneOf("destination", destination, Destinations, true)
	} else if destination != "" {
		c.Set("destination", "only a suspend resolution has a destination")
	}
	return c.Err()
}

// checkDocketKind refuses a resolution that does not fit the kind of case:
// a suspension case is resolved suspend or continue (R-SUS-3); an
// admission case admit, waitlist or reject, never suspend (R-SUS-2: the
// procedure comes first).
func checkDocketKind(r *Referral, resolution string) error {
	suspension := resolution == ResolutionSuspend || resolution == ResolutionContinue
	switch {
	case r.OnSuspensionDocket():
		if !suspension {
			return RuleError("R-SUS-3", "a suspension case is resolved suspend or continue")
		}
	case !r.OnDocket():
		if suspension {
			return RuleError("R-SUS-2", "the case is not a suspension case: the procedure (visits, evaluation report) comes first")
		}
		return RuleError("R-MTG-2", "the case is not on the docket")
	case suspension:
		return RuleError("R-SUS-2", "an admission case is not resolved suspend or continue: a suspension needs its own procedure first")
	}
	return nil
}

// ResolutionInput is a resolution as the committee gives it.
type ResolutionInput struct {
	Resolution  string
	Destination string // suspend: R-SUS-4
	Finding     string // reject: R-EXCL-3
	Reason      events.Sealed
	HasReason   bool
}

// ResolveCase records the committee's one resolution on a docket case
// (R-MTG-3) with its destination (R-SUS-4) or finding (R-EXCL-3). A
// grade-9 student in the second semester is suspended only for a major
// reason, recorded in the resolution (R-EXCL-4).
func (m *Meeting) ResolveCase(a events.Actor, r *Referral, in ResolutionInput, today calendar.Date) (events.ResolutionRecorded, error) {
	if err := ValidateDestination(in.Resolution, in.Destination); err != nil {
		return events.ResolutionRecorded{}, err
	}
	if err := ValidateFinding(in.Resolution, in.Finding); err != nil {
		return events.ResolutionRecorded{}, err
	}
	e, err := m.Resolve(a, r, in.Resolution, in.Reason, in.HasReason)
	if err != nil {
		return e, err
	}
	if in.Resolution == ResolutionSuspend && r.GradeOn(today) == MaxGrade && SecondSemester(today) && !in.HasReason {
		return events.ResolutionRecorded{}, RuleError("R-EXCL-4", "a grade-9 student in the second semester leaves only for a major reason: record it as the reason")
	}
	e.Destination, e.Finding = in.Destination, in.Finding
	return e, nil
}

var destinationText = map[string]string{
	"origin_school":  "返回原學籍學校就讀",
	"social_welfare": "轉介社政單位安置輔導",
	"judicial":       "轉介司法單位處理",
}

// planSuspensions makes a meeting's suspension resolutions take effect at
// its close (R-SUS-3, R-SUS-4): each suspended student's seat ends (its
// last day is the day before the close, when the exit takes effect, as for
// a declined place, so the seat is free from the close day on: R-CAP-1),
// planned on work so that the admissions and the waiting list that follow
// in the same append may take it; a continue closes the procedure. Each
// sends its letter to the origin school.
func planSuspensions(plan *ClosePlan, m *Meeting, work *Roster, cases map[string]*Referral, today calendar.Date) {
	for _, x := range m.Resolutions {
		r := cases[x.CaseID]
		if r == nil || !r.OnSuspensionDocket() {
			continue // an admission case, or decided elsewhere since
		}
		switch x.Resolution {
		case ResolutionSuspend:
			plan.Cases[r.ID] = append(plan.Cases[r.ID], events.Suspended{MeetingID: m.ID, On: today, Destination: x.Destination, Letter: events.Letter{
				ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班中止就讀複審結果通知", Meeting: m.ID,
				Outcome:  "經複審會議決議中止就讀（R-SUS-3），" + destinationText[x.Destination] + "（R-SUS-4）",
				NextStep: "請原學籍學校通知個案網絡單位，並協助學生離校返回原學籍學校（R-SUS-4、R-ORG-6）。"}})
			plan.Suspended = append(plan.Suspended, r.ID)
			if _, ok := work.Seats[r.ID]; ok {
				if rel, err := work.EndSeat(r.ID, today.AddDays(-1), EndingSuspended); err == nil {
					plan.Roster = append(plan.Roster, rel)
				}
			}
		case ResolutionContinue:
			plan.Cases[r.ID] = append(plan.Cases[r.ID], events.SuspensionDeclined{MeetingID: m.ID, On: today, Letter: events.Letter{
				ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班中止就讀複審結果通知", Meeting: m.ID,
				Outcome:  "經複審會議決議繼續就讀（R-SUS-3）",
				NextStep: "分校持續輔導；請原學籍學校持續配合註冊及輔導（R-ENR-2、R-ORG-3）。"}})
		}
	}
}

// planWaitingList fills the seats still free after the meeting's own
// admissions from the waiting list (as it stood before the close), in its
// order (R-SOY-5), in the same append: a seat a suspension freed goes to
// the first waiting case whose seat range fits (R-CAP-1, every day) and
// whose transfer in is allowed (R-EXCL-4). Only waiting cases the caller
// loaded into cases are considered; a case that cannot take a seat (no
// longer waiting, its student holds another place) keeps its place.
func planWaitingList(plan *ClosePlan, m *Meeting, waiting []WaitEntry, work *Roster, cases map[string]*Referral, capacity int, seated map[string]bool, today, reportBy calendar.Date) {
	for _, w := range waiting {
		r := cases[w.CaseID]
		if r == nil || r.Stage != StageWaitlisted {
			continue
		}
		if _, holds := work.HeldBy(r.PersonKey); holds || seated[r.PersonKey] {
			continue
		}
		seat, ok, err := work.TakeSeat(r, today, capacity)
		if err != nil || !ok {
			continue
		}
		if r.PersonKey != "" {
			seated[r.PersonKey] = true
		}
		plan.Roster = append(plan.Roster, seat)
		plan.Cases[r.ID] = append(plan.Cases[r.ID], admittedEvent(r, m.ID, reportBy, true))
		plan.FromWaitlist = append(plan.FromWaitlist, r.ID)
	}
}

// WaitingToLoad is how many cases of the waiting list a close may seat:
// the seats free today plus those its suspend resolutions may free.
func WaitingToLoad(m *Meeting, roster *Roster, capacity int, today calendar.Date) int {
	n := capacity - roster.HeldOn(today)
	for _, x := range m.Resolutions {
		if x.Resolution == ResolutionSuspend {
			n++
		}
	}
	return max(0, min(n, len(roster.Waiting)))
}
