package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

var admin = app.Meta{Actor: events.Actor{Role: domain.RoleAdmin, Branch: domain.DefaultBranchCode}}

func newReferralID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return "r" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

func taipei(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 9, 0, 0, 0, domain.Taipei)
}

// seatedSchool records, straight into the event store, a school of
// academic year 114 seated since Aug 1 2025: perGrade[g] enrolled
// students in grade g (real case streams, enrolled, and their roster
// seats), and waiting cases of year 114. It returns the case ids per
// grade and the waiting ones.
func seatedSchool(t *testing.T, e *testenv.Env, perGrade map[int]int, waiting int) (map[int][]string, []string) {
	t.Helper()
	ctx := context.Background()
	from := calendar.NewDate(2025, time.August, 1)
	meta := events.Metadata{Actor: events.Actor{Role: events.RoleSystem}, OccurredAt: taipei(2025, 8, 1)}
	roster := events.StreamID{Branch: e.Branch.Code, Type: events.AggregateRoster}
	var seats []events.Event
	ids := map[int][]string{}
	for g := 7; g <= 9; g++ {
		var appends []events.Append
		for i := range perGrade[g] {
			id := newReferralID()
			ids[g] = append(ids[g], id)
			class := fmt.Sprintf("%d-%d", g, i%3+1)
			appends = append(appends, events.Append{Stream: events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id}, Meta: meta,
				Events: []events.Event{
					events.ReferralOpened{ReferralID: id, OriginSchool: "034501", AcademicYear: 114, Route: "mid_year", Channel: "direct",
						ReceivedOn: from, Grade: g, Sex: "F", Grounds: []string{domain.GroundLowIncome}, PersonKey: "pk" + id},
					events.Admitted{MeetingID: "m-old", ReportBy: &from},
					events.Enrolled{On: from, Grade: g, Class: class},
				}})
			seats = append(seats, events.SeatTaken{CaseID: id, PersonKey: "pk" + id, Cap: 135, From: &from, Grade: g, GradeYear: 114},
				events.SeatEnrolled{CaseID: id, Grade: g, Class: class})
		}
		if len(appends) > 0 {
			if _, err := e.Store.Append(ctx, appends...); err != nil {
				t.Fatal(err)
			}
		}
	}
	var waitIDs []string
	for range waiting {
		id := newReferralID()
		waitIDs = append(waitIDs, id)
		envs, err := e.Store.Append(ctx, events.Append{Stream: events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id}, Meta: meta,
			Events: []events.Event{
				events.ReferralOpened{ReferralID: id, OriginSchool: "034501", AcademicYear: 114, Route: "mid_year", Channel: "direct",
					ReceivedOn: from, Grade: 8, Sex: "M", Grounds: []string{domain.GroundLowIncome}, PersonKey: "pk" + id},
				events.Waitlisted{MeetingID: "m-old"},
			}})
		if err != nil {
			t.Fatal(err)
		}
		seats = append(seats, events.WaitlistJoined{CaseID: id, ApplicationPosition: envs[0].Position})
	}
	if _, err := e.Store.Append(ctx, events.Append{Stream: roster, Events: seats, Meta: meta}); err != nil {
		t.Fatal(err)
	}
	return ids, waitIDs
}

// startOfYearCase files a start-of-year referral for academic year 115
// (grade 7) and brings it to the recommended list.
func startOfYearCase(t *testing.T, e *testenv.Env) string {
	t.Helper()
	return recommendedCase(t, e, domain.RouteStartOfYear, 7)
}

