package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// The fast path of a rebuild (issue 13). The bulk of the events of a case
// — its filing, its checklist, its home visits, the first review, the
// health check, the enrolment and the registrations — is folded in memory,
// per case, across a whole batch, and each row they make or change is
// written once per batch by COPY (new rows) or one UPDATE joined to a
// COPY-filled temporary table (rows of earlier batches). Every other event
// is applied with the live projector's own SQL, in order, inside the same
// transaction, after the folded rows it may read are written:
//
//   - a folded event type must have no effect beyond what fold() does; a
//     projection that adds one to ReferralOpened, DocumentSubmitted,
//     DocumentChecked, HomeVisitLogged, AssessmentReportFinished,
//     FirstReviewDecided, HealthCheckRecorded, Enrolled or
//     RegistrationRecorded adds it here too
//     (TestIssue13FastRebuildEqualsLiveProjection fails until it does);
//   - once a case has an event applied by SQL in a batch, its later events
//     of the batch are applied by SQL too;
//   - an event of a case's SQL may read the rows of that case only; events
//     that may read across cases (PersonErased, and every aggregate but
//     referrals, meetings and the roster) are barriers: everything before
//     them is written before they apply.
//
// A batch in which anything fails, or that meets a quarantined stream or
// an undecodable event, is rolled back and applied by the live path,
// which quarantines as it always does.

// commitFast applies a batch of a rebuild through the in-memory folds, with
// its checkpoint, in one transaction; done is false when the batch is to
// be applied by the live path instead.
func (p *Projector) commitFast(ctx context.Context, batch []events.Envelope, undecodable map[uint64]bool, last uint64, pre *prefolded) (res batchResult, done bool, err error) {
	if !p.fast || len(undecodable) > 0 {
		return res, false, nil
	}
	res, done, err = p.foldBatch(ctx, batch, last, pre)
	defer func() {
		if done {
			p.folded++
		} else if err == nil {
			p.fellBack++
		}
	}()
	var injected injectedError
	if errors.As(err, &injected) {
		return res, false, injected.err // a crash, as the tests inject it
	}
	if err != nil && !transient(err) && ctx.Err() == nil && !errors.Is(err, errCheckpointReset) {
		// An event failed: the live path finds which, and quarantines it.
		return res, false, nil
	}
	return res, done, err
}

// prefolded is a batch folded ahead, in memory, with no transaction: the
// fold foldBatch would make of it when no event is at or before the
// checkpoint, and the erasures whose rows written before are still to be
// erased, in order.
type prefolded struct {
	f        *fold
	erasures []events.Envelope
	// erasedCases are the erasures' cases (some perhaps opened in the
	// batch, which have no rows written yet).
	erasedCases []string
}

// prefold folds the whole batch as foldBatch would, while the batch before
// it is written (a rebuild's catch-up). It returns nil if an event would
// be applied by its SQL (a barrier, an event the folds do not cover); then
// foldBatch folds the batch itself. x learns every case opened in the
// batch either way; an erasure's cases are found in it rather than by a
// query.
func prefold(batch []events.Envelope, x *personIndex) *prefolded {
	pre := &prefolded{f: newFold()}
	none := func(events.Envelope) bool { return false }
	for _, env := range batch {
		if env.AggregateType == events.AggregateReferral {
			if e, ok := env.Payload.(events.ReferralOpened); ok {
				x.add(env.AggregateID, e.PersonKey)
			}
		}
		if pre == nil {
			continue // the index still learns the batch's cases
		}
		if e, ok := env.Payload.(events.PersonErased); ok && env.AggregateType == events.AggregateReferral {
			erased := x.erased(e.PersonKey)
			pre.f.eraseHeld(env, erased)
			pre.erasures = append(pre.erasures, env)
			for id := range erased {
				pre.erasedCases = append(pre.erasedCases, id)
			}
			continue
		}
		if barrier(env) || !pre.f.fold(env, none) {
			pre = nil
		}
	}
	return pre
}

// erasePrefolded erases the rows written before of the prefolded batch's
// erasures, as foldBatch's erase does at each, in one statement per table
// for all of them: by the cases the prefold found (no query for them),
// and a person erased twice keeps the first day of erasure.
func (p *Projector) erasePrefolded(ctx context.Context, tx *sqlx.Tx, pre *prefolded) error {
	if len(pre.erasures) == 0 {
		return nil
	}
	var keys, on []string
	seen := map[string]bool{}
	for _, env := range pre.erasures {
		k := env.Payload.(events.PersonErased).PersonKey
		if !seen[k] {
			seen[k] = true
			keys, on = append(keys, k), append(on, dateOf(env))
		}
	}
	if err := eraseCaseIDs(ctx, tx, pre.erasedCases); err != nil {
		return err
	}
	return eraseRetention(ctx, tx, keys, on)
}

