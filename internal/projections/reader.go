package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// Reader serves the read models to the API. Its queries run on db: the
// database, or the transaction of an as-of read (asof.go).
type Reader struct {
	db    queryer
	base  *sqlx.DB
	stmts preparedStmts // prepared_reader.go
}

// queryer is what the reader's queries need: *sqlx.DB and *sqlx.Tx both
// have it.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// NewReader returns a reader.
func NewReader(db *sqlx.DB) *Reader { return &Reader{db: db, base: db} }

// Case is a referral as the API shows it.
type Case struct {
	ID           string         `db:"id" json:"id"`
	Branch       string         `db:"branch" json:"branch"`
	OriginSchool string         `db:"origin_school" json:"origin_school"`
	AcademicYear int            `db:"academic_year" json:"academic_year"`
	Route        string         `db:"route" json:"route"`
	Channel      string         `db:"channel" json:"channel,omitempty"`
	Grade        int            `db:"grade" json:"grade"`
	Sex          string         `db:"sex" json:"sex"`
	Grounds      pq.StringArray `db:"grounds" json:"grounds"`
	Stage        string         `db:"stage" json:"stage"`
	ReceivedOn   time.Time      `db:"received_on" json:"-"`
	Version      uint64         `db:"version" json:"version"`
	Position     uint64         `db:"position" json:"position"`
	OpenedAt     time.Time      `db:"opened_at" json:"opened_at"`
	UpdatedAt    time.Time      `db:"updated_at" json:"updated_at"`
	// Personal is the sealed personal data (events.Sealed JSON of a
	// domain.Person), loaded only when asked for; the API opens it into
	// Student for a caller who may see it.
	Personal  []byte     `db:"-" json:"-"`
	Student   *Student   `db:"-" json:"student"`
	Documents []Document `db:"-" json:"documents,omitempty"`

	DropoutRecord       bool           `db:"dropout_record" json:"dropout_record"`
	ReturnedMissing     pq.Int64Array  `db:"returned_missing" json:"returned_missing,omitempty"`
	VisitContacts       int            `db:"visit_contacts" json:"-"`
	VisitVisited        bool           `db:"visit_visited" json:"-"`
	VisitInterviewed    bool           `db:"visit_interviewed" json:"-"`
	VisitReportOn       *time.Time     `db:"visit_report_on" json:"-"`
	ReviewOutcome       *string        `db:"review_outcome" json:"-"`
	ReviewedOn          *time.Time     `db:"reviewed_on" json:"-"`
	ApplicationPosition uint64         `db:"application_position" json:"application_position"`
	Appealed            bool           `db:"appealed" json:"appealed"`
	Attendees           pq.StringArray `db:"attendees" json:"attendees,omitempty"`
	AdmissionMeeting    *string        `db:"admission_meeting" json:"admission_meeting,omitempty"`
	ReportBy            *time.Time     `db:"report_by" json:"-"`
	HealthExaminedOn    *time.Time     `db:"health_examined_on" json:"-"`
	Infectious          bool           `db:"infectious" json:"-"`
	HealthClearedOn     *time.Time     `db:"health_cleared_on" json:"-"`
	EnrolledOn          *time.Time     `db:"enrolled_on" json:"-"`
	Class               *string        `db:"class" json:"class,omitempty"`
	Registrations       pq.StringArray `db:"registrations" json:"registrations,omitempty"`
	Letters             []Letter       `db:"-" json:"letters,omitempty"`
	// Suspension is the latest 中止就讀 procedure (R-SUS-2..4); nil: none.
	Suspension         *SuspensionView      `db:"-" json:"suspension"`
	AdaptationMeetings []AdaptationMeeting  `db:"-" json:"adaptation_meetings,omitempty"`
	SuspensionLog      []SuspensionLogEntry `db:"-" json:"suspension_log,omitempty"`
	Visits             []VisitEntry         `db:"-" json:"-"`
	// Returns (R-MID-3) and acceptance with items owed (R-ELIG-4).
	ResubmitBy       *time.Time    `db:"resubmit_by" json:"-"`
	LapsedOn         *time.Time    `db:"lapsed_on" json:"-"`
	AcceptedOn       *time.Time    `db:"accepted_on" json:"-"`
	OwedItems        pq.Int64Array `db:"owed_items" json:"-"`
	AcceptanceReason []byte        `db:"acceptance_reason" json:"-"` // sealed
	SpecialReason    *string       `db:"-" json:"-"`                 // AcceptanceReason opened, for social workers
	// ProjectionError: an event of this case is quarantined, so the case
	// is stale from there on (issue 7).
	ProjectionError bool `db:"projection_error" json:"projection_error"`
	// EndState, EndReason and EndedOn: how the case ended (declined,
	// withdrawn, graduated, lapsed, rejected, …), why, citing the rule,
	// and when; null while it is open (the dated roster, roster.go).
	EndState  *string `db:"end_state" json:"end_state"`
	EndReason *string `db:"end_reason" json:"end_reason"`
	EndedOn   *string `db:"ended_on" json:"ended_on"`
	// The statistical categories (R-STAT-2), unknown where never
	// recorded; the API shows them as domain.Categories.
	FamilyBackground string         `db:"family_background" json:"-"`
	Identity         pq.StringArray `db:"identity" json:"-"` // nil: never recorded
	// PossibleDuplicates are the cases of the same student from other
	// schools flagged at filing (R-CAP-1); the API shows them to the
	// branch's social workers only.
	PossibleDuplicates pq.StringArray `db:"possible_duplicates" json:"-"`
	// dropouts are the episodes and grounds read with a case detail
	// (case_reader.go).
	dropouts *caseDropouts
}

