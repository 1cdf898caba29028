package domain_test

import (
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

var suspSW = events.Actor{Role: events.RoleSocialWorker}

// enrolledCase is an enrolled student of grade, enrolled on 2025-09-01.
func enrolledCase(id string, grade int) *domain.Referral {
	on := calendar.NewDate(2025, 9, 1)
	r := &domain.Referral{ID: id, OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 114, Stage: domain.StageEnrolled,
		Grade: grade, PersonKey: "p_" + id}
	r.Admission.EnrolledOn = &on
	return r
}

func fold(r *domain.Referral, evs ...events.Event) {
	for _, e := range evs {
		r.Apply(events.Envelope{Payload: e, Version: r.Version + 1})
	}
}

// suspensionCase is an enrolled student whose procedure reached the
// docket (R-SUS-2, R-SUS-3).
func suspensionCase(id string, grade int) *domain.Referral {
	r := enrolledCase(id, grade)
	d := calendar.NewDate(2026, 2, 10)
	fold(r, events.SuspensionOpened{Grounds: []int{2}, On: d, Source: domain.SuspensionBySocialWorker},
		events.SuspensionVisitLogged{Kind: "home", On: d}, events.SuspensionVisitLogged{Kind: "origin_school", On: d},
		events.SuspensionReportSent{On: d})
	return r
}

// R-ENR-4: an adaptation meeting's propose_end opens the suspension
// procedure in the same append and the student stays enrolled; continue
// opens nothing; only an enrolled student has one.
func TestR_ENR_4_ProposeEndOpensProcedureStudentStaysEnrolled(t *testing.T) {
	today := calendar.NewDate(2026, 2, 11)
	r := enrolledCase("a", 8)
	evs, err := r.HoldAdaptationMeeting(suspSW, today, domain.AdaptationProposeEnd, []int{6}, events.Sealed{}, today)
	if err != nil || len(evs) != 2 {
		t.Fatalf("propose_end: %v %v", evs, err)
	}
	if o, ok := evs[1].(events.SuspensionOpened); !ok || o.Source != domain.SuspensionByAdaptationMeeting || len(o.Grounds) != 1 || o.Grounds[0] != 6 {
		t.Fatalf("propose_end opened %#v", evs[1])
	}
	fold(r, evs...)
	if r.Stage != domain.StageEnrolled || !r.Suspension.Open || r.OnSuspensionDocket() {
		t.Fatalf("after propose_end: stage %s, procedure %+v", r.Stage, r.Suspension)
	}
	if evs, err := enrolledCase("b", 8).HoldAdaptationMeeting(suspSW, today, domain.AdaptationContinue, nil, events.Sealed{}, today); err != nil || len(evs) != 1 {
		t.Fatalf("continue: %v %v", evs, err)
	}
	if _, err := enrolledCase("c", 8).HoldAdaptationMeeting(suspSW, today, domain.AdaptationProposeEnd, nil, events.Sealed{}, today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("propose_end without grounds: %v", err)
	}
	admitted := enrolledCase("d", 8)
	admitted.Stage = domain.StageAdmitted
	if _, err := admitted.HoldAdaptationMeeting(suspSW, today, domain.AdaptationContinue, nil, events.Sealed{}, today); ruleOf(err) != "R-ENR-4" {
		t.Fatalf("an adaptation meeting of a student not enrolled: %v", err)
	}
}

// R-SUS-1: a procedure's grounds are the numbers 1–6, each once, at least
// one.
func TestR_SUS_1_GroundsAreOneToSix(t *testing.T) {
	for _, g := range [][]int{nil, {0}, {7}, {2, 2}, {1, 2, 3, 4, 5, 6, 1}} {
		if err := domain.ValidateGrounds("grounds", g); domain.ErrorCode(err) != domain.EInvalid {
			t.Errorf("grounds %v: %v", g, err)
		}
	}
	if err := domain.ValidateGrounds("grounds", []int{6, 1, 2, 3, 4, 5}); err != nil {
		t.Fatalf("all six grounds: %v", err)
	}
}

// R-SUS-2: the evaluation report follows the home visit and the
// origin-school visit; a second procedure waits for the first.
func TestR_SUS_2_ReportFollowsBothVisits(t *testing.T) {
	today := calendar.NewDate(2026, 2, 11)
	r := enrolledCase("a", 8)
	if _, err := r.SendSuspensionReport(suspSW, today, events.Sealed{}, today); ruleOf(err) != "R-SUS-2" {
		t.Fatalf("a report with no procedure: %v", err)
	}
	fold(r, events.SuspensionGroundRecorded{Ground: 3, On: today})
	e, err := r.OpenSuspension(suspSW, []int{3}, today, events.Sealed{}, today)
	if err != nil {
		t.Fatal(err)
	}
	fold(r, e)
	if _, err := r.OpenSuspension(suspSW, []int{3}, today, events.Sealed{}, today); domain.ErrorCode(err) != domain.EConflict {
		t.Fatalf("a second procedure: %v", err)
	}
	v, err := r.LogSuspensionVisit(suspSW, "home", today, events.Sealed{}, today)
	if err != nil {
		t.Fatal(err)
	}
	fold(r, v)
	if _, err := r.SendSuspensionReport(suspSW, today, events.Sealed{}, today); ruleOf(err) != "R-SUS-2" {
		t.Fatalf("a report without the origin-school visit: %v", err)
	}
	v, _ = r.LogSuspensionVisit(suspSW, "origin_school", today, events.Sealed{}, today)
	fold(r, v)
	rep, err := r.SendSuspensionReport(suspSW, today, events.Sealed{}, today)
	if err != nil || rep.Letter.ToSchool != "034501" {
		t.Fatalf("the report: %+v %v", rep, err)
	}
	fold(r, rep)
	if !r.OnSuspensionDocket() || r.OnDocket() {
		t.Fatal("a reported case is a suspension case on the docket, not an admission case")
	}
}

// R-SUS-3, R-SUS-4: a suspension case is resolved suspend (with a
// destination) or continue; an admission case never suspend or continue.
func TestR_SUS_3_ResolutionFitsTheCase(t *testing.T) {
	today := calendar.NewDate(2025, 10, 20)
	m := &domain.Meeting{ID: "m1", Status: "open"}
	sus := suspensionCase("a", 8)
	adm := &domain.Referral{ID: "b", Stage: domain.StageRecommended}
	in := func(res, dest string) domain.ResolutionInput {
		return domain.ResolutionInput{Resolution: res, Destination: dest}
	}
	if _, err := m.ResolveCase(committeeActor, sus, in(domain.ResolutionAdmit, ""), today); ruleOf(err) != "R-SUS-3" {
		t.Fatalf("admit on a suspension case: %v", err)
	}
	if _, err := m.ResolveCase(committeeActor, adm, in(domain.ResolutionSuspend, "judicial"), today); ruleOf(err) != "R-SUS-2" {
		t.Fatalf("suspend on an admission case: %v", err)
	}
	if _, err := m.ResolveCase(committeeActor, adm, in(domain.ResolutionContinue, ""), today); ruleOf(err) != "R-SUS-2" {
		t.Fatalf("continue on an admission case: %v", err)
	}
	for _, dest := range []string{"", "prison"} {
		if _, err := m.ResolveCase(committeeActor, sus, in(domain.ResolutionSuspend, dest), today); domain.ErrorCode(err) != domain.EInvalid {
			t.Fatalf("suspend to %q: %v", dest, err)
		}
	}
	if _, err := m.ResolveCase(committeeActor, sus, in(domain.ResolutionContinue, "judicial"), today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("continue with a destination: %v", err)
	}
	e, err := m.ResolveCase(committeeActor, sus, in(domain.ResolutionSuspend, "judicial"), today)
	if err != nil || e.Destination != "judicial" {
		t.Fatalf("suspend: %+v %v", e, err)
	}
}

// R-EXCL-4: a grade-9 student in the second semester (Feb 1 – Jul 31) is
// suspended only for a major reason recorded in the resolution.
func TestR_EXCL_4_Grade9SecondSemesterSuspensionNeedsMajorReason(t *testing.T) {
	m := &domain.Meeting{ID: "m1", Status: "open"}
	suspend := domain.ResolutionInput{Resolution: domain.ResolutionSuspend, Destination: "origin_school"}
	for _, c := range []struct {
		grade  int
		today  calendar.Date
		reason bool
		rule   string
	}{
		{9, calendar.NewDate(2026, 2, 1), false, "R-EXCL-4"},
		{9, calendar.NewDate(2026, 7, 31), false, "R-EXCL-4"},
		{9, calendar.NewDate(2026, 3, 10), true, ""},
		{9, calendar.NewDate(2026, 1, 31), false, ""},
		{8, calendar.NewDate(2026, 3, 10), false, ""},
	} {
		in := suspend
		in.HasReason = c.reason
		_, err := m.ResolveCase(committeeActor, suspensionCase("a", c.grade), in, c.today)
		if ruleOf(err) != c.rule || (c.rule == "" && err != nil) {
			t.Errorf("grade %d on %s, reason %v: %v, want %q", c.grade, c.today, c.reason, err, c.rule)
		}
	}
}

// R-SUS-4, R-CAP-1, R-SOY-5: at the close, the suspended student's seat is
// released first; this meeting's admissions take free seats, then the
// waiting list in its order; the counts carry the freed seat. A continue
// closes the procedure and keeps the seat.
func TestR_SUS_4_CloseReleasesSeatThenFills(t *testing.T) {
	today := calendar.NewDate(2026, 3, 30)
	setup := func(withAdmission bool) (*domain.Meeting, *domain.Roster, map[string]*domain.Referral) {
		a, b := suspensionCase("a", 8), enrolledCase("b", 8)
		roster := &domain.Roster{Seats: map[string]domain.Seat{"a": {PersonKey: "p_a", Enrolled: true}, "b": {PersonKey: "p_b", Enrolled: true}},
			Persons: map[string]string{"p_a": "a", "p_b": "b"},
			Waiting: []domain.WaitEntry{{CaseID: "w1", ApplicationPosition: 5}, {CaseID: "w2", ApplicationPosition: 6}}}
		cases := map[string]*domain.Referral{"a": a, "b": b}
		for i, id := range []string{"w1", "w2"} {
			w := &domain.Referral{ID: id, OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 114, Stage: domain.StageWaitlisted, PersonKey: "p_" + id}
			w.Admission.ApplicationPosition = uint64(5 + i)
			cases[id] = w
		}
		m := &domain.Meeting{ID: "m2", Status: "open", Resolutions: []domain.MeetingResolution{
			{CaseID: "a", Resolution: domain.ResolutionSuspend, Destination: "origin_school"}}}
		if withAdmission {
			x := &domain.Referral{ID: "x", OriginSchool: "034501", Route: domain.RouteMidYear, AcademicYear: 114, Stage: domain.StageRecommended, PersonKey: "p_x"}
			x.Admission.ApplicationPosition = 9
			cases["x"] = x
			m.Resolutions = append(m.Resolutions, domain.MeetingResolution{CaseID: "x", Resolution: domain.ResolutionAdmit})
		}
		return m, roster, cases
	}
	m, roster, cases := setup(false)
	if n := domain.WaitingToLoad(m, roster, 2, today); n != 1 {
		t.Fatalf("waiting cases to load: %d, want 1", n)
	}
	plan, err := domain.PlanClose(committeeActor, m, roster, cases, 2, today, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Roster) != 2 {
		t.Fatalf("roster events %#v", plan.Roster)
	}
	rel, ok1 := plan.Roster[0].(events.SeatReleased)
	took, ok2 := plan.Roster[1].(events.SeatTaken)
	if !ok1 || !ok2 || rel.CaseID != "a" || took.CaseID != "w1" || took.Taken != 2 {
		t.Fatalf("roster events %#v", plan.Roster)
	}
	if s, ok := plan.Cases["a"][0].(events.Suspended); !ok || s.Destination != "origin_school" || s.On != today {
		t.Fatalf("case a: %#v", plan.Cases["a"])
	}
	if ad, ok := plan.Cases["w1"][0].(events.Admitted); !ok || !ad.FromWaitlist || len(plan.Cases["w2"]) != 0 {
		t.Fatalf("waiting cases: %#v %#v", plan.Cases["w1"], plan.Cases["w2"])
	}

	// This meeting's admission comes first: it takes the freed seat.
	m, roster, cases = setup(true)
	plan, err = domain.PlanClose(committeeActor, m, roster, cases, 2, today, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Admitted) != 1 || plan.Admitted[0] != "x" || len(plan.FromWaitlist) != 0 || len(plan.Cases["w1"]) != 0 {
		t.Fatalf("admitted %v, from the waiting list %v", plan.Admitted, plan.FromWaitlist)
	}

	// continue: the procedure closes, the seat stays.
	m, roster, cases = setup(false)
	m.Resolutions[0] = domain.MeetingResolution{CaseID: "a", Resolution: domain.ResolutionContinue}
	plan, err = domain.PlanClose(committeeActor, m, roster, cases, 2, today, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Roster) != 0 {
		t.Fatalf("continue changed the roster: %#v", plan.Roster)
	}
	if _, ok := plan.Cases["a"][0].(events.SuspensionDeclined); !ok {
		t.Fatalf("continue: %#v", plan.Cases["a"])
	}
	fold(cases["a"], plan.Cases["a"]...)
	if cases["a"].Stage != domain.StageEnrolled || cases["a"].OnSuspensionDocket() {
		t.Fatalf("after continue: %s %+v", cases["a"].Stage, cases["a"].Suspension)
	}
}

// Retention (學生輔導法施行細則 §10): a suspended student's case closes on
// the day the enrolment ended, not at graduation.
func TestSuspendedCaseClosesOnTheDayItEnded(t *testing.T) {
	d := calendar.NewDate(2026, 3, 30)
	f := domain.RetentionFacts{Stage: domain.StageSuspended, StageOn: d, AcademicYear: 114, Grade: 7}
	if got := domain.ClosedOn(f); got != d {
		t.Fatalf("a suspended case closes on %s, want %s", got, d)
	}
}

// R-SUS-1: a procedure opens only on grounds that hold on its date:
// (4) and (5) as detected from the episodes, (1), (2), (3), (6) as
// recorded with their evidence; an adaptation meeting's propose_end is
// itself the evidence of (6).
func TestR_SUS_1_ProcedureOpensOnlyOnGroundsThatHold(t *testing.T) {
	day := calendar.NewDate(2026, 3, 2)
	r := enrolledCase("g", 8)
	if _, err := r.OpenSuspension(suspSW, []int{2}, day, events.Sealed{}, day); ruleOf(err) != "R-SUS-1" {
		t.Fatalf("ground (2) with no evidence: %v", err)
	}
	fold(r, events.SuspensionGroundRecorded{Ground: 2, On: day.AddDays(1)})
	if _, err := r.OpenSuspension(suspSW, []int{2}, day, events.Sealed{}, day.AddDays(1)); ruleOf(err) != "R-SUS-1" {
		t.Fatalf("ground (2) recorded only after the procedure's date: %v", err)
	}
	if _, err := r.OpenSuspension(suspSW, []int{2}, day.AddDays(1), events.Sealed{}, day.AddDays(1)); err != nil {
		t.Fatalf("ground (2) recorded that day: %v", err)
	}
	// Ground (4): absent since Feb 9, not found: 20 days on Mar 1, 21 on Mar 2.
	out := enrolledCase("h", 8)
	fold(out, events.DropoutOpened{Episode: 1, FirstDayAbsent: calendar.NewDate(2026, 2, 9), Whereabouts: "unknown", Reason: "family"})
	if _, err := out.OpenSuspension(suspSW, []int{4}, day.AddDays(-1), events.Sealed{}, day); ruleOf(err) != "R-SUS-1" {
		t.Fatalf("ground (4) after 20 days: %v", err)
	}
	if _, err := out.OpenSuspension(suspSW, []int{4}, day, events.Sealed{}, day); err != nil {
		t.Fatalf("ground (4) after 21 days: %v", err)
	}
	if _, err := enrolledCase("i", 8).HoldAdaptationMeeting(suspSW, day, domain.AdaptationProposeEnd, []int{6}, events.Sealed{}, day); err != nil {
		t.Fatalf("propose_end on ground (6): %v", err)
	}
	if _, err := enrolledCase("j", 8).HoldAdaptationMeeting(suspSW, day, domain.AdaptationProposeEnd, []int{1}, events.Sealed{}, day); ruleOf(err) != "R-SUS-1" {
		t.Fatalf("propose_end on ground (1) with no evidence: %v", err)
	}
}
