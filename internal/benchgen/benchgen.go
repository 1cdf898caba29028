// Package benchgen writes made-up case histories straight into the event
// stream, in bulk (atomic batches of 500 messages, one acknowledgement
// each): the benchmarks' and the rebuild tests' data. Every name, school and sealed value is invented; sealed
// values are random bytes under key ids that exist nowhere, which is all
// the projector ever sees of them.
package benchgen

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Options say what to generate.
type Options struct {
	// Cases is the number of referrals.
	Cases int
	// Branch is the branch code (default domain.DefaultBranchCode).
	Branch string
	// Chunk is the number of cases that go through the process together
	// and meet in one meeting (default 250): their events interleave.
	Chunk int
	// Seed makes the history reproducible.
	Seed uint64
	// Rare adds, per chunk, the rarer events too (dropouts, legal holds,
	// erasures, appeals): the tests' full coverage. On by default in
	// Generate's histories at their realistic rates; Rare raises them.
	Rare bool
	// Sealer, if set, seals the personal data and notes for real, each
	// person under a key of its own (as the API does), so that the API
	// can open them; without it they are random bytes under unknown keys.
	Sealer interface {
		Seal(ctx context.Context, keyID string, v any) (events.Sealed, error)
	}
}

// Stats say what was generated.
type Stats struct {
	Cases, Events int
	Last          uint64 // the stream position of the last event
}

// Generate publishes the histories into the stream through j (a
// connection allowed to publish to cihui.>), waiting for every batch's
// acknowledgement.
func Generate(ctx context.Context, j js.JetStream, codec *events.Codec, o Options) (Stats, error) {
	if o.Branch == "" {
		o.Branch = domain.DefaultBranchCode
	}
	if o.Chunk <= 0 {
		o.Chunk = 250
	}
	g := &gen{ctx: ctx, j: j, codec: codec, o: o, rnd: rand.New(rand.NewPCG(o.Seed, 13)),
		versions: map[string]uint64{}, recorded: time.Now().UTC()}
	for start := 0; start < o.Cases; start += o.Chunk {
		n := min(o.Chunk, o.Cases-start)
		if err := g.chunk(start, n); err != nil {
			return g.stats, err
		}
	}
	if err := g.wait(); err != nil {
		return g.stats, err
	}
	return g.stats, nil
}

type gen struct {
	ctx      context.Context
	j        js.JetStream
	codec    *events.Codec
	o        Options
	rnd      *rand.Rand
	versions map[string]uint64
	recorded time.Time
	pending  []*nats.Msg
	err      error // the first sealing error
	stats    Stats
}

func (g *gen) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rnd.Uint32())
	}
	return hex.EncodeToString(b)
}

// sealed is a made-up sealed value: with a Sealer, made-up text sealed
// with the person's key (created on first use); without, random bytes
// under a key id that exists nowhere.
func (g *gen) sealed(key string, size int) events.Sealed {
	if g.o.Sealer != nil {
		var v any = strings.Repeat("虛構備註", max(size/12, 1))
		if size == personalSize {
			v = domain.Person{StudentName: "王小明", NationalID: "A123456789", BirthDate: "2012-05-01", GuardianName: "王大明",
				GuardianRelation: "father", Reason: "虛構的轉介理由"}
		}
		sealed, err := g.o.Sealer.Seal(g.ctx, key, v)
		if err != nil && g.err == nil {
			g.err = err
		}
		return sealed
	}
	b := make([]byte, 12+size)
	for i := range b {
		b[i] = byte(g.rnd.Uint32())
	}
	return events.Sealed{KeyID: key, Nonce: b[:12], Ciphertext: b[12:]}
}