// recommendedCase files a referral on route (mid-year: direct) for grade
// and brings it to the recommended list.
func recommendedCase(t *testing.T, e *testenv.Env, route domain.Route, grade int) string {
	t.Helper()
	ctx := context.Background()
	school := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501", Branch: e.Branch.Code}}
	channel := domain.Channel("")
	if route == domain.RouteMidYear {
		channel = domain.ChannelDirect
	}
	res, err := e.App.OpenReferral(ctx, school, domain.OpenReferral{
		Route: route, Channel: channel, Grade: grade, Sex: "M",
		Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
		Person: domain.Person{StudentName: "測試", NationalID: testenv.NewNationalID(), BirthDate: "2013-01-01", GuardianName: "家長", Reason: "測試"},
	})
	if err != nil {
		t.Fatal(err)
	}
	today := calendar.DateOf(e.Clock.Now(), domain.Taipei)
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10} {
		var issued *calendar.Date
		if item == 5 {
			issued = &today
		}
		enc := domain.Enclosures{AccidentInsurance: item == 9 && route == domain.RouteMidYear} // R-DOC-1
		must(t)(e.App.SubmitDocumentWith(ctx, school, res.ID, item, 1, issued, enc))
		must(t)(e.App.CheckDocument(ctx, worker, res.ID, item, true, ""))
	}
	for _, k := range []string{domain.VisitHome, domain.VisitInterview, "report"} {
		must(t)(e.App.LogVisit(ctx, worker, res.ID, k, today, ""))
	}
	must(t)(e.App.DecideFirstReview(ctx, worker, res.ID, domain.OutcomeRecommend, ""))
	return res.ID
}