// foldBatch applies batch in one transaction with its checkpoint: the
// runs of folded events written from memory, the others by their SQL.
// pre is the batch's prefold, if any.
func (p *Projector) foldBatch(ctx context.Context, batch []events.Envelope, last uint64, pre *prefolded) (res batchResult, done bool, err error) {
	// The transaction on a connection of its own, which the COPYs use
	// directly (copy.go).
	conn, err := p.db.Connx(ctx)
	if err != nil {
		return res, false, err
	}
	defer conn.Close()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return res, false, err
	}
	defer tx.Rollback()
	if err := p.useSchema(ctx, tx); err != nil {
		return res, false, err
	}
	cp, err := lockCheckpoint(ctx, tx)
	if err != nil {
		return res, false, err
	}
	if cp < p.known {
		return res, false, errCheckpointReset
	}
	blocked, err := blockedStreams(ctx, tx)
	if err != nil {
		return res, false, err
	}
	if len(blocked) > 0 {
		return res, false, nil
	}
	f := newFold()
	// sqlStreams are the streams (a case, a meeting, a branch's roster)
	// with an event applied by SQL in this part of the batch.
	sqlStreams := map[foldStream]bool{}
	sqlStream := func(env events.Envelope) bool { return sqlStreams[streamKey(env)] }
	var deferred []events.Envelope
	var pend pending
	var sqlApplied []string // types of the events of the batch applied by their SQL
	applySQL := func(envs []events.Envelope) error {
		for _, env := range envs {
			sqlApplied = append(sqlApplied, env.Type)
			if err := p.applyGuarded(ctx, tx, &pend, env); err != nil {
				return err
			}
		}
		return nil
	}
	todo := batch
	if pre != nil && len(batch) > 0 && batch[0].Position > cp {
		// Every event is after the checkpoint, and every one folded.
		if err := p.erasePrefolded(ctx, tx, pre); err != nil {
			return res, false, err
		}
		f, res.applied, todo = pre.f, len(batch), nil
		defer func() {
			if done {
				p.prefolded++
				p.prefoldErasures += len(pre.erasures)
			}
		}()
	}
	for _, env := range todo {
		if env.Position <= cp {
			continue
		}
		res.applied++
		if e, ok := env.Payload.(events.PersonErased); ok && env.AggregateType == events.AggregateReferral {
			done, err := f.erase(ctx, tx, p, env, e, len(deferred) > 0 || sqlStreams[streamKey(env)])
			if err != nil {
				return res, false, err
			}
			if done {
				continue
			}
		}
		if barrier(env) {
			if err := f.write(ctx, conn, tx); err != nil {
				return res, false, err
			}
			if err := applySQL(append(deferred, env)); err != nil {
				return res, false, err
			}
			f, deferred = newFold(), deferred[:0]
			clear(sqlStreams)
			continue
		}
		k := streamKey(env)
		if !sqlStreams[k] && f.fold(env, sqlStream) {
			continue
		}
		sqlStreams[k] = true
		f.sqlAdmitted(env)
		deferred = append(deferred, env)
	}
	if err := f.write(ctx, conn, tx); err != nil {
		return res, false, err
	}
	if err := applySQL(deferred); err != nil {
		return res, false, err
	}
	if err := pend.flush(ctx, tx); err != nil {
		return res, false, err
	}
	if p.beforeCommit != nil {
		if err := p.beforeCommit(batch); err != nil {
			return res, false, injectedError{err}
		}
	}
	if last > cp {
		if _, err := tx.ExecContext(ctx, `UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1`, Name, last); err != nil {
			return res, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return res, false, err
	}
	p.known = max(last, cp)
	if p.bySQL == nil {
		p.bySQL = map[string]int{}
	}
	for _, t := range sqlApplied {
		p.bySQL[t]++
	}
	return res, true, nil
}

