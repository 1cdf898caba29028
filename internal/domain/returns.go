package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// StageLapsed: returned and not re-submitted by the end of the window;
// the case is closed (R-MID-3 Decision).
const StageLapsed Stage = "lapsed"

const (
	reasonNotSubmitted = "not submitted"
	reasonUnchecked    = "not yet checked by the branch school"
)

// Acceptance is a social worker's acceptance of an incomplete application
// for a special reason (R-ELIG-4 Decision).
type Acceptance struct {
	On   calendar.Date
	Owed []int // checklist items still owed when it was accepted
}

// Owed lists what the origin school still owes on the checklist (R-DOC-1):
// the missing items less those handed in and waiting for the branch
// school's check, and less item 11 of an application sent to the branch
// school (its own home-visit report serves, R-MID-3). An application
// owing something is incomplete: it is returned, or accepted for a special
// reason (R-ELIG-4).
func (r *Referral) Owed() []Missing {
	pending := func(item int) bool { d := r.Documents[item]; return d.Submitted && !d.Checked }
	var out []Missing
	for _, m := range r.Missing() {
		switch {
		case m.Reason == reasonUnchecked:
		case m.Item == 11 && r.Route == RouteMidYear && r.Channel == ChannelDirect:
		case m.Item == 6 && (pending(6) || pending(7)):
		default:
			out = append(out, m)
		}
	}
	return out
}

// StillOwed returns the items of owed that are still missing: an owed
// item stops being owed once it is handed in and checked as conforming
// (R-ELIG-4 Decision). Item 7 stands for the pair 6/7, as in MissingItems.
func StillOwed(owed []int, missing []Missing) []Missing {
	out := []Missing{}
	for _, m := range missing {
		if slices.Contains(owed, m.Item) || (m.Item == 6 && slices.Contains(owed, 7)) {
			out = append(out, m)
		}
	}
	return out
}

// StillOwes reports whether item was accepted as owed (R-ELIG-4) and has
// not arrived yet.
func (r *Referral) StillOwes(item int) bool {
	if r.Acceptance == nil {
		return false
	}
	for _, m := range StillOwed(r.Acceptance.Owed, r.Missing()) {
		if m.Item == item || (m.Item == 6 && item == 7) {
			return true
		}
	}
	return false
}

// MissingNotExcused is Missing less the items accepted as still owed
// (R-ELIG-4 Decision): what still keeps the first review from deciding.
func (r *Referral) MissingNotExcused() []Missing {
	m := r.Missing()
	if r.Acceptance == nil {
		return m
	}
	return slices.DeleteFunc(m, func(x Missing) bool {
		return slices.Contains(r.Acceptance.Owed, x.Item) || (x.Item == 6 && slices.Contains(r.Acceptance.Owed, 7))
	})
}

// windowRule is the rule id of the route's application window.
func windowRule(route Route) string {
	if route == RouteStartOfYear {
		return "R-SOY-2"
	}
	return "R-MID-1"
}

// itemList names checklist items by number and name, never anything of
// the person: 「項目 5 全戶戶籍謄本正本」.
func itemList(ms []Missing) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("項目 %d「%s」", m.Item, m.Name)
	}
	return strings.Join(parts, "、")
}