// Categories returns the case's statistical categories (R-STAT-2).
func (c Case) Categories() domain.Categories {
	return domain.CategoriesOf(events.Categories{FamilyBackground: c.FamilyBackground, IdentityKnown: c.Identity != nil, Identity: c.Identity})
}

// Letter is a letter sent to a school.
type Letter struct {
	Position     uint64 `db:"position" json:"position"`
	ToSchool     string `db:"to_school" json:"to_school"`
	StudentAlias string `db:"student_alias" json:"student_alias"`
	Subject      string `db:"subject" json:"subject"`
	Outcome      string `db:"outcome" json:"outcome"`
	NextStep     string `db:"next_step" json:"next_step"`
	Meeting      string `db:"meeting" json:"meeting,omitempty"`
	IssuedOn     string `db:"issued_on" json:"issued_on"`
}

// VisitEntry is one entry of the home-visit log. SealedNote is the note
// as stored; the API opens it into Note for social workers.
type VisitEntry struct {
	Kind       string  `db:"kind" json:"kind"`
	On         string  `db:"on_date" json:"on"`
	SealedNote []byte  `db:"note" json:"-"`
	Note       *string `db:"-" json:"note,omitempty"`
}

// Student is the personal data of a case as the API shows it, opened from
// Case.Personal; nil once erased.
type Student struct {
	Name             string          `db:"student_name" json:"name"`
	NationalID       string          `db:"national_id" json:"national_id"`
	BirthDate        *string         `db:"birth_date" json:"birth_date"`
	GuardianName     string          `db:"guardian_name" json:"guardian_name"`
	GuardianRelation string          `db:"guardian_relation" json:"guardian_relation"`
	Reason           string          `db:"reason" json:"reason"`
	CrisisType       string          `db:"crisis_type" json:"crisis_type,omitempty"`
	ExclusionReason  string          `db:"exclusion_reason" json:"exclusion_reason,omitempty"`
	Family           json.RawMessage `db:"family" json:"family"`
}

// Document is one checklist item (R-DOC-1).
type Document struct {
	SubmittedOn     *string `db:"submitted_on" json:"submitted_on"`
	WithDropoutFile bool    `db:"with_dropout_file" json:"with_dropout_file"`
	Item            int     `db:"item" json:"item"`
	Name            string  `db:"-" json:"name"`
	Submitted       bool    `db:"submitted" json:"submitted"`
	Pages           *int    `db:"pages" json:"pages"`
	IssuedOn        *string `db:"issued_on" json:"issued_on"`
	Checked         bool    `db:"checked" json:"checked"`
	Conforms        *bool   `db:"conforms" json:"conforms"`
	// SealedNote is the social worker's note as stored; the API opens it
	// into Note for social workers (R-DOC-2).
	SealedNote []byte  `db:"note" json:"-"`
	Note       *string `db:"-" json:"note,omitempty"`
}