// foldedWrites are the tables the fold writes for each event type it
// folds: the live path of such an event must write no other
// (TestIssue13FoldedTypesWriteNoOtherTable).
var foldedWrites = map[string][]string{
	"ReferralOpened":           {"cases", "case_documents", "case_personal", "duty_cases", "case_retention", "case_timeline"},
	"DocumentSubmitted":        {"cases", "case_documents", "case_timeline"},
	"DocumentChecked":          {"cases", "case_documents", "case_timeline"},
	"HomeVisitLogged":          {"cases", "case_visits", "case_timeline"},
	"AssessmentReportFinished": {"cases", "case_visits", "case_timeline"},
	"FirstReviewDecided":       {"cases", "letters", "case_retention", "case_timeline"},
	"HealthCheckRecorded":      {"cases", "case_timeline"},
	"Enrolled":                 {"cases", "duty_enrolments", "case_retention", "case_timeline"},
	"RegistrationRecorded":     {"cases", "duties", "case_timeline"},
	"Admitted":                 {"cases", "meeting_resolutions", "letters", "duties", "case_retention", "case_timeline"},
	"Waitlisted":               {"cases", "meeting_resolutions", "letters", "duties", "case_retention", "case_timeline"},
	"Rejected":                 {"cases", "meeting_resolutions", "letters", "duties", "case_retention", "case_timeline"},
	"DropoutOpened":            {"cases", "dropout_episodes", "letters", "duties", "case_timeline"},
	"DropoutReported":          {"cases", "dropout_episodes", "duties", "case_timeline"},
	"DropoutFollowUpLogged":    {"cases", "dropout_episodes", "award_facts", "case_timeline"},
	"DropoutFound":             {"cases", "dropout_episodes", "case_timeline"},
	"DropoutReturned":          {"cases", "dropout_episodes", "case_timeline"},
	"DropoutClosed":            {"cases", "dropout_episodes", "case_timeline"},
	"LegalHoldPlaced":          {"cases", "case_retention", "case_timeline"},
	"MeetingScheduled":         {"meetings"},
	"MeetingOpened":            {"meetings"},
	"ResolutionRecorded":       {"meeting_resolutions", "meetings"},
	"MeetingClosed":            {"meetings"},
	"SeatTaken":                {"roster_seats", "roster_waiting"},
	"WaitlistJoined":           {"roster_waiting"},
	"SeatEnrolled":             {"roster_seats"},
	"PersonReferred":           {"case_duplicates"},
	// fold_erase.go applies the live SQL to the rows written before.
	"PersonErased": {"cases", "case_personal", "case_documents", "case_visits", "case_suspension_log",
		"case_adaptation_meetings", "case_retention", "case_timeline"},
}

// injectedError is a fault the tests inject before a commit.
type injectedError struct{ err error }

func (e injectedError) Error() string { return e.err.Error() }

// foldStream names an event's stream in a batch.
type foldStream struct{ typ, branch, id string }

func streamKey(env events.Envelope) foldStream {
	return foldStream{env.AggregateType, env.Branch, env.AggregateID}
}

// barrier reports whether an event may read rows of other cases than its
// own: everything before it in the batch is written before it applies.
func barrier(env events.Envelope) bool {
	switch env.AggregateType {
	case events.AggregateReferral:
		_, erased := env.Payload.(events.PersonErased)
		return erased
	case events.AggregateMeeting, events.AggregateRoster:
		return false // they touch their own tables and no case's rows
	case events.AggregatePerson:
		return false // possible duplicates: pairs of case ids, no case's row
	}
	return true
}

// fold holds what a run of folded events did, per case.
type fold struct {
	cases map[string]*foldCase
	order []string
	// rows to COPY, per table
	personal, dutyCases, retention, visits, letters, timeline [][]any
	// duplicates are pairs of possible duplicates: case, other, position
	duplicates [][]any
	// enrolments, per case, in first-seen order
	enrolled map[string][]any
	enrOrder []string
	more
	// conn holds the batch's transaction while write runs: the COPYs
	// go through it (copy.go).
	conn *sqlx.Conn
}

// dutyKey is a case's duty (duties' key within the case's branch and school).
type dutyKey struct{ caseID, kind, period string }

// stageAt is a stage a case took and the day, for case_retention.
type stageAt struct{ stage, on string }

// foldCase is a case's state in the fold: a new row (opened in this run)
// or the changes to a row written before.
type foldCase struct {
	isNew                bool
	opened               []any // the new cases row (isNew)
	categories           []any // its family_background and identity (isNew)
	docs                 map[int]*docChange
	visitAdd             int
	visited, interviewed bool
	reportSet            bool
	reportOn             string
	version, position    uint64
	at                   time.Time
	// sets are the columns of cases the run set (last value wins), regs
	// the semesters appended to registrations.
	sets map[string]any
	regs []string
	// stages and grade are what case_retention follows; retention is the
	// index of a new case's row in fold.retention (-1: a case written
	// before).
	stages    []stageAt
	grade     *int
	retention int
	// waitPos is what the run leaves waitlisted_position (waitKeep, ...).
	waitPos int
}

// docChange is what the run did to a checklist item: submitted (resets
// the check) and checked.
type docChange struct {
	submitted         bool
	pages             int
	issuedOn          any
	submittedOn       string
	withDropoutFile   bool
	checkSet, checked bool
	conforms          any
	note              any
}