func stageOf(t *testing.T, e *testenv.Env, id string) *domain.Referral {
	t.Helper()
	l, err := e.Store.Load(context.Background(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	var r domain.Referral
	for _, env := range l.Events {
		r.Apply(env)
	}
	return &r
}

// capacityOn reads GET /v1/capacity?on= (the projected dated roster).
func capacityOn(t *testing.T, e *testenv.Env, on string) map[string]any {
	t.Helper()
	r := e.Do("GET", "/v1/capacity?on="+on, e.Token(domain.RoleSocialWorker, ""), nil)
	if r.Status != 200 {
		t.Fatalf("capacity on %s: %d %s", on, r.Status, r.Body)
	}
	return r.JSON(t)
}

// Issue 10 acceptance, R-CAP-1 (dated), R-SOY-5, R-SUS-1 decision: a full
// school of 135, 45 of them in grade 9. In May the start-of-year meeting
// admits 50: 45 hold seats from Aug 1 (the seats the graduates free on
// Jul 31), 5 wait. Capacity for Jul 31 and Aug 1 both show 135. On Aug 1
// the scheduled roll-over (injected clock) graduates grade 9, advances
// grades, lapses last year's waiting list, proposes classes; a second run
// changes nothing.
func TestR_CAP_1_TwoYears(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{Now: taipei(2026, 5, 4)})
	grades, lastYearWaiting := seatedSchool(t, e, map[int]int{7: 45, 8: 45, 9: 45}, 2)

	var soy []string
	for range 50 {
		soy = append(soy, startOfYearCase(t, e))
	}
	res, _, err := e.App.ScheduleMeeting(ctx, committee, 115, "start_of_year", calendar.NewDate(2026, time.May, 20), "")
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(taipei(2026, 5, 20))
	must(t)(e.App.OpenMeeting(ctx, committee, res.ID))
	for _, id := range soy {
		must(t)(e.App.Resolve(ctx, committee, res.ID, id, domain.ResolutionAdmit, ""))
	}
	june := calendar.NewDate(2026, time.June, 1) // R-SOY-6: the reporting date, a working day
	must(t)(e.App.CloseMeeting(ctx, committee, res.ID, &june))
	admitted, waiting := 0, 0
	for i, id := range soy {
		switch st := stageOf(t, e, id).Stage; st {
		case domain.StageAdmitted:
			admitted++
			if i >= 45 {
				t.Fatalf("case %d admitted out of application order", i)
			}
		case domain.StageWaitlisted:
			waiting++
		default:
			t.Fatalf("case %d: %s", i, st)
		}
	}
	if admitted != 45 || waiting != 5 {
		t.Fatalf("May meeting: %d admitted, %d waiting; want 45 and 5", admitted, waiting)
	}
	for _, on := range []string{"2026-05-20", "2026-07-31", "2026-08-01", "2027-07-31"} {
		if c := capacityOn(t, e, on); c["held"] != float64(135) || c["free"] != float64(0) {
			t.Fatalf("capacity on %s: %v", on, c)
		}
	}
	if c := capacityOn(t, e, "2026-08-01"); c["enrolled"] != float64(90) || c["admitted_awaiting_enrolment"] != float64(45) ||
		len(c["waiting_list"].([]any)) != 7 {
		t.Fatalf("Aug 1 before the roll-over: %v", c)
	}

	// Jul 31: nothing to roll over yet.
	e.Clock.Set(taipei(2026, 7, 31))
	job := &app.RolloverJob{App: e.App, Branches: func(context.Context) ([]string, error) { return []string{e.Branch.Code}, nil }, Clock: e.Clock}
	if _, err := e.App.RollOver(ctx, admin, 115); domain.ErrorCode(err) != domain.ERule {
		t.Fatalf("roll-over before Aug 1: %v", err)
	}
	e.Clock.Set(taipei(2026, 8, 1))
	if n, err := job.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("the job on Aug 1: %d %v", n, err)
	}
	if n, err := job.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("the job again: %d %v (idempotent per year)", n, err)
	}
	if r, err := e.App.RollOver(ctx, admin, 115); err != nil || !r.Done {
		t.Fatalf("the command again: %+v %v", r, err)
	}
	for _, id := range grades[9] {
		if r := stageOf(t, e, id); r.Stage != domain.StageGraduated || r.Admission.EndState != domain.EndingGraduated {
			t.Fatalf("grade 9 %s: %s", id, r.Stage)
		}
	}
	for g, want := range map[int]int{7: 8, 8: 9} {
		for _, id := range grades[g] {
			if r := stageOf(t, e, id); r.Stage != domain.StageEnrolled || r.Grade != want {
				t.Fatalf("grade %d %s: %s grade %d", g, id, r.Stage, r.Grade)
			}
		}
	}
	for _, id := range lastYearWaiting {
		if r := stageOf(t, e, id); r.Stage != domain.StageLapsed {
			t.Fatalf("last year's waiting %s: %s", id, r.Stage)
		}
	}
	for _, on := range []string{"2026-07-31", "2026-08-01"} {
		c := capacityOn(t, e, on)
		if c["held"] != float64(135) {
			t.Fatalf("capacity on %s after the roll-over: %v", on, c)
		}
		if w := c["waiting_list"].([]any); len(w) != 5 || w[0].(map[string]any)["case_id"] != soy[45] {
			t.Fatalf("the waiting list after the roll-over is this year's 5 in order: %v", w)
		}
	}
	// The read model shows the end states with their reasons.
	sw := e.Token(domain.RoleSocialWorker, "")
	last, _ := e.Store.LastPosition(ctx)
	g := e.Do("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", grades[9][0], last), sw, nil).JSON(t)
	if g["stage"] != "graduated" || g["end_state"] != "graduated" || !strings.Contains(fmt.Sprint(g["end_reason"]), "Jul 31") || g["ended_on"] != "2026-07-31" {
		t.Fatalf("graduate: %v %v %v %v", g["stage"], g["end_state"], g["end_reason"], g["ended_on"])
	}
	l := e.Do("GET", "/v1/referrals/"+lastYearWaiting[0], sw, nil).JSON(t)
	if l["stage"] != "lapsed" || l["end_state"] != "lapsed" || l["ended_on"] != "2026-07-31" || len(l["letters"].([]any)) == 0 {
		t.Fatalf("lapsed: %v %v %v letters %v", l["stage"], l["end_state"], l["ended_on"], l["letters"])
	}
	if a := e.Do("GET", "/v1/referrals/"+grades[7][0], sw, nil).JSON(t); a["grade"] != float64(8) || a["end_state"] != nil {
		t.Fatalf("advanced: grade %v end %v", a["grade"], a["end_state"])
	}
	// Classes: the proposal moves 7-n to 8-n; the social worker confirms it.
	must(t)(e.App.ConfirmClasses(ctx, worker, 115, []events.ClassAssignment{{CaseID: grades[7][0], Class: "8-2"}}))
	last, _ = e.Store.LastPosition(ctx)
	if a := e.Do("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", grades[7][0], last), sw, nil).JSON(t); a["class"] != "8-2" {
		t.Fatalf("confirmed class %v", a["class"])
	}
	if a := e.Do("GET", "/v1/referrals/"+grades[8][1], sw, nil).JSON(t); a["class"] != "9-2" {
		t.Fatalf("proposed class confirmed as is: %v", a["class"])
	}
	if _, err := e.App.ConfirmClasses(ctx, worker, 115, nil); domain.ErrorCode(err) != domain.EConflict {
		t.Fatalf("confirming twice: %v", err)
	}
	noDayAboveCap(t, e)
}