// TimelineEntry is one event of a case's audit trail.
type TimelineEntry struct {
	Position    uint64    `db:"position" json:"position"`
	Version     uint64    `db:"version" json:"version"`
	EventID     string    `db:"event_id" json:"event_id"`
	Type        string    `db:"event_type" json:"type"`
	Summary     string    `db:"summary" json:"summary"`
	ActorRole   string    `db:"actor_role" json:"actor_role"`
	ActorSchool string    `db:"actor_school" json:"actor_school,omitempty"`
	OccurredAt  time.Time `db:"occurred_at" json:"occurred_at"`
	RecordedAt  time.Time `db:"recorded_at" json:"recorded_at"`
}

// Scope limits what a reader sees: an origin school its own students, branch
// staff their branch.
type Scope struct {
	School string
	Branch string
}

const caseColumns = `id, branch, origin_school, academic_year, route, channel, grade, sex, grounds, stage,
	received_on, version, position, opened_at, updated_at, dropout_record, returned_missing, visit_contacts,
	visit_visited, visit_interviewed, visit_report_on, review_outcome, reviewed_on, application_position, appealed,
	attendees, admission_meeting, report_by, health_examined_on, infectious, health_cleared_on, enrolled_on, class, registrations,
	projection_error, resubmit_by, lapsed_on, accepted_on, owed_items, acceptance_reason,
	end_state, end_reason, to_char(ended_on, 'YYYY-MM-DD') AS ended_on,
	family_background, identity,
	ARRAY(SELECT d.other_case_id FROM case_duplicates d WHERE d.case_id = cases.id ORDER BY d.other_case_id) AS possible_duplicates`

func scopeWhere(s Scope, args []any) (string, []any) {
	where := ""
	if s.School != "" {
		args = append(args, s.School)
		where += " AND origin_school = $" + strconv.Itoa(len(args))
	}
	if s.Branch != "" {
		args = append(args, s.Branch)
		where += " AND branch = $" + strconv.Itoa(len(args))
	}
	return where, args
}

// Case returns one case with its checklist and, if withPersonal, its
// sealed personal data (nil once erased). A case
// outside the scope is not found, never forbidden: its existence is not
// revealed.
func (r *Reader) Case(ctx context.Context, id string, s Scope, withPersonal bool) (Case, error) {
	if !domain.IsReferralID(id) {
		return Case{}, domain.Errorf(domain.ENotFound, "no such referral")
	}
	where, args := scopeWhere(s, []any{id})
	// One query: the row and everything the detail shows (case_reader.go).
	rows, err := r.query(ctx, `SELECT `+caseColumns+`, `+detailAggregates(withPersonal)+` FROM cases WHERE id = $1`+where, args...)
	if err != nil {
		return Case{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Case{}, err
		}
		return Case{}, domain.Errorf(domain.ENotFound, "no such referral")
	}
	sc, err := scanCase(rows, true)
	if err != nil {
		return Case{}, err
	}
	if err := sc.decodeList(); err != nil {
		return Case{}, err
	}
	if err := sc.decodeDetail(); err != nil {
		return Case{}, err
	}
	return sc.c, nil
}

// CaseFilter filters and pages a case list.
type CaseFilter struct {
	Scope        Scope
	Stage        string
	AcademicYear int
	School       string
	After        string // cursor: the last id of the previous page
	Limit        int
	// Personal loads each case's sealed personal data.
	Personal bool
}

// invalidCursor is the one answer to a cursor the list cannot continue
// from: malformed, unknown, or a case outside the caller's scope. So a
// cursor tells nothing about cases the caller may not see (issue 7).
func invalidCursor() error {
	return domain.Invalid(map[string]string{"cursor": domain.MsgInvalidCursor})
}