func newFold() *fold {
	return &fold{cases: map[string]*foldCase{}, enrolled: map[string][]any{}, more: newMore()}
}

func (f *fold) caseOf(id string) *foldCase {
	c := f.cases[id]
	if c == nil {
		c = &foldCase{docs: map[int]*docChange{}, retention: -1, sets: map[string]any{}}
		f.cases[id] = c
		f.order = append(f.order, id)
	}
	return c
}

// fold folds an event into the run; false: the event is not one the folds
// cover, or not here (it is then applied by SQL). sqlStream reports the
// streams the live SQL applies events of in this run.
func (f *fold) fold(env events.Envelope, sqlStream func(events.Envelope) bool) bool {
	switch env.AggregateType {
	case events.AggregateMeeting:
		return f.foldMeetingEvent(env)
	case events.AggregateRoster:
		return f.foldRosterEvent(env)
	case events.AggregatePerson:
		return f.foldPersonEvent(env) // fold_person.go
	case events.AggregateReferral:
	default:
		return false
	}
	id := env.AggregateID
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		if f.cases[id] != nil {
			return false // a second filing of a case: SQL refuses it as it should
		}
		c := f.caseOf(id)
		c.isNew = true
		c.categories = categoriesRow(e.Categories)
		c.opened = []any{id, env.Branch, e.OriginSchool, e.AcademicYear, e.Route, e.Channel, e.Grade, e.Sex, pq.Array(e.Grounds),
			string(domain.StageIntake), e.ReceivedOn.String(), e.PersonKey, nil, nil, env.OccurredAt, nil, e.DropoutRecord,
			env.Position, env.Position}
		for item := 1; item <= domain.ChecklistItems; item++ {
			c.docs[item] = &docChange{}
		}
		if !e.Personal.IsZero() {
			f.personal = append(f.personal, []any{id, sealedJSON(e.Personal)})
		}
		f.dutyCases = append(f.dutyCases, []any{id, env.Branch, e.OriginSchool})
		c.retention = len(f.retention)
		f.retention = append(f.retention, []any{id, e.PersonKey, env.Branch, e.AcademicYear, e.Grade, string(domain.StageIntake), e.ReceivedOn.String(), nil})
	case events.DocumentSubmitted:
		c := f.caseOf(id)
		d := c.doc(e.Item)
		if d == nil {
			break // no such item: the SQL UPDATE changes nothing either
		}
		var issued any
		if e.IssuedOn != nil {
			issued = e.IssuedOn.String()
		}
		*d = docChange{submitted: true, pages: e.Pages, issuedOn: issued, submittedOn: dateOf(env), withDropoutFile: e.WithDropoutFile,
			checkSet: true, checked: false, conforms: nil, note: nil}
	case events.DocumentChecked:
		c := f.caseOf(id)
		d := c.doc(e.Item)
		if d == nil {
			break
		}
		note, _ := sealedJSON(e.Note).Value()
		d.checkSet, d.checked, d.conforms, d.note = true, true, e.Conforms, note
	case events.HomeVisitLogged:
		c := f.caseOf(id)
		switch e.Kind {
		case domain.VisitContact:
			c.visitAdd++
		case domain.VisitHome:
			c.visited = true
		case domain.VisitInterview:
			c.interviewed = true
		}
		f.visits = append(f.visits, []any{env.Position, id, e.Kind, e.On.String(), sealedJSON(e.Note)})
	case events.AssessmentReportFinished:
		c := f.caseOf(id)
		c.reportSet, c.reportOn = true, e.On.String()
		f.visits = append(f.visits, []any{env.Position, id, "report", e.On.String(), sealedJSON(e.Summary)})
	case events.HealthCheckRecorded:
		c := f.caseOf(id)
		var cleared any
		if e.ClearedOn != nil {
			cleared = e.ClearedOn.String()
		}
		c.sets["health_examined_on"], c.sets["infectious"], c.sets["health_cleared_on"] = e.ExaminedOn.String(), e.Infectious, cleared
	case events.FirstReviewDecided:
		c := f.caseOf(id)
		stage := string(domain.ReviewStage(e.Outcome))
		c.sets["stage"], c.sets["review_outcome"], c.sets["reviewed_on"] = stage, e.Outcome, e.On.String()
		f.letter(env, e.Letter)
		c.stages = append(c.stages, stageAt{stage, dateOf(env)})
	case events.Enrolled:
		c := f.caseOf(id)
		stage := string(domain.StageEnrolled)
		c.sets["stage"], c.sets["enrolled_on"], c.sets["class"], c.sets["grade"] = stage, e.On.String(), e.Class, e.Grade
		grade := e.Grade
		c.grade = &grade
		c.stages = append(c.stages, stageAt{stage, dateOf(env)})
		if _, seen := f.enrolled[id]; !seen {
			f.enrOrder = append(f.enrOrder, id)
		}
		f.enrolled[id] = []any{id, e.On.String(), e.Grade}
	case events.RegistrationRecorded:
		c := f.caseOf(id)
		c.regs = append(c.regs, e.Semester)
		f.done(env, domain.DutyRegistration, e.Semester, dateOf(env))
	default:
		if !f.foldAdmission(env, sqlStream) {
			return false
		}
	}
	f.folded(env)
	return true
}