// noDayAboveCap replays the roster stream from the event log, event by
// event, and fails if on any day more than the cap hold a seat (R-CAP-1).
func noDayAboveCap(t *testing.T, e *testenv.Env) {
	t.Helper()
	l, err := e.Store.Load(context.Background(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateRoster})
	if err != nil {
		t.Fatal(err)
	}
	var r domain.Roster
	for _, env := range l.Events {
		r.Apply(env)
		if _, ok := env.Payload.(events.SeatTaken); !ok {
			continue
		}
		if most := r.MaxHeld(calendar.NewDate(2000, 1, 1), nil); most > e.Branch.Cap {
			t.Fatalf("after position %d some day holds %d seats, cap %d", env.Position, most, e.Branch.Cap)
		}
	}
}

// R-CAP-1 (dated), issue 10: two start-of-year closings and a mid-year
// closing racing in parallel over a full school whose 30 grade-9 students
// graduate on Jul 31: exactly 30 start-of-year students take the seats
// from Aug 1, the mid-year ones none, and the event log shows no day
// with more than 135.
func TestR_CAP_1_RacingClosesNeverExceedTheCapOnAnyDay(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{Now: taipei(2026, 2, 11), NoProjector: true})
	seatedSchool(t, e, map[int]int{7: 50, 8: 55, 9: 30}, 0)
	var mid []string // filed in the mid-year window
	for range 5 {
		mid = append(mid, e.RecommendedCase("034501", domain.OutcomeRecommend))
	}
	e.Clock.Set(taipei(2026, 5, 4))
	var a, b []string
	for range 20 {
		a = append(a, startOfYearCase(t, e))
		b = append(b, startOfYearCase(t, e))
	}
	ma, _, err := e.App.ScheduleMeeting(ctx, committee, 115, "start_of_year", calendar.NewDate(2026, time.May, 20), "")
	if err != nil {
		t.Fatal(err)
	}
	mb, _, err := e.App.ScheduleMeeting(ctx, committee, 115, "start_of_year", calendar.NewDate(2026, time.May, 21), "")
	if err != nil {
		t.Fatal(err)
	}
	mc, _, err := e.App.ScheduleMeeting(ctx, committee, 114, "extra", calendar.NewDate(2026, time.May, 22), "")
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(taipei(2026, 5, 22))
	// One meeting is open at a time; the cap must hold even if that were
	// bypassed, so the others are opened behind the committee's back.
	must(t)(e.App.OpenMeeting(ctx, committee, ma.ID))
	for _, id := range []string{mb.ID, mc.ID} {
		s := events.StreamID{Branch: e.Branch.Code, Type: events.AggregateMeeting, ID: id}
		l, err := e.Store.Load(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.Append(ctx, events.Append{Stream: s, ExpectedSeq: l.LastSeq, ExpectedVersion: l.Version,
			Events: []events.Event{events.MeetingOpened{MeetingID: id}}, Meta: events.Metadata{Actor: events.Actor{Role: events.RoleSystem}}}); err != nil {
			t.Fatal(err)
		}
	}
	for m, ids := range map[string][]string{ma.ID: a, mb.ID: b, mc.ID: mid} {
		for _, id := range ids {
			must(t)(e.App.Resolve(ctx, committee, m, id, domain.ResolutionAdmit, ""))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	start := make(chan struct{})
	for _, m := range []string{ma.ID, mb.ID, mc.ID} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			june := calendar.NewDate(2026, time.June, 1) // R-SOY-6
			_, err := e.App.CloseMeeting(ctx, committee, m, &june)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("racing close: %v", err)
		}
	}
	admitted := map[bool]int{}
	for _, id := range append(append(append([]string{}, a...), b...), mid...) {
		if stageOf(t, e, id).Stage == domain.StageAdmitted {
			admitted[stageOf(t, e, id).Route == domain.RouteStartOfYear]++
		}
	}
	if admitted[true] != 30 || admitted[false] != 0 {
		t.Fatalf("admitted: %d start-of-year (want 30), %d mid-year (want 0)", admitted[true], admitted[false])
	}
	noDayAboveCap(t, e)
}