// emit publishes one event of the aggregate (branch, typ, id) on day at.
func (g *gen) emit(typ, id string, at time.Time, actor events.Actor, e events.Event) error {
	sid := events.StreamID{Branch: g.o.Branch, Type: typ, ID: id}
	subject := sid.Subject()
	g.versions[subject]++
	env := events.Envelope{
		ID: g.hex(16), AggregateType: typ, AggregateID: id, Branch: g.o.Branch,
		Version: g.versions[subject], OccurredAt: at.UTC(), RecordedAt: g.recorded, Actor: actor,
	}
	if g.err != nil {
		return fmt.Errorf("benchgen: sealing: %w", g.err)
	}
	data, err := g.codec.Encode(&env, e)
	if err != nil {
		return err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set("Cihui-Event-Type", env.Type)
	g.pending = append(g.pending, m)
	g.stats.Events++
	if len(g.pending) >= batchSize {
		return g.wait()
	}
	return nil
}

// batchSize is the messages per atomic batch publish: one round trip and
// one write (and sync) of the server per batch.
const batchSize = 500

// wait publishes what is pending as one atomic batch and waits for its
// acknowledgement.
func (g *gen) wait() error {
	if len(g.pending) == 0 {
		return nil
	}
	ack, err := jetstreamext.PublishMsgBatch(g.ctx, g.j, g.pending)
	if err != nil {
		return fmt.Errorf("benchgen: publishing: %w", err)
	}
	g.stats.Last = ack.Sequence
	g.pending = g.pending[:0]
	return nil
}

var (
	school = events.Actor{Role: events.RoleOriginSchool, School: "034501"}
	worker = events.Actor{Role: events.RoleSocialWorker, UserID: "bench-worker"}
	board  = events.Actor{Role: events.RoleCommittee, UserID: "bench-committee"}
)

type benchCase struct {
	id, person, school string
	grade              int
	outcome            string // admit | waitlist | reject | not_eligible
}

// chunk writes the histories of n cases that go through the process
// together: filing, checklist, visits, review, one meeting, its outcome,
// enrolment, and now and then a dropout, a legal hold, an erasure.
func (g *gen) chunk(first, n int) error {
	day := time.Date(2026, time.April, 13, 9, 0, 0, 0, domain.Taipei).Add(time.Duration(first/g.o.Chunk) * time.Hour)
	d := func(days int) time.Time { return day.AddDate(0, 0, days) }
	date := func(days int) calendar.Date { return calendar.DateOf(d(days), domain.Taipei) }
	cases := make([]benchCase, n)
	for i := range cases {
		c := &cases[i]
		c.id = benchID("r", first+i)
		c.person = "p_" + g.hex(16)
		c.school = fmt.Sprintf("0345%02d", g.rnd.IntN(90)+10)
		c.grade = 7 + g.rnd.IntN(3)
		switch r := g.rnd.IntN(100); {
		case r < 5:
			c.outcome = "not_eligible"
		case r < 75:
			c.outcome = "admit"
		case r < 90:
			c.outcome = "waitlist"
		default:
			c.outcome = "reject"
		}
		// The person stream's entry first, as a filing appends it.
		if err := g.emit(events.AggregatePerson, c.person, d(0), events.Actor{Role: events.RoleOriginSchool, School: c.school},
			events.PersonReferred{ReferralID: c.id, OriginSchool: c.school}); err != nil {
			return err
		}
		if err := g.emit(events.AggregateReferral, c.id, d(0), events.Actor{Role: events.RoleOriginSchool, School: c.school}, events.ReferralOpened{
			ReferralID: c.id, OriginSchool: c.school, AcademicYear: 115, Route: string(domain.RouteStartOfYear),
			ReceivedOn: date(0), Grade: c.grade, Sex: []string{"F", "M"}[g.rnd.IntN(2)], Grounds: []string{"1"},
			PersonKey: c.person, Personal: g.sealed(c.person, personalSize), DropoutRecord: g.rnd.IntN(4) == 0,
			Categories: g.categories(),
		}); err != nil {
			return err
		}
	}
	for item := 1; item <= domain.ChecklistItems; item++ {
		for _, c := range cases {
			var issued *calendar.Date
			if item%3 == 0 {
				x := date(-30)
				issued = &x
			}
			if err := g.emit(events.AggregateReferral, c.id, d(1), school, events.DocumentSubmitted{
				Item: item, Pages: 1 + g.rnd.IntN(5), IssuedOn: issued, WithDropoutFile: item == 4 && g.rnd.IntN(2) == 0}); err != nil {
				return err
			}
		}
	}
	for item := 1; item <= domain.ChecklistItems; item++ {
		for _, c := range cases {
			var note events.Sealed
			if item == 7 {
				note = g.sealed(c.person, 40)
			}
			if err := g.emit(events.AggregateReferral, c.id, d(2), worker, events.DocumentChecked{
				Item: item, Conforms: g.rnd.IntN(20) != 0, Note: note}); err != nil {
				return err
			}
		}
	}
	for k, kind := range []string{domain.VisitContact, domain.VisitHome, domain.VisitInterview} {
		for _, c := range cases {
			if err := g.emit(events.AggregateReferral, c.id, d(4+k), worker, events.HomeVisitLogged{
				Kind: kind, On: date(4 + k), Note: g.sealed(c.person, 80)}); err != nil {
				return err
			}
		}
	}
	for _, c := range cases {
		if err := g.emit(events.AggregateReferral, c.id, d(8), worker, events.AssessmentReportFinished{On: date(8), Summary: g.sealed(c.person, 200)}); err != nil {
			return err
		}
	}
	for _, c := range cases {
		outcome := "recommend"
		if c.outcome == "not_eligible" {
			outcome = "not_eligible"
		}
		if err := g.emit(events.AggregateReferral, c.id, d(10), worker, events.FirstReviewDecided{
			Outcome: outcome, On: date(10), Letter: letter(c, "初審結果", outcome, "")}); err != nil {
			return err
		}
	}
	// One meeting decides the chunk.
	meeting := benchID("m", first/g.o.Chunk)
	if err := g.emit(events.AggregateMeeting, meeting, d(12), board, events.MeetingScheduled{
		MeetingID: meeting, AcademicYear: 115, Kind: "start_of_year", Date: date(20), Title: "複審會議"}); err != nil {
		return err
	}
	if err := g.emit(events.AggregateMeeting, meeting, d(20), board, events.MeetingOpened{MeetingID: meeting}); err != nil {
		return err
	}
	for _, c := range cases {
		if c.outcome == "not_eligible" {
			continue
		}
		if err := g.emit(events.AggregateMeeting, meeting, d(20), board, events.ResolutionRecorded{CaseID: c.id, Resolution: c.outcome}); err != nil {
			return err
		}
	}
	if err := g.emit(events.AggregateMeeting, meeting, d(20), board, events.MeetingClosed{MeetingID: meeting, On: date(20)}); err != nil {
		return err
	}
	reportBy := date(35)
	for _, c := range cases {
		var err error
		switch c.outcome {
		case "admit":
			if err = g.emit(events.AggregateRoster, "", d(21), worker, events.SeatTaken{CaseID: c.id, PersonKey: c.person, Cap: 100000, Taken: 1}); err == nil {
				err = g.emit(events.AggregateReferral, c.id, d(21), worker, events.Admitted{MeetingID: meeting, ReportBy: &reportBy, Letter: letter(c, "錄取", "admitted", meeting)})
			}
		case "waitlist":
			if err = g.emit(events.AggregateRoster, "", d(21), worker, events.WaitlistJoined{CaseID: c.id, ApplicationPosition: 1}); err == nil {
				err = g.emit(events.AggregateReferral, c.id, d(21), worker, events.Waitlisted{MeetingID: meeting, Letter: letter(c, "候補", "waitlisted", meeting)})
			}
		case "reject":
			err = g.emit(events.AggregateReferral, c.id, d(21), worker, events.Rejected{MeetingID: meeting, Letter: letter(c, "未錄取", "rejected", meeting)})
		}
		if err != nil {
			return err
		}
	}
	for i, c := range cases {
		if c.outcome != "admit" {
			continue
		}
		class := fmt.Sprintf("%d01", c.grade)
		steps := []step{
			{events.AggregateReferral, c.id, d(30), events.HealthCheckRecorded{ExaminedOn: date(29)}},
			{events.AggregateReferral, c.id, d(32), events.Enrolled{On: date(32), Grade: c.grade, Class: class}},
			{events.AggregateRoster, "", d(32), events.SeatEnrolled{CaseID: c.id, Grade: c.grade, Class: class}},
			{events.AggregateReferral, c.id, d(60), events.RegistrationRecorded{Semester: "115-1"}},
		}
		rare := func(every int) bool { return i%every == 0 || g.o.Rare && i%3 == 0 }
		if rare(20) {
			// Every other episode's student is first missing (whereabouts
			// unknown), then found (R-STAT-2); every one returns (復學)
			// before the episode closes.
			where := "known"
			if i%2 == 1 {
				where = "unknown"
			}
			steps = append(steps,
				step{events.AggregateReferral, c.id, d(80), events.DropoutOpened{Episode: 1, FirstDayAbsent: date(77), Whereabouts: where, Reason: "family", Letter: letter(c, "中輟通報", "dropout", "")}},
				step{events.AggregateReferral, c.id, d(81), events.DropoutReported{Episode: 1, ReportedOn: date(81)}},
				step{events.AggregateReferral, c.id, d(85), events.DropoutFollowUpLogged{Episode: 1, Kind: "follow_up", Party: "branch", On: date(85), Note: g.sealed(c.person, 60)}})
			if where == "unknown" {
				steps = append(steps, step{events.AggregateReferral, c.id, d(86), events.DropoutFound{Episode: 1, FoundOn: date(86)}})
			}
			steps = append(steps,
				step{events.AggregateReferral, c.id, d(88), events.DropoutReturned{Episode: 1, ReturnedOn: date(88)}},
				step{events.AggregateReferral, c.id, d(90), events.DropoutClosed{Episode: 1, ClosedOn: date(90), Outcome: "returned"}},
			)
		}
		if rare(97) {
			steps = append(steps, step{events.AggregateReferral, c.id, d(100), events.LegalHoldPlaced{Reason: "litigation"}})
		}
		steps = append(steps, step{events.AggregateReferral, c.id, d(150), events.RegistrationRecorded{Semester: "115-2"}})
		for _, s := range steps {
			if err := g.emit(s.typ, s.id, s.at, worker, s.e); err != nil {
				return err
			}
		}
	}
	// Now and then a rejected student's data is erased (crypto-shredding).
	for i, c := range cases {
		if c.outcome == "reject" && (i%7 == 0 || g.o.Rare) {
			if err := g.emit(events.AggregateReferral, c.id, d(120), worker, events.PersonErased{PersonKey: c.person, Reason: "retention_expired"}); err != nil {
				return err
			}
		}
	}
	g.stats.Cases += n
	return nil
}

// categories are a filing's statistical categories (R-STAT-2): none
// recorded, a family background, the identity flags (none applies, or
// some), as schools give them.
func (g *gen) categories() events.Categories {
	var c events.Categories
	if g.rnd.IntN(3) > 0 {
		c.FamilyBackground = []string{domain.BackgroundBothParents, domain.BackgroundSingleParent, domain.BackgroundNoParent}[g.rnd.IntN(3)]
	}
	switch g.rnd.IntN(4) {
	case 1:
		c.IdentityKnown = true
	case 2:
		c.IdentityKnown, c.Identity = true, []string{domain.IdentityIndigenous}
	case 3:
		c.IdentityKnown, c.Identity = true, []string{domain.IdentityNewImmigrantParent, domain.IdentityInstitutionalCare}
	}
	return c
}

// benchID is the n-th made-up aggregate id of the form the API gives
// (domain.ReferralIDPattern, domain.MeetingIDPattern).
func benchID(prefix string, n int) string {
	h := sha256.Sum256([]byte("benchgen\x00" + prefix + strconv.Itoa(n)))
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15]))
}

// personalSize is the size of the made-up personal data of a filing
// (the size sealed selects a domain.Person by).
const personalSize = 121

// step is one event of a case's later history.
type step struct {
	typ, id string
	at      time.Time
	e       events.Event
}

func letter(c benchCase, subject, outcome, meeting string) events.Letter {
	return events.Letter{ToSchool: c.school, StudentAlias: "學生" + c.id[len(c.id)-2:], Subject: subject, Outcome: outcome,
		NextStep: "依通知辦理", Meeting: meeting}
}