// categoriesRow is what setCategories writes of a filing's statistical
// categories (R-STAT-2): family_background and identity, the columns'
// defaults ('unknown', NULL) for none recorded.
func categoriesRow(e events.Categories) []any {
	c := domain.CategoriesOf(e)
	var identity any // NULL: never recorded
	if c.IdentityKnown() {
		identity = pq.Array(c.Identity)
	}
	return []any{c.FamilyBackground, identity}
}

// folded records a folded event of a case: its version and position, and
// its line on the timeline.
func (f *fold) folded(env events.Envelope) {
	c := f.cases[env.AggregateID]
	c.version, c.position, c.at = env.Version, env.Position, env.OccurredAt
	f.timeline = append(f.timeline, []any{env.Position, env.AggregateID, env.Version, env.ID, env.Type, Summary(env),
		string(env.Actor.Role), env.Actor.School, env.OccurredAt, env.RecordedAt})
}

// letter records a letter to a school, as letter() does.
func (f *fold) letter(env events.Envelope, l events.Letter) {
	f.letters = append(f.letters, []any{env.Position, env.AggregateID, l.ToSchool, l.StudentAlias, l.Subject, l.Outcome,
		l.NextStep, l.Meeting, dateOf(env)})
}

// retentionAfter follows case_retention's stage through the stages a run
// set, as applyRetention does event by event: the stage and its day move
// when the case's new stage differs from the one kept.
func retentionAfter(stage, on string, stages []stageAt) (string, string) {
	for _, s := range stages {
		if s.stage != stage {
			stage, on = s.stage, s.on
		}
	}
	return stage, on
}

// doc returns the change of a checklist item, nil for an item a new case
// does not have; items of a case written before are found when the
// UPDATE joins them.
func (c *foldCase) doc(item int) *docChange {
	d := c.docs[item]
	if d == nil && !c.isNew {
		d = &docChange{}
		c.docs[item] = d
	}
	return d
}

