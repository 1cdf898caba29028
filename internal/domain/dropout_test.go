package domain_test

import (
	"slices"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

var (
	swActor     = events.Actor{Role: events.RoleSocialWorker}
	schoolActor = events.Actor{Role: events.RoleOriginSchool, School: "034501"}
)

// enrolledReferral is a case enrolled on 2025-09-01, folded from its
// events as the application service folds it.
func enrolledReferral(t *testing.T) *domain.Referral {
	t.Helper()
	r := &domain.Referral{}
	v := uint64(0)
	apply := func(e events.Event) {
		v++
		r.Apply(events.Envelope{Version: v, Position: v, Branch: "xiucai", Payload: e})
	}
	apply(events.ReferralOpened{ReferralID: "rabcdefghijklmnopqrstuvwx", OriginSchool: "034501", Route: "mid_year", Grade: 8})
	apply(events.Enrolled{On: calendar.NewDate(2025, 9, 1), Grade: 8, Class: "8-1"})
	return r
}

// applyTo folds events into r after its last version.
func applyTo(r *domain.Referral, evs ...events.Event) {
	for _, e := range evs {
		r.Apply(events.Envelope{Version: r.Version + 1, Position: r.LastSeq + 1, Payload: e})
	}
}

// okFn returns a function that passes an event through and fails the
// test on an error.
func okFn(t *testing.T) func(events.Event, error) events.Event {
	return func(e events.Event, err error) events.Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

func wantRule(t *testing.T, err error, rule string) {
	t.Helper()
	e := domain.AsError(err)
	if err == nil || e.Code != domain.ERule || e.Rule != rule {
		t.Fatalf("got %v, want a %s rule violation", err, rule)
	}
}

// withEpisodes returns an enrolled case with closed episodes starting on
// each of starts but the last, and the last open with whereabouts w.
func withEpisodes(t *testing.T, w string, starts ...calendar.Date) *domain.Referral {
	t.Helper()
	ok := okFn(t)
	r := enrolledReferral(t)
	today := calendar.NewDate(2026, 6, 30)
	for i, s := range starts {
		applyTo(r, ok(r.OpenDropout(swActor, domain.OpenDropout{FirstDayAbsent: s, Whereabouts: w, Reason: "family"}, events.Sealed{}, today)))
		if i < len(starts)-1 {
			n := i + 1
			if w == domain.WhereaboutsUnknown {
				applyTo(r, ok(r.FindDropout(swActor, n, s.AddDays(1), today)))
			}
			applyTo(r, ok(r.CloseDropout(swActor, n, s.AddDays(2), "other", today)))
		}
	}
	return r
}

// R-SUS-1 (4), Decision (counting): 「三週以上」 includes 21 days: an open,
// not-found episode gives the ground on day start+21, not on start+20.
func TestR_SUS_1_Ground4_TwentyVersusTwentyOneDays(t *testing.T) {
	ok := okFn(t)
	start := calendar.NewDate(2026, 3, 2)
	for _, w := range domain.Whereabouts {
		r := withEpisodes(t, w, start)
		if g := domain.DetectedGrounds(r, start.AddDays(20)); slices.Contains(g, 4) {
			t.Errorf("%s: ground (4) after 20 days: %v", w, g)
		}
		if g := domain.DetectedGrounds(r, start.AddDays(21)); !slices.Equal(g, []int{4}) {
			t.Errorf("%s: after 21 days grounds %v, want [4]", w, g)
		}
	}
	// Found on day 10: no ground (4) on day 21, though before day 10 the
	// as-of view still counts the days.
	r := withEpisodes(t, domain.WhereaboutsUnknown, start)
	applyTo(r, ok(r.FindDropout(swActor, 1, start.AddDays(10), start.AddDays(30))))
	if g := domain.DetectedGrounds(r, start.AddDays(21)); len(g) != 0 {
		t.Errorf("found on day 10: grounds %v on day 21", g)
	}
	// Returned (known whereabouts) ends the absence.
	r = withEpisodes(t, domain.WhereaboutsKnown, start)
	applyTo(r, ok(r.ReturnDropout(swActor, 1, start.AddDays(15), start.AddDays(30))))
	if g := domain.DetectedGrounds(r, start.AddDays(25)); len(g) != 0 {
		t.Errorf("returned on day 15: grounds %v on day 25", g)
	}
	if g := domain.DetectedGrounds(r, start.AddDays(-1)); len(g) != 0 {
		t.Errorf("before the episode: grounds %v", g)
	}
}

// R-SUS-1 (5), Decision (counting): 3 episodes, the latest
// whereabouts-unknown and not found: 「逾 7 日」 gives the ground on day
// start+8, not on start+7; never with 2 episodes, nor when the latest's
// whereabouts are known or it was found.
func TestR_SUS_1_Ground5_SevenVersusEightDays(t *testing.T) {
	ok := okFn(t)
	s1, s2, s3 := calendar.NewDate(2026, 1, 5), calendar.NewDate(2026, 2, 2), calendar.NewDate(2026, 3, 2)
	r := withEpisodes(t, domain.WhereaboutsUnknown, s1, s2, s3)
	if g := domain.DetectedGrounds(r, s3.AddDays(7)); len(g) != 0 {
		t.Errorf("3 episodes, 7 days: grounds %v, want none", g)
	}
	if g := domain.DetectedGrounds(r, s3.AddDays(8)); !slices.Equal(g, []int{5}) {
		t.Errorf("3 episodes, 8 days: grounds %v, want [5]", g)
	}
	// As of a date before the third episode, only two count.
	if g := domain.DetectedGrounds(r, s3.AddDays(-1)); len(g) != 0 {
		t.Errorf("as of before the third episode: grounds %v", g)
	}
	// Both grounds from day 21.
	if g := domain.DetectedGrounds(r, s3.AddDays(21)); !slices.Equal(g, []int{4, 5}) {
		t.Errorf("3 episodes, 21 days: grounds %v, want [4 5]", g)
	}

	two := withEpisodes(t, domain.WhereaboutsUnknown, s2, s3)
	if g := domain.DetectedGrounds(two, s3.AddDays(8)); len(g) != 0 {
		t.Errorf("2 episodes, 8 days: grounds %v, want none", g)
	}

	known := withEpisodes(t, domain.WhereaboutsUnknown, s1, s2)
	applyTo(known, ok(known.FindDropout(swActor, 2, s2.AddDays(1), s3)))
	applyTo(known, ok(known.CloseDropout(swActor, 2, s2.AddDays(2), "other", s3)))
	applyTo(known, ok(known.OpenDropout(swActor, domain.OpenDropout{FirstDayAbsent: s3, Whereabouts: domain.WhereaboutsKnown, Reason: "school"}, events.Sealed{}, s3)))
	if g := domain.DetectedGrounds(known, s3.AddDays(8)); len(g) != 0 {
		t.Errorf("latest whereabouts known, 8 days: grounds %v, want none", g)
	}

	found := withEpisodes(t, domain.WhereaboutsUnknown, s1, s2, s3)
	applyTo(found, ok(found.FindDropout(swActor, 3, s3.AddDays(3), s3.AddDays(3))))
	if g := domain.DetectedGrounds(found, s3.AddDays(8)); len(g) != 0 {
		t.Errorf("latest found, 8 days: grounds %v, want none", g)
	}
	// As of day 2, before it was found, the episode still counts as not
	// found (but 2 < 8 days).
	if g := domain.DetectedGrounds(found, s3.AddDays(2)); len(g) != 0 {
		t.Errorf("day 2: grounds %v", g)
	}
}

// R-ORG-4 invariants: only while enrolled, one open episode at a time,
// dates in order and not in the future, found only for
// whereabouts-unknown (R-STAT-2), the roles of each step.
func TestR_ORG_4_DropoutInvariants(t *testing.T) {
	ok := okFn(t)
	today := calendar.NewDate(2026, 3, 20)
	start := calendar.NewDate(2026, 3, 2)
	open := domain.OpenDropout{FirstDayAbsent: start, Whereabouts: domain.WhereaboutsUnknown, Reason: "family", SubReason: "economic"}

	notEnrolled := &domain.Referral{ID: "r1", Stage: domain.StageAdmitted}
	_, err := notEnrolled.OpenDropout(swActor, open, events.Sealed{}, today)
	wantRule(t, err, "R-ORG-4")

	r := enrolledReferral(t)
	if _, err := r.OpenDropout(schoolActor, open, events.Sealed{}, today); domain.ErrorCode(err) != domain.EForbidden {
		t.Fatalf("origin school opens: %v", err)
	}
	bad := open
	bad.SubReason = "internet" // a social sub-reason under family
	if _, err := r.OpenDropout(swActor, bad, events.Sealed{}, today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("sub-reason of another category: %v", err)
	}
	bad = open
	bad.FirstDayAbsent = today.AddDays(1)
	if _, err := r.OpenDropout(swActor, bad, events.Sealed{}, today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("future first day: %v", err)
	}
	bad = open
	bad.FirstDayAbsent = calendar.NewDate(2025, 8, 31)
	_, err = r.OpenDropout(swActor, bad, events.Sealed{}, today)
	wantRule(t, err, "R-ORG-4")

	ev := ok(r.OpenDropout(swActor, open, events.Sealed{}, today)).(events.DropoutOpened)
	if ev.Episode != 1 || ev.Letter.ToSchool != "034501" || ev.Letter.StudentAlias != domain.Alias(r.ID) {
		t.Fatalf("opened %+v", ev)
	}
	applyTo(r, ev)
	_, err = r.OpenDropout(swActor, open, events.Sealed{}, today)
	wantRule(t, err, "R-ORG-4") // a second open episode

	if _, err := r.ReportDropout(swActor, 1, today, today); domain.ErrorCode(err) != domain.EForbidden {
		t.Fatalf("social worker reports: %v", err)
	}
	_, err = r.ReportDropout(schoolActor, 1, start.AddDays(-1), today)
	wantRule(t, err, "R-ORG-4")
	applyTo(r, ok(r.ReportDropout(schoolActor, 1, start.AddDays(1), today)))
	if _, err := r.ReportDropout(schoolActor, 2, today, today); domain.ErrorCode(err) != domain.ENotFound {
		t.Fatalf("unknown episode: %v", err)
	}

	fu := ok(r.LogDropoutFollowUp(schoolActor, 1, "search", start.AddDays(2), events.Sealed{}, today)).(events.DropoutFollowUpLogged)
	if fu.Party != domain.PartyOriginSchool {
		t.Fatalf("party %q", fu.Party)
	}
	applyTo(r, fu)
	if fu := ok(r.LogDropoutFollowUp(swActor, 1, "counselling", start.AddDays(2), events.Sealed{}, today)).(events.DropoutFollowUpLogged); fu.Party != domain.PartyBranch {
		t.Fatalf("party %q", fu.Party)
	}

	_, err = r.ReturnDropout(swActor, 1, start.AddDays(5), today)
	wantRule(t, err, "R-SUS-1") // found first
	_, err = r.FindDropout(swActor, 1, start.AddDays(-1), today)
	wantRule(t, err, "R-SUS-1")
	if _, err := r.FindDropout(swActor, 1, today.AddDays(1), today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("found in the future: %v", err)
	}
	applyTo(r, ok(r.FindDropout(swActor, 1, start.AddDays(4), today)))
	_, err = r.ReturnDropout(swActor, 1, start.AddDays(3), today)
	wantRule(t, err, "R-ORG-4") // before found
	applyTo(r, ok(r.ReturnDropout(swActor, 1, start.AddDays(6), today)))
	_, err = r.CloseDropout(swActor, 1, start.AddDays(5), "returned", today)
	wantRule(t, err, "R-ORG-4") // before returned
	applyTo(r, ok(r.CloseDropout(swActor, 1, start.AddDays(7), "returned", today)))
	_, err = r.LogDropoutFollowUp(swActor, 1, "follow_up", today, events.Sealed{}, today)
	wantRule(t, err, "R-ORG-4") // closed

	// A second episode, known whereabouts: not found; not before the
	// first closed.
	second := domain.OpenDropout{FirstDayAbsent: start.AddDays(6), Whereabouts: domain.WhereaboutsKnown, Reason: "school"}
	_, err = r.OpenDropout(swActor, second, events.Sealed{}, today)
	wantRule(t, err, "R-ORG-4")
	second.FirstDayAbsent = start.AddDays(10)
	applyTo(r, ok(r.OpenDropout(swActor, second, events.Sealed{}, today)))
	_, err = r.FindDropout(swActor, 2, today, today)
	wantRule(t, err, "R-STAT-2")
	if got := r.Dropouts(); len(got) != 2 || got[0].FollowUps != 1 || got[0].Outcome != "returned" || !got[1].Open() {
		t.Fatalf("episodes %+v", got)
	}
}

// R-SUS-1 (1), (2), (3), (6): recorded by a social worker with evidence,
// for an enrolled student; (4) and (5) cannot be recorded.
func TestR_SUS_1_RecordedGrounds(t *testing.T) {
	ok := okFn(t)
	today := calendar.NewDate(2026, 3, 20)
	r := enrolledReferral(t)
	sealed := events.Sealed{KeyID: "p_x", Nonce: []byte{1}, Ciphertext: []byte{2}}
	for _, g := range []int{0, 4, 5, 7} {
		if _, err := r.RecordGround(swActor, g, today, sealed, true, today); domain.ErrorCode(err) != domain.EInvalid {
			t.Fatalf("ground %d: %v", g, err)
		}
	}
	if _, err := r.RecordGround(swActor, 3, today, events.Sealed{}, false, today); domain.ErrorCode(err) != domain.EInvalid {
		t.Fatalf("no evidence: %v", err)
	}
	if _, err := r.RecordGround(schoolActor, 3, today, sealed, true, today); domain.ErrorCode(err) != domain.EForbidden {
		t.Fatalf("origin school records: %v", err)
	}
	applyTo(r, ok(r.RecordGround(swActor, 6, today, sealed, true, today)))
	applyTo(r, ok(r.RecordGround(swActor, 2, today.AddDays(-3), sealed, true, today)))
	applyTo(r, ok(r.RecordGround(swActor, 6, today, sealed, true, today)))
	if g := domain.RecordedGrounds(r, today); !slices.Equal(g, []int{2, 6}) {
		t.Fatalf("recorded %v", g)
	}
	if g := domain.RecordedGrounds(r, today.AddDays(-1)); !slices.Equal(g, []int{2}) {
		t.Fatalf("recorded as of the day before %v", g)
	}
	left := &domain.Referral{ID: "r1", Stage: domain.StageLeft}
	_, err := left.RecordGround(swActor, 1, today, sealed, true, today)
	wantRule(t, err, "R-SUS-1")
}