// ReturnApplication returns an incomplete application without a visit
// (退件, R-MID-3), with a letter to the origin school naming what is
// missing and the last day to re-submit: resubmitBy, the last day of the
// route's window (R-MID-3 Decision).
func (r *Referral) ReturnApplication(a events.Actor, note events.Sealed, resubmitBy, today calendar.Date) (events.ApplicationReturned, error) {
	if a.Role != RoleSocialWorker {
		return events.ApplicationReturned{}, Errorf(EForbidden, "applications are returned by the branch school's social workers")
	}
	switch {
	case r.Stage == StageReturned:
		return events.ApplicationReturned{}, Errorf(EConflict, "the application has already been returned")
	case r.Stage == StageLapsed:
		return events.ApplicationReturned{}, Errorf(EConflict, "the application has lapsed")
	case r.Reviewed():
		return events.ApplicationReturned{}, Errorf(EConflict, "the first review has already decided")
	case r.Visit.ReportOn != nil:
		return events.ApplicationReturned{}, RuleError("R-MID-3", "the home visit is done; an application is returned without a visit")
	case r.Acceptance != nil:
		return events.ApplicationReturned{}, RuleError("R-ELIG-4", "the application was accepted with items still owed (special reason); it is not returned")
	}
	owed := r.Owed()
	if len(owed) == 0 {
		return events.ApplicationReturned{}, RuleError("R-MID-3", "nothing is missing from the origin school (items handed in wait for the branch school's check); only incomplete applications are returned")
	}
	items := make([]int, 0, len(owed))
	for _, m := range owed {
		items = append(items, m.Item)
	}
	next := fmt.Sprintf("請補齊上列資料後，於 %s 前重新送件（申請期間之末日）；逾期未重新送件者，本申請案失效結案（R-MID-3）。", resubmitBy.ROC())
	if today.After(resubmitBy) {
		next = fmt.Sprintf("申請期間已於 %s 截止，本申請案不再受理重新送件，將予失效結案（R-MID-3）。", resubmitBy.ROC())
	}
	by := resubmitBy
	return events.ApplicationReturned{Missing: items, Note: note, ResubmitBy: &by, Letter: &events.Letter{
		ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀申請退件通知",
		Outcome:  "應檢附資料未齊，退件（R-MID-3、R-ELIG-4）：缺 " + itemList(owed),
		NextStep: next,
	}}, nil
}

// Resubmit records the origin school's re-submission of a returned
// application (R-MID-3 Decision): inside the route's window (w, its last
// day extended past a day off on cal, R-SOY-2, R-MID-1), with nothing
// still owed; it takes its place in the receipt order and the application
// order from now, and the home-visit clock restarts today.
func (r *Referral) Resubmit(a events.Actor, now time.Time, w Window, cal *calendar.Calendar) (events.ApplicationResubmitted, error) {
	if a.Role != RoleOriginSchool {
		return events.ApplicationResubmitted{}, Errorf(EForbidden, "applications are re-submitted by the origin school")
	}
	today := calendar.DateOf(now, Taipei)
	switch r.Stage {
	case StageReturned:
	case StageLapsed:
		last, _ := w.LastDay(cal)
		return events.ApplicationResubmitted{}, RuleError(windowRule(r.Route), "the application lapsed: it was not re-submitted by %s, the window's last day (R-MID-3)", last)
	default:
		return events.ApplicationResubmitted{}, Errorf(EConflict, "only a returned application can be re-submitted")
	}
	in, err := w.ContainsOn(cal, today)
	if err != nil {
		return events.ApplicationResubmitted{}, err
	}
	if !in {
		last, _ := w.LastDay(cal)
		return events.ApplicationResubmitted{}, RuleError(windowRule(r.Route), "a re-submission must fall inside the window (R-MID-3): %s applications for academic year %d are accepted %s to %s", r.Route, r.AcademicYear, w.Opens, last)
	}
	if owed := r.Owed(); len(owed) > 0 {
		return events.ApplicationResubmitted{}, RuleError("R-MID-3", "the application is still incomplete: hand in %s before re-submitting", missingNumbers(owed))
	}
	return events.ApplicationResubmitted{ReceivedOn: today, TakesNewPlace: true}, nil
}

func missingNumbers(ms []Missing) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("item %d", m.Item)
	}
	return strings.Join(parts, ", ")
}

// Lapse closes a returned application not re-submitted by the window's
// last day, lastDay, with a letter to the origin school (R-MID-3
// Decision). It is the lapse job's (role system). ok is false when there
// is nothing to do: the case is not returned, or its window is still open.
func (r *Referral) Lapse(a events.Actor, lastDay, today calendar.Date) (e events.ApplicationLapsed, ok bool, err error) {
	if a.Role != events.RoleSystem {
		return e, false, Errorf(EForbidden, "applications lapse by the lapse job")
	}
	if r.Stage != StageReturned || !today.After(lastDay) {
		return e, false, nil
	}
	return events.ApplicationLapsed{On: today, ResubmitBy: lastDay, Letter: events.Letter{
		ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀申請失效通知",
		Outcome:  fmt.Sprintf("本申請案經退件後，未於申請期間末日 %s 前補齊資料重新送件，已失效結案（R-MID-3）", lastDay.ROC()),
		NextStep: "如仍有轉介需求，請於下一申請期間重新提出申請。",
	}}, true, nil
}