// write writes the run: new rows by COPY, changes to rows written before by
// COPY into a temporary table and one UPDATE each.
func (f *fold) write(ctx context.Context, conn *sqlx.Conn, tx *sqlx.Tx) error {
	f.conn = conn
	defer func() { f.conn = nil }()
	var cases, docs, casePatch, docPatch, setPatch [][]any
	var retained []string // cases written before whose retention the run moves
	for _, id := range f.order {
		c := f.cases[id]
		if !c.isNew && (len(c.sets) > 0 || len(c.regs) > 0 || c.waitPos != waitKeep) {
			sets, err := json.Marshal(c.sets)
			if err != nil {
				return err
			}
			var regs any
			if len(c.regs) > 0 {
				regs = pq.Array(c.regs)
			}
			setPatch = append(setPatch, []any{id, string(sets), regs, c.waitPos})
		}
		if c.retention >= 0 {
			r := f.retention[c.retention]
			r[5], r[6] = retentionAfter(r[5].(string), r[6].(string), c.stages)
			if c.grade != nil {
				r[4] = *c.grade
			}
		} else if len(c.stages) > 0 || c.grade != nil {
			retained = append(retained, id)
		}
		items := make([]int, 0, len(c.docs))
		for item := range c.docs {
			items = append(items, item)
		}
		slices.Sort(items)
		if c.isNew {
			row := append([]any(nil), c.opened...)
			row[12], row[13], row[15] = c.version, c.position, c.at
			var report any
			if c.reportSet {
				report = c.reportOn
			}
			row = append(row, c.visitAdd, c.visited, c.interviewed, report)
			// The columns the run set, in memory: the row is written once.
			if v, ok := c.sets["stage"]; ok {
				row[9] = v
			}
			if v, ok := c.sets["grade"]; ok {
				row[6] = v
			}
			for _, col := range newCaseSets {
				v, ok := c.sets[col]
				if !ok {
					v = nil
					if col == "infectious" {
						v = false
					}
				}
				row = append(row, v)
			}
			var regs, waitPos any
			if len(c.regs) > 0 {
				regs = pq.Array(c.regs)
			}
			if c.waitPos == waitApplication {
				waitPos = row[18]
			}
			cases = append(cases, append(row, regs, waitPos, c.categories[0], c.categories[1]))
			for _, item := range items {
				d := c.docs[item]
				var pages, submittedOn any
				if d.submitted {
					pages, submittedOn = d.pages, d.submittedOn
				}
				docs = append(docs, []any{id, item, d.submitted, pages, d.issuedOn, d.checked, d.conforms, d.note, submittedOn, d.withDropoutFile})
			}
			continue
		}
		var report any
		if c.reportSet {
			report = c.reportOn
		}
		casePatch = append(casePatch, []any{id, c.version, c.position, c.at, c.visitAdd, c.visited, c.interviewed, c.reportSet, report})
		for _, item := range items {
			d := c.docs[item]
			var pages, submittedOn any
			if d.submitted {
				pages, submittedOn = d.pages, d.submittedOn
			}
			docPatch = append(docPatch, []any{id, item, d.submitted, pages, d.issuedOn, submittedOn, d.withDropoutFile,
				d.checkSet, d.checked, d.conforms, d.note})
		}
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"cases", []string{"id", "branch", "origin_school", "academic_year", "route", "channel", "grade", "sex", "grounds",
			"stage", "received_on", "person_key", "version", "position", "opened_at", "updated_at", "dropout_record",
			"received_position", "application_position", "visit_contacts", "visit_visited", "visit_interviewed", "visit_report_on",
			"review_outcome", "reviewed_on", "health_examined_on", "infectious", "health_cleared_on", "enrolled_on", "class",
			"admission_meeting", "report_by", "end_state", "end_reason", "ended_on", "registrations", "waitlisted_position",
			"family_background", "identity"}, cases},
		{"case_documents", []string{"case_id", "item", "submitted", "pages", "issued_on", "checked", "conforms", "note",
			"submitted_on", "with_dropout_file"}, docs},
		{"case_personal", []string{"case_id", "personal"}, f.personal},
		{"duty_cases", []string{"case_id", "branch", "origin_school"}, f.dutyCases},
		{"case_retention", []string{"case_id", "person_key", "branch", "academic_year", "grade", "stage", "stage_on", "erased_on"}, f.retention},
	}
	for _, c := range copies {
		if err := copyRows(ctx, f.conn, c.table, c.cols, c.rows); err != nil {
			return err
		}
	}
	if len(casePatch) > 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS fold_case_patch (id text, version bigint, position bigint,
			at timestamptz, visit_add int, visited boolean, interviewed boolean, report_set boolean, report_on date) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		if err := copyRows(ctx, f.conn, "fold_case_patch", []string{"id", "version", "position", "at", "visit_add", "visited",
			"interviewed", "report_set", "report_on"}, casePatch); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases c SET version = t.version, position = t.position, updated_at = t.at,
			       visit_contacts = c.visit_contacts + t.visit_add,
			       visit_visited = c.visit_visited OR t.visited,
			       visit_interviewed = c.visit_interviewed OR t.interviewed,
			       visit_report_on = CASE WHEN t.report_set THEN t.report_on ELSE c.visit_report_on END
			FROM pg_temp.fold_case_patch t WHERE c.id = t.id`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `TRUNCATE pg_temp.fold_case_patch`); err != nil {
			return err
		}
	}
	if len(docPatch) > 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS fold_doc_patch (case_id text, item int, submitted boolean,
			pages int, issued_on date, submitted_on date, with_dropout_file boolean, check_set boolean, checked boolean,
			conforms boolean, note json) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		if err := copyRows(ctx, f.conn, "fold_doc_patch", []string{"case_id", "item", "submitted", "pages", "issued_on", "submitted_on",
			"with_dropout_file", "check_set", "checked", "conforms", "note"}, docPatch); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE case_documents d SET
			       submitted = d.submitted OR t.submitted,
			       pages = CASE WHEN t.submitted THEN t.pages ELSE d.pages END,
			       issued_on = CASE WHEN t.submitted THEN t.issued_on ELSE d.issued_on END,
			       submitted_on = CASE WHEN t.submitted THEN t.submitted_on ELSE d.submitted_on END,
			       with_dropout_file = CASE WHEN t.submitted THEN t.with_dropout_file ELSE d.with_dropout_file END,
			       checked = CASE WHEN t.check_set THEN t.checked ELSE d.checked END,
			       conforms = CASE WHEN t.check_set THEN t.conforms ELSE d.conforms END,
			       note = CASE WHEN t.check_set THEN t.note ELSE d.note END
			FROM pg_temp.fold_doc_patch t WHERE d.case_id = t.case_id AND d.item = t.item`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `TRUNCATE pg_temp.fold_doc_patch`); err != nil {
			return err
		}
	}
	if err := f.writeSets(ctx, tx, setPatch); err != nil {
		return err
	}
	if err := f.writeRetention(ctx, tx, retained); err != nil {
		return err
	}
	if err := f.writeMore(ctx, tx); err != nil {
		return err
	}
	if err := f.writeDuplicates(ctx, tx); err != nil {
		return err
	}
	if err := f.writeDuties(ctx, tx); err != nil {
		return err
	}
	if err := copyRows(ctx, f.conn, "letters", []string{"position", "case_id", "to_school", "student_alias", "subject", "outcome",
		"next_step", "meeting", "issued_on"}, f.letters); err != nil {
		return err
	}
	if err := copyRows(ctx, f.conn, "case_visits", []string{"position", "case_id", "kind", "on_date", "note"}, f.visits); err != nil {
		return err
	}
	return copyRows(ctx, f.conn, "case_timeline", []string{"position", "case_id", "version", "event_id", "event_type",
		"summary", "actor_role", "actor_school", "occurred_at", "recorded_at"}, f.timeline)
}

