package domain

import (
	"fmt"
	"slices"
	"strings"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Home-visit log kinds (R-MID-4, R-SOY-3).
const (
	VisitContact   = "contact"
	VisitHome      = "visit"
	VisitInterview = "interview"
)

// HomeVisitWorkdays is how long a home visit — contact plus the finished
// assessment report — may take, in working days after receipt (R-MID-4).
const HomeVisitWorkdays = 10

// Visit is the state of a referral's home visit.
type Visit struct {
	Contacts    int
	Visited     bool
	Interviewed bool
	ReportOn    *calendar.Date // set when the assessment report is finished
}

// First-review outcomes (R-SOY-3, R-MID-5).
const (
	OutcomeRecommend   = "recommend"
	OutcomeDiscuss     = "discuss"
	OutcomeNotEligible = "not_eligible"
)

// ReviewStage is the stage a first-review outcome leads to.
func ReviewStage(outcome string) Stage {
	switch outcome {
	case OutcomeRecommend:
		return StageRecommended
	case OutcomeDiscuss:
		return StageToDiscuss
	}
	return StageNotEligible
}

// Reviewed reports whether the first review has decided (and the case has
// moved on from intake).
func (r *Referral) Reviewed() bool {
	return r.Stage != StageIntake && r.Stage != StageReturned
}

// HasVisitDeadline reports whether the 10-working-day home-visit deadline
// applies: every mid-year application, on either channel (R-MID-4
// Decision: the original's sentence follows both channels).
func HasVisitDeadline(route Route, _ Channel) bool {
	return route == RouteMidYear
}

// VisitDaysLeft returns the working days left until the home-visit due
// date (R-MID-4): 0 on the due date, and negative exactly when today is
// after it. Once overdue it is minus the working days lost: those after
// the due date up to and including today, or, when today is a day off,
// the next working day (the earliest the report can still be finished).
// So a Saturday after a Friday due date gives −1, never 0.
func VisitDaysLeft(cal *calendar.Calendar, today, due calendar.Date) (int, error) {
	left, err := cal.WorkdaysBetween(today, due)
	if err != nil || !today.After(due) {
		return left, err
	}
	work, err := cal.IsWorkday(today)
	if err != nil {
		return 0, err
	}
	if !work {
		left--
	}
	return left, nil
}

// Missing is a checklist item that keeps an application incomplete.
type Missing struct {
	Item   int    `json:"item"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// MissingItems derives what keeps the checklist incomplete (R-DOC-1):
// items 1–5 and 8–10 always, item 6 or item 7, item 11 for a mid-year
// referral (for one sent to the branch school, the branch's own finished
// visit report serves), and the dropout personal file with item 10 when
// the student has a dropout record. Each required item must be submitted
// and checked as conforming (符合).
func MissingItems(route Route, channel Channel, dropoutRecord bool, docs [ChecklistItems + 1]Document, reportDone bool) []Missing {
	var out []Missing
	need := func(item int, extra string) {
		d := docs[item]
		reason := ""
		switch {
		case !d.Submitted:
			reason = reasonNotSubmitted
		case !d.Checked:
			reason = reasonUnchecked
		case !d.Conforms:
			reason = "checked as not conforming (不符合)"
		}
		if reason == "" && extra != "" {
			reason = extra
		}
		if reason != "" {
			out = append(out, Missing{Item: item, Name: ChecklistItemName(item), Reason: reason})
		}
	}
	for _, item := range []int{1, 2, 3, 4, 5, 8, 9} {
		need(item, "")
	}
	ok67 := func(d Document) bool { return d.Submitted && d.Checked && d.Conforms }
	if !ok67(docs[6]) && !ok67(docs[7]) {
		out = append(out, Missing{Item: 6, Name: ChecklistItemName(6) + " / " + ChecklistItemName(7),
			Reason: "either the low-income certificate (6) or the income-tax proof and property list (7) is required"})
	}
	extra10 := ""
	if dropoutRecord && docs[10].Submitted && !docs[10].WithDropoutFile {
		extra10 = "the student has a dropout record: include the dropout personal file (中途輟學生個人檔案表)"
	}
	need(10, extra10)
	if route == RouteMidYear && !(channel == ChannelDirect && reportDone) {
		need(11, "")
	}
	slices.SortFunc(out, func(a, b Missing) int { return a.Item - b.Item })
	return out
}

// Missing lists what keeps this referral's checklist incomplete.
func (r *Referral) Missing() []Missing {
	return MissingItems(r.Route, r.Channel, r.DropoutRecord, r.Documents, r.Visit.ReportOn != nil)
}

// item5Fresh reports whether the household registration transcript was
// issued within one month before it was submitted (R-DOC-1).
func item5Fresh(d Document) bool {
	if d.IssuedOn == nil {
		return false
	}
	oldest := d.SubmittedOn.MonthsEarlier(1)
	return !d.IssuedOn.Before(oldest) && !d.IssuedOn.After(d.SubmittedOn)
}

// VisitKinds are the kinds of home-visit log entries; "report" finishes
// the assessment report (R-MID-4).
var VisitKinds = []string{VisitContact, VisitHome, VisitInterview, "report"}

// ValidateVisit checks a home-visit log entry: a known kind, on a day not
// in the future.
func ValidateVisit(kind string, on, today calendar.Date) error {
	var c Check
	c.OneOf("kind", kind, VisitKinds, true)
	if on.After(today) {
		c.Set("on", "cannot be in the future")
	}
	return c.Err()
}

// ValidateFirstReview checks a first-review outcome (R-SOY-3, R-MID-5).
func ValidateFirstReview(outcome string, hasReasons bool) error {
	var c Check
	c.OneOf("outcome", outcome, []string{OutcomeRecommend, OutcomeDiscuss, OutcomeNotEligible}, true)
	if !c.Has("outcome") && outcome != OutcomeRecommend && !hasReasons {
		c.Set("reasons", "required for discuss and not_eligible")
	}
	return c.Err()
}

// LogVisit records a contact, the visit or the interview; kind "report"
// finishes the assessment report and closes the visit (R-MID-4).
func (r *Referral) LogVisit(a events.Actor, kind string, on calendar.Date, today calendar.Date, note events.Sealed) (events.Event, error) {
	if a.Role != RoleSocialWorker {
		return nil, Errorf(EForbidden, "home visits are logged by the branch school's social workers")
	}
	if err := ValidateVisit(kind, on, today); err != nil {
		return nil, err
	}
	if on.Before(r.ReceivedOn) {
		return nil, Invalid(map[string]string{"on": "cannot be before the application was received"})
	}
	switch {
	case r.Stage == StageReturned:
		return nil, RuleError("R-MID-3", "a returned application gets no visit until it is re-submitted")
	case r.Stage == StageLapsed:
		return nil, RuleError("R-MID-3", "the application lapsed: it was not re-submitted by the window's end")
	case r.Reviewed():
		return nil, Errorf(EConflict, "the first review has already decided")
	case r.Visit.ReportOn != nil:
		return nil, Errorf(EConflict, "the assessment report is finished; the visit is closed")
	}
	switch kind {
	case VisitContact, VisitHome, VisitInterview:
		return events.HomeVisitLogged{Kind: kind, On: on, Note: note}, nil
	case "report":
		if !r.Visit.Visited {
			return nil, RuleError("R-MID-4", "the assessment report follows the home visit: log the visit first")
		}
		return events.AssessmentReportFinished{On: on, Summary: note}, nil
	}
	return nil, Invalid(map[string]string{"kind": "must be contact, visit, interview or report"})
}

// DecideFirstReview records the first review's outcome (R-SOY-3, R-MID-5)
// and the letter to the applying school. It needs a complete checklist
// (R-DOC-1, R-ELIG-4) and the finished home-visit report (R-SOY-3: the
// first review includes the home visit and the interview; R-MID-4).
func (r *Referral) DecideFirstReview(a events.Actor, outcome string, reasons events.Sealed, hasReasons bool, today calendar.Date, nextMeeting string) (events.FirstReviewDecided, error) {
	if a.Role != RoleSocialWorker {
		return events.FirstReviewDecided{}, Errorf(EForbidden, "the first review is recorded by the branch school")
	}
	if err := ValidateFirstReview(outcome, hasReasons); err != nil {
		return events.FirstReviewDecided{}, err
	}
	switch {
	case r.Stage == StageLapsed:
		return events.FirstReviewDecided{}, RuleError("R-MID-3", "the application lapsed: it was not re-submitted by the window's end")
	case r.Reviewed():
		return events.FirstReviewDecided{}, Errorf(EConflict, "the first review has already decided")
	case r.Stage == StageReturned:
		return events.FirstReviewDecided{}, RuleError("R-MID-3", "the application was returned; it is reviewed after re-submission")
	}
	// R-ELIG-4 Decision: items a social worker accepted as still owed,
	// for a recorded special reason, do not hold the review up.
	if m := r.MissingNotExcused(); len(m) > 0 {
		items := make([]string, len(m))
		for i, x := range m {
			items[i] = fmt.Sprint(x.Item)
		}
		return events.FirstReviewDecided{}, RuleError("R-ELIG-4", "the checklist is incomplete (items %s): an application missing documents is not reviewed", strings.Join(items, ", "))
	}
	if r.Visit.ReportOn == nil || !r.Visit.Interviewed {
		rule := "R-SOY-3"
		if r.Route == RouteMidYear {
			rule = "R-MID-5"
		}
		return events.FirstReviewDecided{}, RuleError(rule, "the first review follows the home visit, the interview and the finished assessment report")
	}
	return events.FirstReviewDecided{Outcome: outcome, On: today, Reasons: reasons, Letter: firstReviewLetter(r, outcome, nextMeeting)}, nil
}

// Alias names a student in letters and lists without personal data.
func Alias(referralID string) string {
	if len(referralID) > 6 {
		referralID = referralID[len(referralID)-6:]
	}
	return "個案 " + strings.ToUpper(referralID)
}

func firstReviewLetter(r *Referral, outcome, meeting string) events.Letter {
	l := events.Letter{ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀初審結果通知", Meeting: meeting}
	switch outcome {
	case OutcomeRecommend:
		l.Outcome = "初審通過，列入建議就讀名單"
		l.NextStep = "提交桃園市復學輔導就讀小組複審會議審議；審議結果另行通知。"
	case OutcomeDiscuss:
		l.Outcome = "列入待討論名單"
		l.NextStep = "提交複審會議討論；學生、家長、學校代表或網絡單位代表得檢具書面資料並列席補充說明。"
	default:
		l.Outcome = "初審未通過（不符資格）"
		l.NextStep = "提交複審會議確認（R-MTG-2）；相關人員得檢具書面資料，申請於複審會議列席補充說明。審議結果另行通知。"
	}
	return l
}