// ValidateAcceptance checks an acceptance of an incomplete application
// (R-ELIG-4): the special reason, free text (sealed before it is
// recorded), and the items still owed, checklist items 1–12.
func ValidateAcceptance(reason string, owed []int) error {
	var c Check
	c.Text("special_reason", reason, MaxNoteLen, true)
	if !c.Has("special_reason") && isBlank(reason) {
		c.Set("special_reason", "required: the special reason (特殊原因) for accepting an incomplete application")
	}
	checkOwed(&c, owed)
	return c.Err()
}

func checkOwed(c *Check, owed []int) {
	switch {
	case len(owed) == 0:
		c.Set("owed_items", "name the checklist items still owed")
	case len(owed) > ChecklistItems:
		c.Set("owed_items", "at most 12 items")
	}
	for _, n := range owed {
		if n < 1 || n > ChecklistItems {
			c.Set("owed_items", "each must be a checklist item 1–12 (R-DOC-1)")
		}
	}
}

// AcceptIncomplete records a social worker's acceptance of an application
// missing documents, for a recorded special reason, with the items still
// owed (R-ELIG-4 Decision: 無特殊原因，不予受理). The owed items must be
// exactly what the origin school still owes; they stay shown on the case
// until they arrive, and do not hold up the first review. hasReason says
// whether the sealed reason holds text.
func (r *Referral) AcceptIncomplete(a events.Actor, reason events.Sealed, hasReason bool, owed []int, today calendar.Date) (events.IncompleteAccepted, error) {
	if a.Role != RoleSocialWorker {
		return events.IncompleteAccepted{}, Errorf(EForbidden, "incomplete applications are accepted by the branch school's social workers")
	}
	if !hasReason {
		return events.IncompleteAccepted{}, Invalid(map[string]string{"special_reason": "required: the special reason (特殊原因) for accepting an incomplete application"})
	}
	var c Check
	if checkOwed(&c, owed); c.Err() != nil {
		return events.IncompleteAccepted{}, c.Err()
	}
	switch {
	case r.Stage == StageReturned:
		return events.IncompleteAccepted{}, RuleError("R-MID-3", "the application was returned: it is accepted once re-submitted")
	case r.Stage != StageIntake:
		return events.IncompleteAccepted{}, Errorf(EConflict, "the application is no longer in intake (%s)", r.Stage)
	case r.Acceptance != nil:
		return events.IncompleteAccepted{}, Errorf(EConflict, "the application has already been accepted with items owed")
	}
	due := r.Owed()
	if len(due) == 0 {
		return events.IncompleteAccepted{}, RuleError("R-ELIG-4", "nothing is owed: the application is not incomplete")
	}
	set := slices.Clone(owed)
	slices.Sort(set)
	set = slices.Compact(set)
	for _, n := range set {
		m := n
		if m == 7 {
			m = 6 // the pair 6/7
		}
		if !slices.ContainsFunc(due, func(x Missing) bool { return x.Item == m }) {
			return events.IncompleteAccepted{}, RuleError("R-ELIG-4", "item %d is not owed", n)
		}
	}
	if left := StillOwed(set, due); len(left) != len(due) {
		var rest []Missing
		for _, d := range due {
			if !slices.Contains(left, d) {
				rest = append(rest, d)
			}
		}
		return events.IncompleteAccepted{}, RuleError("R-ELIG-4", "name every item still owed: %s too", missingNumbers(rest))
	}
	return events.IncompleteAccepted{Owed: set, On: today, Reason: reason}, nil
}

// CaseRef names a case and its branch.
type CaseRef struct {
	ID     string `db:"id"`
	Branch string `db:"branch"`
}