// setColumns are the columns of cases the folds set, with their types.
var setColumns = []struct{ name, typ string }{
	{"stage", "text"}, {"review_outcome", "text"}, {"reviewed_on", "date"},
	{"health_examined_on", "date"}, {"infectious", "boolean"}, {"health_cleared_on", "date"},
	{"enrolled_on", "date"}, {"class", "text"}, {"grade", "int"},
	{"admission_meeting", "text"}, {"report_by", "date"}, {"end_state", "text"}, {"end_reason", "text"}, {"ended_on", "date"},
}

// newCaseSets are the columns of setColumns a new case's row is written
// with (stage and grade are in it already), in the COPY's order.
var newCaseSets = []string{"review_outcome", "reviewed_on", "health_examined_on", "infectious", "health_cleared_on", "enrolled_on",
	"class", "admission_meeting", "report_by", "end_state", "end_reason", "ended_on"}

// writeSets writes the columns the run set and the registrations it
// appended, for every case (new or written before), in one UPDATE.
func (f *fold) writeSets(ctx context.Context, tx *sqlx.Tx, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS fold_case_sets (id text, sets jsonb, regs text[], wait int) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	if err := copyRows(ctx, f.conn, "fold_case_sets", []string{"id", "sets", "regs", "wait"}, rows); err != nil {
		return err
	}
	assign := make([]string, 0, len(setColumns)+1)
	for _, c := range setColumns {
		assign = append(assign, fmt.Sprintf(`%[1]s = CASE WHEN t.sets ? '%[1]s' THEN (t.sets->>'%[1]s')::%[2]s ELSE c.%[1]s END`, c.name, c.typ))
	}
	assign = append(assign, fmt.Sprintf(`waitlisted_position = CASE t.wait WHEN %d THEN NULL WHEN %d THEN c.application_position ELSE c.waitlisted_position END`,
		waitNull, waitApplication))
	assign = append(assign, `registrations = CASE WHEN t.regs IS NULL THEN c.registrations ELSE coalesce(c.registrations, '{}') || t.regs END`)
	if _, err := tx.ExecContext(ctx, `UPDATE cases c SET `+strings.Join(assign, ", ")+` FROM pg_temp.fold_case_sets t WHERE c.id = t.id`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `TRUNCATE pg_temp.fold_case_sets`)
	return err
}

