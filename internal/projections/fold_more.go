package projections

import (
	"context"
	"math"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// The folds of the second half of a case's usual history (issue 13): the
// meeting that decides it (meetings, meeting_resolutions), its admission,
// waiting or rejection (cases, the resolution's outcome, letters, duties,
// case_retention), the dated roster (roster_seats, roster_waiting), its
// dropout episodes (dropout_episodes, duties, award_facts) and legal holds
// (case_retention). Each mirrors the live SQL of its event type; an event
// the fold cannot follow exactly (a row it does not hold, an order it does
// not keep) returns false and goes, with the rest of its stream in the
// batch, to the live SQL.

// rosterKey is a seat holder in a branch's roster.
type rosterKey struct{ branch, caseID string }

// resKey is a meeting's resolution on a case.
type resKey struct{ meeting, caseID string }

// epKey is a case's dropout episode.
type epKey struct {
	caseID  string
	episode int
}

// foldMeeting is a meeting in the fold: a new row, or changes to a row
// written before.
type foldMeeting struct {
	row               []any // new: id, branch, academic_year, kind, date, title, status, closed_on, version, position
	status            string
	closedOn          any
	closedSet         bool
	version, position uint64
}

// waitChange is what the run did to a roster_waiting row: deleted (the
// row of an earlier batch too), then inserted (the first insert after the
// last delete; ON CONFLICT DO NOTHING keeps it).
type waitChange struct {
	deleted bool
	ins     []any
}

// enrolChange is the last SeatEnrolled of a seat holder in the run.
type enrolChange struct {
	e  events.SeatEnrolled
	on calendar.Date
}

// dutyOp is what a run did to one duty: opened (the first opening's day
// stays, the last due day counts, a cancellation is lifted), done (the
// least day stays), and the last position.
type dutyOp struct {
	openedOn any // nil: not opened in the run
	dueOn    any
	doneOn   any // nil: not done in the run
	position uint64
}

// more holds the folds of fold_more.go.
type more struct {
	meetings  map[string]*foldMeeting
	meetOrder []string
	// resolutions are new rows: meeting_id, case_id, resolution, position,
	// destination, outcome.
	resolutions [][]any
	resIndex    map[resKey]int
	outcomes    map[resKey]string // outcomes of resolutions written before
	outOrder    []resKey
	// adList: meetings whose admitted-list duty this run recorded, or the
	// live SQL of this run records first (no row).
	adList map[string]bool
	adRows [][]any
	// roster
	waiting    map[rosterKey]*waitChange
	waitOrder  []rosterKey
	seats      [][]any // branch, case_id, seq, from_on, last_on, grade, grade_year, class, enrolled_on
	seatIndex  map[rosterKey][]int
	enrol      map[rosterKey]*enrolChange
	enrolOrder []rosterKey
	// dropouts: new episodes only
	episodes   [][]any // case_id, episode, first_day_absent, whereabouts, reason, sub_reason, position, reported_on, follow_ups, last_follow_up, closed_on, outcome, found_on, returned_on
	epIndex    map[epKey]int
	awardFacts [][]any
	// legal holds placed, per case (last wins)
	holds     map[string][]any
	holdOrder []string
	duties    map[dutyKey]*dutyOp
	dutyOrder []dutyKey
}

func newMore() more {
	return more{meetings: map[string]*foldMeeting{}, resIndex: map[resKey]int{}, outcomes: map[resKey]string{},
		adList: map[string]bool{}, waiting: map[rosterKey]*waitChange{}, seatIndex: map[rosterKey][]int{},
		enrol: map[rosterKey]*enrolChange{}, epIndex: map[epKey]int{}, holds: map[string][]any{}, duties: map[dutyKey]*dutyOp{}}
}

// dutyOf returns the run's change of a case's duty.
func (m *more) dutyOf(caseID, kind, period string) *dutyOp {
	k := dutyKey{caseID, kind, period}
	d := m.duties[k]
	if d == nil {
		d = &dutyOp{}
		m.duties[k] = d
		m.dutyOrder = append(m.dutyOrder, k)
	}
	return d
}

// open records a duty an event opened, as applyDuties' open does.
func (m *more) open(env events.Envelope, kind, period string, due any) {
	d := m.dutyOf(env.AggregateID, kind, period)
	if d.openedOn == nil {
		d.openedOn = dateOf(env)
	}
	d.dueOn, d.position = due, env.Position
}

// done records a duty done on day, as applyDuties' done does.
func (m *more) done(env events.Envelope, kind, period, day string) {
	d := m.dutyOf(env.AggregateID, kind, period)
	if d.doneOn == nil || day < d.doneOn.(string) { // ISO dates order as strings
		d.doneOn = day
	}
	d.position = env.Position
}

// sqlAdmitted notes an Admitted the live SQL applies in this run: it
// records the meeting's admitted-list duty before any the fold would.
func (m *more) sqlAdmitted(env events.Envelope) {
	if a, ok := env.Payload.(events.Admitted); ok && !a.FromWaitlist {
		m.adList[a.MeetingID] = true
	}
}

// foldMeetingEvent folds a meeting's event.
func (f *fold) foldMeetingEvent(env events.Envelope) bool {
	id := env.AggregateID
	m := f.meetings[id]
	switch e := env.Payload.(type) {
	case events.MeetingScheduled:
		if m != nil {
			return false
		}
		m = &foldMeeting{status: "scheduled", row: []any{id, env.Branch, e.AcademicYear, e.Kind, e.Date.String(), e.Title}}
		f.meetings[id] = m
		f.meetOrder = append(f.meetOrder, id)
	case events.MeetingOpened:
		m = f.meetingOf(id)
		m.status = "open"
	case events.ResolutionRecorded:
		k := resKey{id, e.CaseID}
		if _, dup := f.resIndex[k]; dup {
			return false
		}
		m = f.meetingOf(id)
		var dest any
		if e.Destination != "" {
			dest = e.Destination
		}
		f.resIndex[k] = len(f.resolutions)
		f.resolutions = append(f.resolutions, []any{id, e.CaseID, e.Resolution, env.Position, dest, nil})
	case events.MeetingClosed:
		m = f.meetingOf(id)
		m.status, m.closedOn, m.closedSet = "closed", e.On.String(), true
	default:
		return false
	}
	m.version, m.position = env.Version, env.Position
	return true
}

func (f *fold) meetingOf(id string) *foldMeeting {
	m := f.meetings[id]
	if m == nil {
		m = &foldMeeting{}
		f.meetings[id] = m
		f.meetOrder = append(f.meetOrder, id)
	}
	return m
}

// outcome sets the outcome of a meeting's resolution on a case.
func (f *fold) outcome(meeting, caseID, stage string) {
	k := resKey{meeting, caseID}
	if i, ok := f.resIndex[k]; ok {
		f.resolutions[i][5] = stage
		return
	}
	if _, ok := f.outcomes[k]; !ok {
		f.outOrder = append(f.outOrder, k)
	}
	f.outcomes[k] = stage
}

// foldRosterEvent folds an event of a branch's dated roster.
func (f *fold) foldRosterEvent(env events.Envelope) bool {
	on := calendar.DateOf(env.OccurredAt, domain.Taipei)
	switch e := env.Payload.(type) {
	case events.SeatTaken:
		k := rosterKey{env.Branch, e.CaseID}
		if f.enrol[k] != nil {
			return false // the enrolment is written after the seats: keep the order by SQL
		}
		s := domain.SeatOf(e, on)
		f.waitOf(k).deleted, f.waitOf(k).ins = true, nil
		f.seatIndex[k] = append(f.seatIndex[k], len(f.seats))
		f.seats = append(f.seats, []any{env.Branch, e.CaseID, int64(env.Position), s.From.String(), datePtr(s.Last),
			nullInt(s.Grade), nullInt(s.GradeYear), nil, nil})
	case events.WaitlistJoined:
		w := f.waitOf(rosterKey{env.Branch, e.CaseID})
		if w.ins == nil {
			w.ins = []any{env.Branch, e.CaseID, e.ApplicationPosition}
		}
	case events.SeatEnrolled:
		k := rosterKey{env.Branch, e.CaseID}
		if f.enrol[k] == nil {
			f.enrolOrder = append(f.enrolOrder, k)
		}
		f.enrol[k] = &enrolChange{e: e, on: on}
	default:
		return false
	}
	return true
}

func (f *fold) waitOf(k rosterKey) *waitChange {
	w := f.waiting[k]
	if w == nil {
		w = &waitChange{}
		f.waiting[k] = w
		f.waitOrder = append(f.waitOrder, k)
	}
	return w
}

// foldAdmission folds a case's admission, waiting, rejection, dropout
// episode and legal hold events; c is the case in the fold.
func (f *fold) foldAdmission(env events.Envelope, sqlStream func(events.Envelope) bool) (ok bool) {
	id := env.AggregateID
	meetingSQL := func(meeting string) bool {
		return sqlStream(events.Envelope{AggregateType: events.AggregateMeeting, Branch: env.Branch, AggregateID: meeting})
	}
	switch e := env.Payload.(type) {
	case events.Admitted:
		if e.ReportBy == nil || meetingSQL(e.MeetingID) {
			return false
		}
		c := f.caseOf(id)
		stage := string(domain.StageAdmitted)
		c.sets["stage"], c.sets["admission_meeting"], c.sets["report_by"] = stage, e.MeetingID, e.ReportBy.String()
		c.waitPos = waitNull
		if !e.FromWaitlist {
			f.outcome(e.MeetingID, id, stage)
		}
		f.letter(env, e.Letter)
		f.open(env, domain.DutyNetworkNotice, domain.ResultAdmitted, nil)
		f.open(env, domain.DutyAccompaniment, "-", e.ReportBy.String())
		if !e.FromWaitlist && !f.adList[e.MeetingID] {
			f.adList[e.MeetingID] = true
			f.adRows = append(f.adRows, []any{env.Branch, "", "", domain.DutyAdmittedList, e.MeetingID, dateOf(env), env.Position})
		}
		c.stages = append(c.stages, stageAt{stage, dateOf(env)})
	case events.Waitlisted:
		if meetingSQL(e.MeetingID) {
			return false
		}
		c := f.caseOf(id)
		stage := string(domain.StageWaitlisted)
		c.sets["stage"], c.sets["admission_meeting"] = stage, e.MeetingID
		c.waitPos = waitApplication
		f.outcome(e.MeetingID, id, stage)
		f.letter(env, e.Letter)
		f.open(env, domain.DutyNetworkNotice, domain.ResultWaitlisted, nil)
		c.stages = append(c.stages, stageAt{stage, dateOf(env)})
	case events.Rejected:
		if meetingSQL(e.MeetingID) {
			return false
		}
		c := f.caseOf(id)
		stage, on := string(domain.StageRejected), dateOf(env)
		c.sets["stage"], c.sets["admission_meeting"] = stage, e.MeetingID
		f.outcome(e.MeetingID, id, stage)
		f.letter(env, e.Letter)
		f.open(env, domain.DutyNetworkNotice, domain.ResultRejected, nil)
		c.stages = append(c.stages, stageAt{stage, on})
		// applyEnding
		c.sets["end_state"], c.sets["end_reason"], c.sets["ended_on"] = stage, domain.EndReason(stage), on
	case events.DropoutOpened:
		k := epKey{id, e.Episode}
		if _, dup := f.epIndex[k]; dup || e.Episode <= 0 {
			return false
		}
		f.caseOf(id)
		f.epIndex[k] = len(f.episodes)
		f.episodes = append(f.episodes, []any{id, e.Episode, e.FirstDayAbsent.String(), e.Whereabouts, e.Reason, e.SubReason,
			env.Position, nil, 0, nil, nil, nil, nil, nil})
		f.letter(env, e.Letter)
		f.open(env, domain.DutyDropoutReport, strconv.Itoa(e.Episode), nil)
	case events.DropoutReported:
		r, held := f.episodeRow(id, e.Episode, env)
		if !held {
			return false
		}
		r[7] = e.ReportedOn.String()
		f.done(env, domain.DutyDropoutReport, strconv.Itoa(e.Episode), e.ReportedOn.String())
	case events.DropoutFollowUpLogged:
		r, held := f.episodeRow(id, e.Episode, env)
		if !held {
			return false
		}
		on := e.On.String()
		r[8] = r[8].(int) + 1
		if r[9] == nil || on > r[9].(string) {
			r[9] = on
		}
		f.awardFacts = append(f.awardFacts, []any{env.Position, 0, env.Branch, id, e.Kind, e.Party, on})
	case events.DropoutFound:
		r, held := f.episodeRow(id, e.Episode, env)
		if !held {
			return false
		}
		r[12] = e.FoundOn.String()
	case events.DropoutReturned:
		r, held := f.episodeRow(id, e.Episode, env)
		if !held {
			return false
		}
		r[13] = e.ReturnedOn.String()
	case events.DropoutClosed:
		r, held := f.episodeRow(id, e.Episode, env)
		if !held {
			return false
		}
		r[10], r[11] = e.ClosedOn.String(), e.Outcome
	case events.LegalHoldPlaced:
		f.caseOf(id)
		if _, seen := f.holds[id]; !seen {
			f.holdOrder = append(f.holdOrder, id)
		}
		f.holds[id] = []any{id, e.Reason, dateOf(env)}
	default:
		return false
	}
	return true
}

// episodeRow returns the dropout_episodes row of an episode opened in this
// batch, with env counted on its case and as the row's position; false:
// the episode began in an earlier batch, and env goes by its SQL.
func (f *fold) episodeRow(id string, episode int, env events.Envelope) ([]any, bool) {
	i, held := f.epIndex[epKey{id, episode}]
	if !held {
		return nil, false
	}
	f.caseOf(id)
	r := f.episodes[i]
	r[6] = env.Position
	return r, true
}

// waitlisted_position as the run leaves it.
const (
	waitKeep        = iota
	waitNull        // Admitted: NULL
	waitApplication // Waitlisted: the case's application_position
)

// writeMore writes what the folds of this file hold, after the cases, the
// case documents and the duty cases are written.
func (f *fold) writeMore(ctx context.Context, tx *sqlx.Tx) error {
	if err := f.writeMeetings(ctx, tx); err != nil {
		return err
	}
	if err := f.writeRoster(ctx, tx); err != nil {
		return err
	}
	if err := copyRows(ctx, f.conn, "dropout_episodes", []string{"case_id", "episode", "first_day_absent", "whereabouts", "reason",
		"sub_reason", "position", "reported_on", "follow_ups", "last_follow_up", "closed_on", "outcome", "found_on", "returned_on"}, f.episodes); err != nil {
		return err
	}
	if err := copyRows(ctx, f.conn, "award_facts", []string{"position", "seq", "branch", "case_id", "kind", "party", "on_date"}, f.awardFacts); err != nil {
		return err
	}
	if len(f.holdOrder) > 0 {
		var ids, reasons, ons []string
		for _, id := range f.holdOrder {
			h := f.holds[id]
			ids, reasons, ons = append(ids, id), append(reasons, h[1].(string)), append(ons, h[2].(string))
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE case_retention r SET on_hold = true, hold_reason = v.reason, hold_since = v.since::date
			FROM unnest($1::text[], $2::text[], $3::text[]) AS v(case_id, reason, since) WHERE r.case_id = v.case_id`,
			pq.Array(ids), pq.Array(reasons), pq.Array(ons)); err != nil {
			return err
		}
	}
	if len(f.adRows) > 0 {
		var bs, ms, ons []string
		var ps []int64
		for _, r := range f.adRows {
			bs, ms, ons, ps = append(bs, r[0].(string)), append(ms, r[4].(string)), append(ons, r[5].(string)), append(ps, int64(r[6].(uint64)))
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, opened_on, position)
			SELECT v.branch, '', '', $2, v.meeting, v.opened_on::date, v.position
			FROM unnest($1::text[], $3::text[], $4::text[], $5::bigint[]) AS v(branch, meeting, opened_on, position)
			ON CONFLICT DO NOTHING`, pq.Array(bs), domain.DutyAdmittedList, pq.Array(ms), pq.Array(ons), pq.Array(ps)); err != nil {
			return err
		}
	}
	return nil
}

// writeMeetings writes the meetings and their resolutions.
func (f *fold) writeMeetings(ctx context.Context, tx *sqlx.Tx) error {
	var rows [][]any
	var ids, statuses, closed []string
	var closedSet []bool
	var versions, positions []int64
	for _, id := range f.meetOrder {
		m := f.meetings[id]
		if m.row != nil {
			rows = append(rows, append(append([]any(nil), m.row...), m.status, m.closedOn, m.version, m.position))
			continue
		}
		var c string
		if m.closedSet {
			c = m.closedOn.(string)
		}
		ids, statuses, closed, closedSet = append(ids, id), append(statuses, m.status), append(closed, c), append(closedSet, m.closedSet)
		versions, positions = append(versions, int64(m.version)), append(positions, int64(m.position))
	}
	if err := copyRows(ctx, f.conn, "meetings", []string{"id", "branch", "academic_year", "kind", "date", "title", "status", "closed_on",
		"version", "position"}, rows); err != nil {
		return err
	}
	if len(ids) > 0 {
		if _, err := tx.ExecContext(ctx, `
			UPDATE meetings m SET status = CASE WHEN v.status = '' THEN m.status ELSE v.status END,
			       closed_on = CASE WHEN v.closed_set THEN v.closed_on::date ELSE m.closed_on END,
			       version = v.version, position = v.position
			FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::bigint[])
			     AS v(id, status, closed_on, closed_set, version, position)
			WHERE m.id = v.id`, pq.Array(ids), pq.Array(statuses), pq.Array(closed), pq.Array(closedSet),
			pq.Array(versions), pq.Array(positions)); err != nil {
			return err
		}
	}
	if err := copyRows(ctx, f.conn, "meeting_resolutions", []string{"meeting_id", "case_id", "resolution", "position", "destination", "outcome"},
		f.resolutions); err != nil {
		return err
	}
	if len(f.outOrder) == 0 {
		return nil
	}
	var ms, cs, os []string
	for _, k := range f.outOrder {
		ms, cs, os = append(ms, k.meeting), append(cs, k.caseID), append(os, f.outcomes[k])
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE meeting_resolutions r SET outcome = v.outcome
		FROM unnest($1::text[], $2::text[], $3::text[]) AS v(meeting_id, case_id, outcome)
		WHERE r.meeting_id = v.meeting_id AND r.case_id = v.case_id`, pq.Array(ms), pq.Array(cs), pq.Array(os))
	return err
}

// writeRoster writes the waiting list's changes, the new seats and the
// enrolments, in the order the live SQL leaves them.
func (f *fold) writeRoster(ctx context.Context, tx *sqlx.Tx) error {
	var delB, delC []string
	var ins [][]any
	for _, k := range f.waitOrder {
		w := f.waiting[k]
		if w.deleted {
			delB, delC = append(delB, k.branch), append(delC, k.caseID)
		}
		if w.ins != nil {
			ins = append(ins, w.ins)
		}
	}
	if len(delB) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM roster_waiting w USING unnest($1::text[], $2::text[]) AS v(branch, case_id)
			WHERE w.branch = v.branch AND w.case_id = v.case_id`, pq.Array(delB), pq.Array(delC)); err != nil {
			return err
		}
	}
	if len(ins) > 0 {
		var bs, cs []string
		var ps []int64
		for _, r := range ins {
			bs, cs, ps = append(bs, r[0].(string)), append(cs, r[1].(string)), append(ps, int64(r[2].(uint64)))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO roster_waiting (branch, case_id, application_position)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`, pq.Array(bs), pq.Array(cs), pq.Array(ps)); err != nil {
			return err
		}
	}
	// An enrolment applies to every open seat of its holder, from the
	// latest one's first day: the run's own seats here, the seats of
	// earlier batches by one UPDATE.
	type patch struct {
		k     rosterKey
		from  calendar.Date
		below int64 // seats of earlier batches: seq below this
	}
	var patches []patch
	var unknown []rosterKey
	for _, k := range f.enrolOrder {
		idx := f.seatIndex[k]
		if len(idx) == 0 {
			unknown = append(unknown, k)
			continue
		}
		latest := f.seats[idx[len(idx)-1]]
		from, err := calendar.ParseDate(latest[3].(string))
		if err != nil {
			return err
		}
		en := f.enrol[k]
		s := domain.EnrolSeat(domain.Seat{From: from}, en.e, en.on)
		for _, i := range idx {
			r := f.seats[i]
			r[8], r[7], r[5], r[6], r[4] = en.on.String(), en.e.Class, nullInt(s.Grade), nullInt(s.GradeYear), datePtr(s.Last)
		}
		patches = append(patches, patch{k: k, from: from, below: f.seats[idx[0]][2].(int64)})
	}
	if err := copyRows(ctx, f.conn, "roster_seats", []string{"branch", "case_id", "seq", "from_on", "last_on", "grade", "grade_year",
		"class", "enrolled_on"}, f.seats); err != nil {
		return err
	}
	if len(unknown) > 0 {
		var bs, cs []string
		for _, k := range unknown {
			bs, cs = append(bs, k.branch), append(cs, k.caseID)
		}
		var found []struct {
			Branch string `db:"branch"`
			Case   string `db:"case_id"`
			From   string `db:"from_on"`
		}
		if err := tx.SelectContext(ctx, &found, `
			SELECT DISTINCT ON (s.branch, s.case_id) s.branch, s.case_id, to_char(s.from_on, 'YYYY-MM-DD') AS from_on
			FROM roster_seats s JOIN unnest($1::text[], $2::text[]) AS v(branch, case_id) ON s.branch = v.branch AND s.case_id = v.case_id
			WHERE s.ending IS NULL ORDER BY s.branch, s.case_id, s.seq DESC`, pq.Array(bs), pq.Array(cs)); err != nil {
			return err
		}
		for _, r := range found {
			from, err := calendar.ParseDate(r.From)
			if err != nil {
				return err
			}
			patches = append(patches, patch{k: rosterKey{r.Branch, r.Case}, from: from, below: math.MaxInt64})
		}
	}
	if len(patches) == 0 {
		return nil
	}
	var bs, cs, ons, classes []string
	var grades, years []any
	var lasts []any
	var below []int64
	for _, p := range patches {
		en := f.enrol[p.k]
		s := domain.EnrolSeat(domain.Seat{From: p.from}, en.e, en.on)
		bs, cs, ons, classes = append(bs, p.k.branch), append(cs, p.k.caseID), append(ons, en.on.String()), append(classes, en.e.Class)
		grades, years, lasts = append(grades, nullInt(s.Grade)), append(years, nullInt(s.GradeYear)), append(lasts, datePtr(s.Last))
		below = append(below, p.below)
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE roster_seats s SET enrolled_on = v.enrolled_on::date, class = v.class, grade = v.grade, grade_year = v.grade_year,
		       last_on = v.last_on::date
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::bigint[])
		     AS v(branch, case_id, enrolled_on, class, grade, grade_year, last_on, below)
		WHERE s.branch = v.branch AND s.case_id = v.case_id AND s.ending IS NULL AND s.seq < v.below`,
		pq.Array(bs), pq.Array(cs), pq.Array(ons), pq.Array(classes), pq.GenericArray{A: grades}, pq.GenericArray{A: years},
		pq.GenericArray{A: lasts}, pq.Array(below))
	return err
}