// Cases lists cases in order of receipt.
func (r *Reader) Cases(ctx context.Context, f CaseFilter) ([]Case, error) {
	where, args := scopeWhere(f.Scope, nil)
	if f.Stage != "" {
		args = append(args, f.Stage)
		where += " AND stage = $" + strconv.Itoa(len(args))
	}
	if f.AcademicYear != 0 {
		args = append(args, f.AcademicYear)
		where += " AND academic_year = $" + strconv.Itoa(len(args))
	}
	if f.School != "" {
		args = append(args, f.School)
		where += " AND origin_school = $" + strconv.Itoa(len(args))
	}
	if f.After != "" {
		// The cursor is scoped like the list it pages.
		if !domain.IsReferralID(f.After) {
			return nil, invalidCursor()
		}
		cw, cargs := scopeWhere(f.Scope, []any{f.After})
		var at string
		err := r.db.GetContext(ctx, &at, `SELECT to_char(received_on, 'YYYY-MM-DD') FROM cases WHERE id = $1`+cw, cargs...)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, invalidCursor()
		}
		if err != nil {
			return nil, err
		}
		args = append(args, at, f.After)
		where += " AND (received_on, id) > ($" + strconv.Itoa(len(args)-1) + "::date, $" + strconv.Itoa(len(args)) + ")"
	}
	args = append(args, f.Limit)
	// One query: the page's rows with their checklists, suspension
	// procedures and personal data (case_reader.go), scanned by hand.
	rows, err := r.query(ctx, `SELECT `+caseColumns+`, `+listAggregates(f.Personal)+` FROM cases WHERE true`+where+
		` ORDER BY received_on, id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Case, 0, f.Limit)
	for rows.Next() {
		sc, err := scanCase(rows, false)
		if err != nil {
			return nil, err
		}
		if err := sc.decodeList(); err != nil {
			return nil, err
		}
		out = append(out, sc.c)
	}
	return out, rows.Err()
}

// Timeline returns a case's events in order.
func (r *Reader) Timeline(ctx context.Context, id string) ([]TimelineEntry, error) {
	out := []TimelineEntry{}
	err := r.db.SelectContext(ctx, &out, `
		SELECT position, version, event_id, event_type, summary, actor_role, actor_school, occurred_at, recorded_at
		FROM case_timeline WHERE case_id = $1 ORDER BY version`, id)
	return out, err
}

// VisitQueue lists the open home visits of a branch in order of receipt
// (R-MID-3): filed or re-submitted, not returned, report not finished, not
// yet reviewed.
func (r *Reader) VisitQueue(ctx context.Context, branch string) ([]Case, error) {
	// Only the columns the queue shows, scanned by hand: the queue holds
	// every open visit of the branch, and the full case row with sqlx's
	// reflection was most of its CPU time (pprof).
	rows, err := r.query(ctx, `SELECT id, origin_school, route, channel, grade, stage, received_on,
		visit_contacts, visit_visited, visit_interviewed, visit_report_on FROM cases
		WHERE branch = $1 AND stage = 'intake' AND visit_report_on IS NULL AND review_outcome IS NULL
		ORDER BY received_on, received_position`, branch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Case{}
	for rows.Next() {
		var c Case
		var channel sql.NullString
		var report sql.NullTime
		if err := rows.Scan(&c.ID, &c.OriginSchool, &c.Route, &channel, &c.Grade, &c.Stage, &c.ReceivedOn,
			&c.VisitContacts, &c.VisitVisited, &c.VisitInterviewed, &report); err != nil {
			return nil, err
		}
		c.Branch, c.Channel = branch, channel.String
		if report.Valid {
			c.VisitReportOn = &report.Time
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PersonCaseIDs lists the cases of the person with the given key at a
// branch (app.PersonCaseIndex): candidates the duplicate check of R-CAP-1
// verifies against the log.
func (r *Reader) PersonCaseIDs(ctx context.Context, branch, personKey string) ([]string, error) {
	out := []string{}
	err := r.db.SelectContext(ctx, &out, `SELECT id FROM cases WHERE person_key = $1 AND branch = $2 ORDER BY id`, personKey, branch)
	return out, err
}