// writeRetention moves case_retention of the cases written before whose
// stage or grade the run changed: it reads their kept stage, follows it
// through the run's stages and writes the result in one UPDATE.
func (f *fold) writeRetention(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var kept []struct {
		ID    string `db:"case_id"`
		Stage string `db:"stage"`
		On    string `db:"stage_on"`
	}
	if err := tx.SelectContext(ctx, &kept, `SELECT case_id, stage, to_char(stage_on, 'YYYY-MM-DD') AS stage_on FROM case_retention WHERE case_id = ANY($1)`, pq.Array(ids)); err != nil {
		return err
	}
	var cases, stages, ons []string
	var grades []sql.NullInt64
	for _, k := range kept {
		c := f.cases[k.ID]
		stage, on := retentionAfter(k.Stage, k.On, c.stages)
		var g sql.NullInt64
		if c.grade != nil {
			g = sql.NullInt64{Int64: int64(*c.grade), Valid: true}
		}
		cases, stages, ons, grades = append(cases, k.ID), append(stages, stage), append(ons, on), append(grades, g)
	}
	if len(cases) == 0 {
		return nil
	}
	gradeArr := make([]any, len(grades))
	for i, g := range grades {
		if g.Valid {
			gradeArr[i] = g.Int64
		}
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE case_retention r SET stage = v.stage, stage_on = v.stage_on::date, grade = coalesce(v.grade, r.grade)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS v(case_id, stage, stage_on, grade)
		WHERE r.case_id = v.case_id`, pq.Array(cases), pq.Array(stages), pq.Array(ons), pq.GenericArray{A: gradeArr})
	return err
}

// writeDuties records the duties the run did (registrations) and the
// enrolments, as applyDuties does, one statement each.
func (f *fold) writeDuties(ctx context.Context, tx *sqlx.Tx) error {
	// A case opened in this run has no duty yet: its duties are new rows.
	var fresh [][]any
	var old []dutyKey
	for _, k := range f.dutyOrder {
		c := f.cases[k.caseID]
		if c == nil || !c.isNew {
			old = append(old, k)
			continue
		}
		d := f.duties[k]
		fresh = append(fresh, []any{c.opened[1], c.opened[2], k.caseID, k.kind, k.period, d.openedOn, d.dueOn, d.doneOn, int64(d.position)})
	}
	if err := copyRows(ctx, f.conn, "duties", []string{"branch", "origin_school", "case_id", "kind", "period", "opened_on", "due_on",
		"done_on", "position"}, fresh); err != nil {
		return err
	}
	if len(old) > 0 {
		var ids, kinds, periods []string
		var opened, due, done []any
		var positions []int64
		for _, k := range old {
			d := f.duties[k]
			ids, kinds, periods = append(ids, k.caseID), append(kinds, k.kind), append(periods, k.period)
			opened, due, done = append(opened, d.openedOn), append(due, d.dueOn), append(done, d.doneOn)
			positions = append(positions, int64(d.position))
		}
		// As open and done do, event by event: an opening keeps the first
		// opened_on, sets due_on and lifts a cancellation; done keeps the
		// least done_on.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO duties (branch, origin_school, case_id, kind, period, opened_on, due_on, done_on, position)
			SELECT dc.branch, dc.origin_school, dc.case_id, v.kind, v.period, v.opened_on::date, v.due_on::date, v.done_on::date, v.position
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
			     AS v(case_id, kind, period, opened_on, due_on, done_on, position)
			JOIN duty_cases dc ON dc.case_id = v.case_id
			ON CONFLICT (branch, origin_school, case_id, kind, period)
			DO UPDATE SET opened_on = coalesce(duties.opened_on, EXCLUDED.opened_on),
			              due_on = CASE WHEN EXCLUDED.opened_on IS NULL THEN duties.due_on ELSE EXCLUDED.due_on END,
			              cancelled_on = CASE WHEN EXCLUDED.opened_on IS NULL THEN duties.cancelled_on END,
			              done_on = least(duties.done_on, EXCLUDED.done_on), position = EXCLUDED.position`,
			pq.Array(ids), pq.Array(kinds), pq.Array(periods), pq.GenericArray{A: opened}, pq.GenericArray{A: due},
			pq.GenericArray{A: done}, pq.Array(positions)); err != nil {
			return err
		}
	}
	var freshEnr [][]any
	var ids, ons []string
	var grades []int64
	for _, id := range f.enrOrder {
		r := f.enrolled[id]
		if c := f.cases[id]; c != nil && c.isNew {
			freshEnr = append(freshEnr, []any{id, c.opened[1], c.opened[2], r[1], r[2]})
			continue
		}
		ids, ons, grades = append(ids, id), append(ons, r[1].(string)), append(grades, int64(r[2].(int)))
	}
	if err := copyRows(ctx, f.conn, "duty_enrolments", []string{"case_id", "branch", "origin_school", "enrolled_on", "grade"}, freshEnr); err != nil {
		return err
	}
	if len(ids) > 0 {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO duty_enrolments (case_id, branch, origin_school, enrolled_on, grade)
			SELECT dc.case_id, dc.branch, dc.origin_school, v.enrolled_on::date, v.grade
			FROM unnest($1::text[], $2::text[], $3::int[]) AS v(case_id, enrolled_on, grade)
			JOIN duty_cases dc ON dc.case_id = v.case_id
			ON CONFLICT (case_id) DO UPDATE SET enrolled_on = EXCLUDED.enrolled_on, grade = EXCLUDED.grade, ended_on = NULL`,
			pq.Array(ids), pq.Array(ons), pq.Array(grades)); err != nil {
			return err
		}
	}
	return nil
}