// R-EXCL-4 (issue 9 defect 2) through the event store: grade-9 students
// filed on 2025-12-10 and admitted at the March meeting transfer in during
// the second semester. Without a major reason the close refuses the place
// with a letter citing R-EXCL-4; with one recorded (sealed, POST
// …/major-reason) the student is admitted.
func TestR_EXCL_4_Grade9AdmittedInMarchNeedsMajorReason(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{Now: taipei(2025, 12, 10), NoProjector: true})
	without := recommendedCase(t, e, domain.RouteMidYear, 9)
	with := recommendedCase(t, e, domain.RouteMidYear, 9)
	must(t)(e.App.RecordMajorReason(ctx, worker, with, "家庭重大變故"))
	m, _, err := e.App.ScheduleMeeting(ctx, committee, 114, "march", calendar.NewDate(2026, time.March, 23), "")
	if err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(taipei(2026, 3, 23))
	must(t)(e.App.OpenMeeting(ctx, committee, m.ID))
	for _, id := range []string{without, with} {
		must(t)(e.App.Resolve(ctx, committee, m.ID, id, domain.ResolutionAdmit, ""))
	}
	april := calendar.NewDate(2026, time.April, 7) // R-SOY-6
	must(t)(e.App.CloseMeeting(ctx, committee, m.ID, &april))
	if r := stageOf(t, e, with); r.Stage != domain.StageAdmitted {
		t.Fatalf("with a major reason: %s", r.Stage)
	}
	l, err := e.Store.Load(ctx, events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: without})
	if err != nil {
		t.Fatal(err)
	}
	rej, ok := l.Events[len(l.Events)-1].Payload.(events.Rejected)
	if !ok || !strings.Contains(rej.Letter.Outcome, "R-EXCL-4") {
		t.Fatalf("without a major reason: %#v", l.Events[len(l.Events)-1].Payload)
	}
	if _, err := e.App.RecordMajorReason(ctx, worker, without, " "); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("a blank major reason: %v", err)
	}
}

// The capacity answer waits for the read models to reach the roster
// stream's last event (read-your-writes): RosterPosition is that event's
// position, 0 before any, and no other stream's appends move it.
func TestRosterPositionIsTheRosterStreamsLastEvent(t *testing.T) {
	ctx := context.Background()
	e := testenv.New(t, testenv.Options{Now: taipei(2026, 5, 4)})
	if pos, err := e.App.RosterPosition(ctx, worker.Actor); err != nil || pos != 0 {
		t.Fatalf("before any roster event: %d, %v; want 0", pos, err)
	}
	seatedSchool(t, e, map[int]int{7: 3}, 1)
	roster, err := e.Store.Load(ctx, events.StreamID{Branch: e.Branch.Code, Type: events.AggregateRoster})
	if err != nil || roster.LastSeq == 0 {
		t.Fatalf("the roster stream: last %d, %v", roster.LastSeq, err)
	}
	startOfYearCase(t, e) // appends to its case's stream only
	last, err := e.Store.LastPosition(ctx)
	if err != nil || last <= roster.LastSeq {
		t.Fatalf("the store's last position %d (%v), want past the roster's %d", last, err, roster.LastSeq)
	}
	if pos, err := e.App.RosterPosition(ctx, worker.Actor); err != nil || pos != roster.LastSeq {
		t.Fatalf("RosterPosition %d, %v; want the roster's last event %d", pos, err, roster.LastSeq)
	}
}
