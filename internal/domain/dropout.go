package domain

import (
	"fmt"
	"slices"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Dropout episodes (中輟, R-ORG-4) and the suspension grounds they and the
// staff's records give (R-SUS-1).

// Whereabouts is the closed set of a dropout's whereabouts (R-STAT-2 類別:
// WhereaboutsUnknown 行蹤不明, WhereaboutsKnown 非行蹤不明, declared with
// the statistics).
var Whereabouts = []string{WhereaboutsUnknown, WhereaboutsKnown}

// DropoutReasons are the reason categories of the national table
// (輟學原因, R-STAT-2).
var DropoutReasons = []string{"personal", "family", "school", "social", "other"}

// DropoutReasonLabels are the zh-TW labels of the reason categories.
var DropoutReasonLabels = map[string]string{
	"personal": "個人因素", "family": "家庭因素", "school": "學校因素", "social": "社會因素", "other": "其他",
}

// SubReason is an optional finer reason within a category.
type SubReason struct {
	Code  string `json:"code"`
	Label string `json:"label"` // zh-TW, for display
}

// DropoutSubReasons are the sub-reasons each category allows: a closed
// list, so that the statistics can break down by them without free text.
var DropoutSubReasons = map[string][]SubReason{
	"personal": {
		{"physical", "生理因素"}, {"psychological", "心理因素"}, {"accident", "意外事件"},
		{"pregnancy", "懷孕"}, {"learning", "學習困難"},
	},
	"family": {
		{"family_crisis", "家庭變故"}, {"parenting", "父母管教不當"}, {"parent_child", "親子關係不佳"},
		{"economic", "家庭經濟因素"}, {"moved", "搬家或遷移"}, {"family_work", "需負擔家計或照顧家人"},
	},
	"school": {
		{"achievement", "學業成就低落"}, {"curriculum", "對學校課程不感興趣"}, {"peers", "與同學關係不佳"},
		{"teachers", "與師長關係不佳"}, {"discipline", "違反校規"},
	},
	"social": {
		{"bad_company", "受校外不良朋友引誘"}, {"internet", "沉迷網路或電玩"}, {"gang", "參加幫派"},
		{"work", "外出工作"}, {"juvenile_case", "涉及少年事件"},
	},
	"other": {
		{"other", "其他"},
	},
}

// SubReasonLabel returns the zh-TW label of a sub-reason of reason, "" if
// it is not one.
func SubReasonLabel(reason, code string) string {
	for _, s := range DropoutSubReasons[reason] {
		if s.Code == code {
			return s.Label
		}
	}
	return ""
}

// Follow-up kinds and the parties who log them (R-ORG-4).
var (
	FollowUpKinds = []string{"follow_up", "search", "counselling"}
)

// Parties of a follow-up.
const (
	PartyBranch       = "branch"
	PartyOriginSchool = "origin_school"
)

// Dropout closing outcomes.
var DropoutOutcomes = []string{"returned", "left", "other"}

// DropoutEpisode is one dropout episode of a case, as the log records it.
type DropoutEpisode struct {
	Episode        int
	FirstDayAbsent calendar.Date
	Whereabouts    string
	Reason         string
	SubReason      string
	ReportedOn     *calendar.Date
	FoundOn        *calendar.Date
	ReturnedOn     *calendar.Date
	ClosedOn       *calendar.Date
	Outcome        string
	FollowUps      int
}

// Open reports whether the episode is not closed.
func (d DropoutEpisode) Open() bool { return d.ClosedOn == nil }

// RecordedGround is a suspension ground recorded by staff (R-SUS-1 (1),
// (2), (3), (6)).
type RecordedGround struct {
	Ground int
	On     calendar.Date
}

// Dropouts returns the case's dropout episodes in order (episode 1, 2, …).
func (r *Referral) Dropouts() []DropoutEpisode { return slices.Clone(r.dropouts) }

// RecordedGroundsLog returns every ground recorded by staff, in order.
func (r *Referral) RecordedGroundsLog() []RecordedGround { return slices.Clone(r.grounds) }

// applyDropout folds the dropout and ground events of a referral.
func (r *Referral) applyDropout(env events.Envelope) {
	ep := func(n int) *DropoutEpisode {
		if n < 1 || n > len(r.dropouts) {
			return nil
		}
		return &r.dropouts[n-1]
	}
	switch e := env.Payload.(type) {
	case events.DropoutOpened:
		r.dropouts = append(r.dropouts, DropoutEpisode{Episode: e.Episode, FirstDayAbsent: e.FirstDayAbsent,
			Whereabouts: e.Whereabouts, Reason: e.Reason, SubReason: e.SubReason})
	case events.DropoutReported:
		if d := ep(e.Episode); d != nil {
			on := e.ReportedOn
			d.ReportedOn = &on
		}
	case events.DropoutFollowUpLogged:
		if d := ep(e.Episode); d != nil {
			d.FollowUps++
		}
	case events.DropoutFound:
		if d := ep(e.Episode); d != nil {
			on := e.FoundOn
			d.FoundOn = &on
		}
	case events.DropoutReturned:
		if d := ep(e.Episode); d != nil {
			on := e.ReturnedOn
			d.ReturnedOn = &on
		}
	case events.DropoutClosed:
		if d := ep(e.Episode); d != nil {
			on := e.ClosedOn
			d.ClosedOn, d.Outcome = &on, e.Outcome
		}
	case events.SuspensionGroundRecorded:
		r.grounds = append(r.grounds, RecordedGround{Ground: e.Ground, On: e.On})
	}
}

// OpenDropout is what the social worker gives to open an episode.
type OpenDropout struct {
	FirstDayAbsent calendar.Date
	Whereabouts    string
	Reason         string
	SubReason      string
}

// Validate checks the fields of an episode to open: closed sets, and a
// first day absent that is not in the future.
func (o OpenDropout) Validate(today calendar.Date) error {
	var c Check
	if o.FirstDayAbsent.IsZero() {
		c.Set("first_day_absent", "required: a date YYYY-MM-DD")
	} else if o.FirstDayAbsent.After(today) {
		c.Set("first_day_absent", "cannot be in the future")
	}
	c.OneOf("whereabouts", o.Whereabouts, Whereabouts, true)
	c.OneOf("reason", o.Reason, DropoutReasons, true)
	if o.SubReason != "" && !c.Has("reason") && SubReasonLabel(o.Reason, o.SubReason) == "" {
		codes := make([]string, 0, len(DropoutSubReasons[o.Reason]))
		for _, s := range DropoutSubReasons[o.Reason] {
			codes = append(codes, s.Code)
		}
		c.OneOf("sub_reason", o.SubReason, codes, false)
	}
	return c.Err()
}

// OpenDropout records that an enrolled student dropped out (R-ORG-4): only
// while enrolled, at most one open episode, the first day absent not
// before the enrolment nor before the previous episode closed. The
// letter tells the origin school, which files the national report.
func (r *Referral) OpenDropout(a events.Actor, o OpenDropout, note events.Sealed, today calendar.Date) (events.DropoutOpened, error) {
	var zero events.DropoutOpened
	if a.Role != RoleSocialWorker {
		return zero, Errorf(EForbidden, "dropout episodes are opened by the branch school's social workers")
	}
	if err := o.Validate(today); err != nil {
		return zero, err
	}
	if r.Stage != StageEnrolled {
		return zero, RuleError("R-ORG-4", "a dropout episode is recorded for an enrolled student only (the case is %s)", r.Stage)
	}
	if en := r.Admission.EnrolledOn; en != nil && o.FirstDayAbsent.Before(*en) {
		return zero, RuleError("R-ORG-4", "the first day absent is before the enrolment on %s", en)
	}
	for _, d := range r.dropouts {
		if d.Open() {
			return zero, RuleError("R-ORG-4", "episode %d is still open: close it before opening another (one dropout is followed up until it is closed)", d.Episode)
		}
		if o.FirstDayAbsent.Before(*d.ClosedOn) {
			return zero, RuleError("R-ORG-4", "the first day absent is before episode %d was closed on %s", d.Episode, d.ClosedOn)
		}
	}
	n := len(r.dropouts) + 1
	where := "行蹤不明"
	if o.Whereabouts == WhereaboutsKnown {
		where = "非行蹤不明"
	}
	return events.DropoutOpened{Episode: n, FirstDayAbsent: o.FirstDayAbsent, Whereabouts: o.Whereabouts,
		Reason: o.Reason, SubReason: o.SubReason, Note: note,
		Letter: events.Letter{ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班學生中輟通知",
			Outcome:  fmt.Sprintf("學生自 %s 起未到校（中輟，第 %d 次，%s）", o.FirstDayAbsent.ROC(), n, where),
			NextStep: "請原學籍學校依規定辦理中輟通報，並與分校共同追蹤、協尋及輔導至結案為止（R-ORG-4）。"}}, nil
}

// episode returns episode n, not found when the case has none such.
func (r *Referral) episode(n int) (*DropoutEpisode, error) {
	if n < 1 || n > len(r.dropouts) {
		return nil, Errorf(ENotFound, "no such dropout episode")
	}
	return &r.dropouts[n-1], nil
}

// notFuture checks a date field against today.
func notFuture(field string, d, today calendar.Date) error {
	if d.IsZero() {
		return Invalid(map[string]string{field: "required: a date YYYY-MM-DD"})
	}
	if d.After(today) {
		return Invalid(map[string]string{field: "cannot be in the future"})
	}
	return nil
}

// ReportDropout records that the origin school filed the national dropout
// report for episode n (R-ORG-4).
func (r *Referral) ReportDropout(a events.Actor, n int, on, today calendar.Date) (events.DropoutReported, error) {
	var zero events.DropoutReported
	if a.Role != RoleOriginSchool {
		return zero, Errorf(EForbidden, "the national dropout report is filed by the origin school")
	}
	if err := notFuture("reported_on", on, today); err != nil {
		return zero, err
	}
	d, err := r.episode(n)
	if err != nil {
		return zero, err
	}
	if d.ReportedOn != nil {
		return zero, Errorf(EConflict, "episode %d's report is already recorded (%s)", n, d.ReportedOn)
	}
	if on.Before(d.FirstDayAbsent) {
		return zero, RuleError("R-ORG-4", "the report cannot precede the first day absent (%s)", d.FirstDayAbsent)
	}
	return events.DropoutReported{Episode: n, ReportedOn: on}, nil
}

// ValidateFollowUp checks a follow-up's kind and date.
func ValidateFollowUp(kind string, on, today calendar.Date) error {
	var c Check
	c.OneOf("kind", kind, FollowUpKinds, true)
	if on.IsZero() {
		c.Set("on", "required: a date YYYY-MM-DD")
	} else if on.After(today) {
		c.Set("on", "cannot be in the future")
	}
	return c.Err()
}

// LogDropoutFollowUp records a follow-up, search or counselling of an open
// episode by either school (R-ORG-4: both follow up until the case is
// closed); the party is the actor's.
func (r *Referral) LogDropoutFollowUp(a events.Actor, n int, kind string, on calendar.Date, note events.Sealed, today calendar.Date) (events.DropoutFollowUpLogged, error) {
	var zero events.DropoutFollowUpLogged
	party := ""
	switch a.Role {
	case RoleSocialWorker:
		party = PartyBranch
	case RoleOriginSchool:
		party = PartyOriginSchool
	default:
		return zero, Errorf(EForbidden, "follow-ups are logged by the branch school or the origin school")
	}
	if err := ValidateFollowUp(kind, on, today); err != nil {
		return zero, err
	}
	d, err := r.episode(n)
	if err != nil {
		return zero, err
	}
	if !d.Open() {
		return zero, RuleError("R-ORG-4", "episode %d is closed", n)
	}
	if on.Before(d.FirstDayAbsent) {
		return zero, RuleError("R-ORG-4", "a follow-up cannot precede the first day absent (%s)", d.FirstDayAbsent)
	}
	return events.DropoutFollowUpLogged{Episode: n, Kind: kind, Party: party, On: on, Note: note}, nil
}

// FindDropout records that a whereabouts-unknown student was found
// (R-SUS-1 (4), (5); R-STAT-2 類別): first day absent ≤ found, not after
// a recorded return.
func (r *Referral) FindDropout(a events.Actor, n int, on, today calendar.Date) (events.DropoutFound, error) {
	var zero events.DropoutFound
	if a.Role != RoleSocialWorker {
		return zero, Errorf(EForbidden, "a found student is recorded by the branch school's social workers")
	}
	if err := notFuture("found_on", on, today); err != nil {
		return zero, err
	}
	d, err := r.episode(n)
	if err != nil {
		return zero, err
	}
	switch {
	case d.Whereabouts != WhereaboutsUnknown:
		return zero, RuleError("R-STAT-2", "episode %d's whereabouts are known: only a whereabouts-unknown student is found", n)
	case !d.Open():
		return zero, RuleError("R-ORG-4", "episode %d is closed", n)
	case d.FoundOn != nil:
		return zero, Errorf(EConflict, "episode %d's student was already found (%s)", n, d.FoundOn)
	case on.Before(d.FirstDayAbsent):
		return zero, RuleError("R-SUS-1", "found_on cannot precede the first day absent (%s)", d.FirstDayAbsent)
	}
	return events.DropoutFound{Episode: n, FoundOn: on}, nil
}

// ReturnDropout records that the student returned to school (復學):
// first day absent ≤ found ≤ returned. A whereabouts-unknown student is
// found first.
func (r *Referral) ReturnDropout(a events.Actor, n int, on, today calendar.Date) (events.DropoutReturned, error) {
	var zero events.DropoutReturned
	if a.Role != RoleSocialWorker {
		return zero, Errorf(EForbidden, "a return is recorded by the branch school's social workers")
	}
	if err := notFuture("returned_on", on, today); err != nil {
		return zero, err
	}
	d, err := r.episode(n)
	if err != nil {
		return zero, err
	}
	switch {
	case !d.Open():
		return zero, RuleError("R-ORG-4", "episode %d is closed", n)
	case d.ReturnedOn != nil:
		return zero, Errorf(EConflict, "episode %d's return is already recorded (%s)", n, d.ReturnedOn)
	case d.Whereabouts == WhereaboutsUnknown && d.FoundOn == nil:
		return zero, RuleError("R-SUS-1", "episode %d's student is whereabouts-unknown: record that they were found first", n)
	case on.Before(d.FirstDayAbsent):
		return zero, RuleError("R-ORG-4", "returned_on cannot precede the first day absent (%s)", d.FirstDayAbsent)
	case d.FoundOn != nil && on.Before(*d.FoundOn):
		return zero, RuleError("R-ORG-4", "returned_on cannot precede the day found (%s)", d.FoundOn)
	}
	return events.DropoutReturned{Episode: n, ReturnedOn: on}, nil
}

// ValidateDropoutClose checks a closing's outcome.
func ValidateDropoutClose(outcome string) error {
	var c Check
	c.OneOf("outcome", outcome, DropoutOutcomes, true)
	return c.Err()
}

// CloseDropout ends an episode's follow-up (R-ORG-4 「至結案為止」): on or
// after every other date of the episode; outcome returned needs the
// return recorded.
func (r *Referral) CloseDropout(a events.Actor, n int, on calendar.Date, outcome string, today calendar.Date) (events.DropoutClosed, error) {
	var zero events.DropoutClosed
	if a.Role != RoleSocialWorker {
		return zero, Errorf(EForbidden, "episodes are closed by the branch school's social workers")
	}
	if err := notFuture("closed_on", on, today); err != nil {
		return zero, err
	}
	if err := ValidateDropoutClose(outcome); err != nil {
		return zero, err
	}
	d, err := r.episode(n)
	if err != nil {
		return zero, err
	}
	if !d.Open() {
		return zero, Errorf(EConflict, "episode %d is already closed (%s)", n, d.ClosedOn)
	}
	for _, x := range []*calendar.Date{&d.FirstDayAbsent, d.FoundOn, d.ReturnedOn} {
		if x != nil && on.Before(*x) {
			return zero, RuleError("R-ORG-4", "closed_on cannot precede the episode's other dates (%s)", x)
		}
	}
	if outcome == "returned" && d.ReturnedOn == nil {
		return zero, RuleError("R-ORG-4", "record the return before closing episode %d as returned", n)
	}
	return events.DropoutClosed{Episode: n, ClosedOn: on, Outcome: outcome}, nil
}

// Suspension grounds (R-SUS-1).
const (
	GroundReasonGone     = 1 // the referral reason no longer exists
	GroundUnwilling      = 2 // the student or guardian no longer wants to attend
	GroundMisconduct     = 3 // serious misconduct
	GroundDropout3Weeks  = 4 // dropped out 3 weeks or more, still not found (detected)
	GroundRepeatDropouts = 5 // 3+ episodes, the latest whereabouts-unknown > 7 days (detected)
	GroundUnfitBoarding  = 6 // cannot adapt to boarding
)

// RecordableGrounds are the grounds staff record with evidence; 4 and 5
// are detected from the episodes by date, never recorded.
var RecordableGrounds = []int{GroundReasonGone, GroundUnwilling, GroundMisconduct, GroundUnfitBoarding}

// SuspensionGroundLabels are the zh-TW labels of the grounds.
var SuspensionGroundLabels = map[int]string{
	1: "轉介原因消失", 2: "學生或家長無意願就讀", 3: "行為嚴重偏差，影響其他學生住宿或就學",
	4: "中輟三週以上仍未尋獲", 5: "就讀期間中輟累計三次以上，且最近一次行蹤不明逾七日未尋獲", 6: "無法適應住宿生活",
}

// ValidateGround checks a ground to record: 1, 2, 3 or 6, on a day not in
// the future.
func ValidateGround(ground int, on, today calendar.Date) error {
	var c Check
	if !slices.Contains(RecordableGrounds, ground) {
		c.Set("ground", "must be 1, 2, 3 or 6 (R-SUS-1; grounds 4 and 5 are detected from the dropout episodes)")
	}
	if on.IsZero() {
		c.Set("on", "required: a date YYYY-MM-DD")
	} else if on.After(today) {
		c.Set("on", "cannot be in the future")
	}
	return c.Err()
}

// RecordGround records a ground of R-SUS-1 that needs evidence, for an
// enrolled student; the evidence is sealed by the caller (hasEvidence
// says whether there is any: it is required).
func (r *Referral) RecordGround(a events.Actor, ground int, on calendar.Date, evidence events.Sealed, hasEvidence bool, today calendar.Date) (events.SuspensionGroundRecorded, error) {
	var zero events.SuspensionGroundRecorded
	if a.Role != RoleSocialWorker {
		return zero, Errorf(EForbidden, "suspension grounds are recorded by the branch school's social workers")
	}
	if err := ValidateGround(ground, on, today); err != nil {
		return zero, err
	}
	if !hasEvidence {
		return zero, Invalid(map[string]string{"evidence": "required: the evidence of the ground (R-SUS-1)"})
	}
	if r.Stage != StageEnrolled {
		return zero, RuleError("R-SUS-1", "suspension grounds are recorded for an enrolled student only (the case is %s)", r.Stage)
	}
	if en := r.Admission.EnrolledOn; en != nil && on.Before(*en) {
		return zero, RuleError("R-SUS-1", "the ground's date is before the enrolment on %s", en)
	}
	return events.SuspensionGroundRecorded{Ground: ground, On: on, Evidence: evidence}, nil
}

// daysBetween is b − a in days.
func daysBetween(a, b calendar.Date) int {
	return int(b.Time().Sub(a.Time()).Hours() / 24)
}

// onOrBefore reports whether d is set and not after asOf.
func onOrBefore(d *calendar.Date, asOf calendar.Date) bool { return d != nil && !d.After(asOf) }

// DetectGrounds returns the grounds (4) and (5) of R-SUS-1 that hold on
// asOf for a student's episodes (as of that date: an episode starting
// later, or a date recorded for later, does not count). Decision
// (counting, R-SUS-1): an episode's start is its first day absent.
//   - (4): an episode is open and not found on asOf, and asOf − start ≥ 21
//     days (「三週以上」 includes 21).
//   - (5): 3 or more episodes since enrolment, counting the current one;
//     the latest is whereabouts-unknown, still not found, and asOf −
//     start ≥ 8 days (「逾 7 日」 excludes 7).
//
// An episode is open on asOf while the absence lasts: not closed and the
// student not returned by then.
func DetectGrounds(episodes []DropoutEpisode, asOf calendar.Date) []int {
	var seen []DropoutEpisode
	for _, d := range episodes {
		if !d.FirstDayAbsent.After(asOf) {
			seen = append(seen, d)
		}
	}
	ongoing := func(d DropoutEpisode) bool {
		return !onOrBefore(d.ClosedOn, asOf) && !onOrBefore(d.ReturnedOn, asOf) && !onOrBefore(d.FoundOn, asOf)
	}
	var out []int
	for _, d := range seen {
		if ongoing(d) && daysBetween(d.FirstDayAbsent, asOf) >= 21 {
			out = append(out, GroundDropout3Weeks)
			break
		}
	}
	if len(seen) >= 3 {
		last := seen[len(seen)-1]
		for _, d := range seen {
			if d.FirstDayAbsent.After(last.FirstDayAbsent) || (d.FirstDayAbsent == last.FirstDayAbsent && d.Episode > last.Episode) {
				last = d
			}
		}
		if last.Whereabouts == WhereaboutsUnknown && ongoing(last) && daysBetween(last.FirstDayAbsent, asOf) >= 8 {
			out = append(out, GroundRepeatDropouts)
		}
	}
	return out
}

// DetectedGrounds returns the grounds (4) and (5) that hold for r on asOf
// (see DetectGrounds).
func DetectedGrounds(r *Referral, asOf calendar.Date) []int {
	return DetectGrounds(r.dropouts, asOf)
}

// RecordedGrounds returns the distinct grounds (1), (2), (3), (6) staff
// recorded for r on or before asOf, in ascending order.
func RecordedGrounds(r *Referral, asOf calendar.Date) []int {
	return GroundsRecordedBy(r.grounds, asOf)
}

// GroundsRecordedBy returns the distinct grounds recorded on or before
// asOf, in ascending order.
func GroundsRecordedBy(recorded []RecordedGround, asOf calendar.Date) []int {
	var out []int
	for _, g := range recorded {
		if !g.On.After(asOf) && !slices.Contains(out, g.Ground) {
			out = append(out, g.Ground)
		}
	}
	slices.Sort(out)
	return out
}

// SuspensionGrounds returns every ground of R-SUS-1 that holds for r on
// asOf: recorded and detected, in ascending order.
func SuspensionGrounds(r *Referral, asOf calendar.Date) []int {
	out := append(RecordedGrounds(r, asOf), DetectedGrounds(r, asOf)...)
	slices.Sort(out)
	return slices.Compact(out)
}
