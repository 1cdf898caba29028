package projections

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// The fast path of a rebuild (issue 13). The bulk of the events of a case
// — its filing, its checklist and its home visits — is folded in memory,
// per case, across a whole batch, and each row they make or change is
// written once per batch by COPY (new rows) or one UPDATE joined to a
// COPY-filled temporary table (rows of earlier batches). Every other event
// is applied with the live projector's own SQL, in order, inside the same
// transaction, after the folded rows it may read are written:
//
//   - a folded event type must have no effect beyond the tables below; a
//     projection that adds one to ReferralOpened, DocumentSubmitted,
//     DocumentChecked, HomeVisitLogged or AssessmentReportFinished adds it
//     here too (TestIssue13FastRebuildEqualsLiveProjection fails until it
//     does);
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
func (p *Projector) commitFast(ctx context.Context, batch []events.Envelope, undecodable map[uint64]bool, last uint64) (res batchResult, done bool, err error) {
	if !p.fast || len(undecodable) > 0 {
		return res, false, nil
	}
	res, done, err = p.foldBatch(ctx, batch, last)
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

func (p *Projector) foldBatch(ctx context.Context, batch []events.Envelope, last uint64) (res batchResult, done bool, err error) {
	tx, err := p.db.BeginTxx(ctx, nil)
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
	sqlCases := map[string]bool{} // cases with an event applied by SQL in this batch
	var deferred []events.Envelope
	var pend pending
	applySQL := func(envs []events.Envelope) error {
		for _, env := range envs {
			if err := p.applyGuarded(ctx, tx, &pend, env); err != nil {
				return err
			}
		}
		return nil
	}
	for _, env := range batch {
		if env.Position <= cp {
			continue
		}
		res.applied++
		if barrier(env) {
			if err := f.write(ctx, tx); err != nil {
				return res, false, err
			}
			if err := applySQL(append(deferred, env)); err != nil {
				return res, false, err
			}
			f, deferred = newFold(), deferred[:0]
			continue
		}
		if env.AggregateType == events.AggregateReferral {
			if !sqlCases[env.AggregateID] && f.fold(env) {
				continue
			}
			sqlCases[env.AggregateID] = true
		}
		deferred = append(deferred, env)
	}
	if err := f.write(ctx, tx); err != nil {
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
	return res, true, nil
}

// injectedError is a fault the tests inject before a commit.
type injectedError struct{ err error }

func (e injectedError) Error() string { return e.err.Error() }

// barrier reports whether an event may read rows of other cases than its
// own: everything before it in the batch is written before it applies.
func barrier(env events.Envelope) bool {
	switch env.AggregateType {
	case events.AggregateReferral:
		_, erased := env.Payload.(events.PersonErased)
		return erased
	case events.AggregateMeeting, events.AggregateRoster:
		return false // they touch their own tables and no case's rows
	}
	return true
}

// fold holds what a run of folded events did, per case.
type fold struct {
	cases map[string]*foldCase
	order []string
	// rows to COPY, per table
	newCases, newDocs, personal, dutyCases, retention, visits, timeline [][]any
}

// foldCase is a case's state in the fold: a new row (opened in this run)
// or the changes to a row written before.
type foldCase struct {
	isNew                bool
	opened               []any // the new cases row (isNew)
	docs                 map[int]*docChange
	visitAdd             int
	visited, interviewed bool
	reportSet            bool
	reportOn             string
	version, position    uint64
	at                   time.Time
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

func newFold() *fold { return &fold{cases: map[string]*foldCase{}} }

func (f *fold) caseOf(id string) *foldCase {
	c := f.cases[id]
	if c == nil {
		c = &foldCase{docs: map[int]*docChange{}}
		f.cases[id] = c
		f.order = append(f.order, id)
	}
	return c
}

// fold folds a referral's event into the run; false: the event is not one
// the folds cover, or not here (it is then applied by SQL).
func (f *fold) fold(env events.Envelope) bool {
	id := env.AggregateID
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		if f.cases[id] != nil {
			return false // a second filing of a case: SQL refuses it as it should
		}
		c := f.caseOf(id)
		c.isNew = true
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
		f.retention = append(f.retention, []any{id, e.PersonKey, env.Branch, e.AcademicYear, e.Grade, string(domain.StageIntake), e.ReceivedOn.String()})
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
	default:
		return false
	}
	c := f.cases[id]
	c.version, c.position, c.at = env.Version, env.Position, env.OccurredAt
	f.timeline = append(f.timeline, []any{env.Position, id, env.Version, env.ID, env.Type, Summary(env),
		string(env.Actor.Role), env.Actor.School, env.OccurredAt, env.RecordedAt})
	return true
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
func (f *fold) write(ctx context.Context, tx *sqlx.Tx) error {
	if len(f.order) == 0 {
		return nil
	}
	var cases, docs, casePatch, docPatch [][]any
	for _, id := range f.order {
		c := f.cases[id]
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
			cases = append(cases, append(row, c.visitAdd, c.visited, c.interviewed, report))
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
			"received_position", "application_position", "visit_contacts", "visit_visited", "visit_interviewed", "visit_report_on"}, cases},
		{"case_documents", []string{"case_id", "item", "submitted", "pages", "issued_on", "checked", "conforms", "note",
			"submitted_on", "with_dropout_file"}, docs},
		{"case_personal", []string{"case_id", "personal"}, f.personal},
		{"duty_cases", []string{"case_id", "branch", "origin_school"}, f.dutyCases},
		{"case_retention", []string{"case_id", "person_key", "branch", "academic_year", "grade", "stage", "stage_on"}, f.retention},
	}
	for _, c := range copies {
		if err := copyRows(ctx, tx, c.table, c.cols, c.rows); err != nil {
			return err
		}
	}
	if len(casePatch) > 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS fold_case_patch (id text, version bigint, position bigint,
			at timestamptz, visit_add int, visited boolean, interviewed boolean, report_set boolean, report_on date) ON COMMIT DELETE ROWS`); err != nil {
			return err
		}
		if err := copyRows(ctx, tx, "fold_case_patch", []string{"id", "version", "position", "at", "visit_add", "visited",
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
		if err := copyRows(ctx, tx, "fold_doc_patch", []string{"case_id", "item", "submitted", "pages", "issued_on", "submitted_on",
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
	if err := copyRows(ctx, tx, "case_visits", []string{"position", "case_id", "kind", "on_date", "note"}, f.visits); err != nil {
		return err
	}
	return copyRows(ctx, tx, "case_timeline", []string{"position", "case_id", "version", "event_id", "event_type",
		"summary", "actor_role", "actor_school", "occurred_at", "recorded_at"}, f.timeline)
}

// copyRows writes rows into table (found on the search path) by COPY.
func copyRows(ctx context.Context, tx *sqlx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, cols...))
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			stmt.Close()
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return err
	}
	return stmt.Close()
}
