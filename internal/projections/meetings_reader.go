package projections

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lib/pq"

	"cihui/internal/domain"
)

// MeetingRow is a second-review meeting.
type MeetingRow struct {
	ID           string     `db:"id" json:"id"`
	Branch       string     `db:"branch" json:"branch"`
	AcademicYear int        `db:"academic_year" json:"academic_year"`
	Kind         string     `db:"kind" json:"kind"`
	Date         time.Time  `db:"date" json:"-"`
	Title        string     `db:"title" json:"title"`
	Status       string     `db:"status" json:"status"`
	ClosedOn     *time.Time `db:"closed_on" json:"-"`
	Version      uint64     `db:"version" json:"version"`
	Position     uint64     `db:"position" json:"position"`
}

const meetingColumns = `id, branch, academic_year, kind, date, title, status, closed_on, version, position`

// Meetings lists a branch's meetings by date, optionally of one year.
func (r *Reader) Meetings(ctx context.Context, branch string, year int) ([]MeetingRow, error) {
	out := []MeetingRow{}
	err := r.db.SelectContext(ctx, &out, `SELECT `+meetingColumns+` FROM meetings
		WHERE branch = $1 AND ($2 = 0 OR academic_year = $2) ORDER BY date, id`, branch, year)
	return out, err
}

// Meeting returns one meeting.
func (r *Reader) Meeting(ctx context.Context, branch, id string) (MeetingRow, error) {
	var m MeetingRow
	err := r.db.GetContext(ctx, &m, `SELECT `+meetingColumns+` FROM meetings WHERE branch = $1 AND id = $2`, branch, id)
	if errors.Is(err, sql.ErrNoRows) {
		return m, domain.Errorf(domain.ENotFound, "no such meeting")
	}
	return m, err
}

// DocketEntry is one case on a meeting's docket (R-MTG-2).
type DocketEntry struct {
	CaseID              string         `db:"id" json:"case_id"`
	Alias               string         `db:"-" json:"student_alias"`
	OriginSchool        string         `db:"origin_school" json:"origin_school"`
	Route               string         `db:"route" json:"route"`
	Channel             string         `db:"channel" json:"channel,omitempty"`
	Grade               int            `db:"grade" json:"grade"`
	Stage               string         `db:"stage" json:"stage"`
	List                string         `db:"-" json:"list"` // recommended | to_discuss | appealed | not_passed
	ReceivedOn          time.Time      `db:"received_on" json:"-"`
	ApplicationPosition uint64         `db:"application_position" json:"application_position"`
	Appealed            bool           `db:"appealed" json:"appealed"`
	Attendees           pq.StringArray `db:"attendees" json:"attendees"`
	Resolution          *string        `db:"resolution" json:"resolution"`
	Outcome             *string        `db:"outcome" json:"outcome"`
	// Suspension: a 中止就讀 case (R-SUS-3), listed as "suspension" with the
	// stakeholders who asked to attend its review; Destination is a
	// suspend resolution's (R-SUS-4).
	Suspension  bool    `db:"suspension_case" json:"-"`
	Destination *string `db:"destination" json:"destination,omitempty"`
}

// docketColumns are what a docket shows of each case.
const docketColumns = `SELECT c.id, c.origin_school, c.route, c.channel, c.grade, c.stage, c.received_on,
	c.application_position, mr.resolution, mr.outcome, mr.destination,
	` + suspensionDocketColumns

// Docket returns a meeting's docket, ordered by application time. A closed
// meeting keeps the cases it resolved; the next open or scheduled meeting
// gets every pending case automatically (recommended, to discuss, and not
// passed, appealed or not: R-MTG-2); later meetings have none yet.
func (r *Reader) Docket(ctx context.Context, m MeetingRow) (entries []DocketEntry, isNext bool, err error) {
	entries = []DocketEntry{}
	if m.Status == "closed" {
		err = r.db.SelectContext(ctx, &entries, docketColumns+`
			FROM meeting_resolutions mr JOIN cases c ON c.id = mr.case_id
			LEFT JOIN case_suspensions s ON s.case_id = c.id
			WHERE mr.meeting_id = $1 ORDER BY c.application_position`, m.ID)
		return label(entries), false, err
	}
	var next string
	err = r.db.GetContext(ctx, &next, `SELECT id FROM meetings WHERE branch = $1 AND status <> 'closed' ORDER BY status = 'open' DESC, date, id LIMIT 1`, m.Branch)
	if err != nil || next != m.ID {
		return entries, false, err
	}
	err = r.db.SelectContext(ctx, &entries, docketColumns+`
		FROM cases c LEFT JOIN meeting_resolutions mr ON mr.case_id = c.id AND mr.meeting_id = $2
		LEFT JOIN case_suspensions s ON s.case_id = c.id
		WHERE c.branch = $1 AND (c.stage IN ('recommended', 'to_discuss', 'not_eligible') OR `+suspensionOnDocket+`)
		ORDER BY c.application_position`, m.Branch, m.ID)
	return label(entries), true, err
}

func label(entries []DocketEntry) []DocketEntry {
	for i := range entries {
		e := &entries[i]
		e.Alias = domain.Alias(e.CaseID)
		switch {
		case e.Suspension:
			e.List = "suspension"
		case e.Stage == string(domain.StageRecommended):
			e.List = "recommended"
		case e.Stage == string(domain.StageToDiscuss):
			e.List = "to_discuss"
		case e.Stage == string(domain.StageNotEligible) && e.Appealed:
			e.List = "appealed"
		case e.Stage == string(domain.StageNotEligible):
			e.List = "not_passed"
		default:
			e.List = "decided"
		}
		if e.Attendees == nil {
			e.Attendees = pq.StringArray{}
		}
	}
	return entries
}

// CaseBrief is what lists show of a case.
type CaseBrief struct {
	ID                  string `db:"id" json:"case_id"`
	OriginSchool        string `db:"origin_school" json:"origin_school"`
	Stage               string `db:"stage" json:"stage"`
	AcademicYear        int    `db:"academic_year" json:"academic_year"`
	ApplicationPosition uint64 `db:"application_position" json:"application_position"`
	Alias               string `db:"-" json:"student_alias"`
}

// Briefs returns the given cases by id.
func (r *Reader) Briefs(ctx context.Context, ids []string) (map[string]CaseBrief, error) {
	var rows []CaseBrief
	if err := r.db.SelectContext(ctx, &rows, `SELECT id, origin_school, stage, academic_year, application_position FROM cases WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, err
	}
	out := make(map[string]CaseBrief, len(rows))
	for _, c := range rows {
		c.Alias = domain.Alias(c.ID)
		out[c.ID] = c
	}
	return out, nil
}

// FilingEntry is one admitted student on the list filed with the bureau
// (R-SOY-7).
type FilingEntry struct {
	CaseID       string     `db:"id" json:"case_id"`
	Alias        string     `db:"-" json:"student_alias"`
	OriginSchool string     `db:"origin_school" json:"origin_school"`
	AcademicYear int        `db:"academic_year" json:"academic_year"`
	Route        string     `db:"route" json:"route"`
	Stage        string     `db:"stage" json:"stage"`
	Meeting      *string    `db:"admission_meeting" json:"meeting_id"`
	ReportBy     *time.Time `db:"report_by" json:"-"`
	Class        *string    `db:"class" json:"class"`
}

// Admitted lists admitted and enrolled students of a year, in application
// order.
func (r *Reader) Admitted(ctx context.Context, branch string, year int) ([]FilingEntry, error) {
	out := []FilingEntry{}
	err := r.db.SelectContext(ctx, &out, `
		SELECT id, origin_school, academic_year, route, stage, admission_meeting, report_by, class FROM cases
		WHERE branch = $1 AND ($2 = 0 OR academic_year = $2) AND stage IN ('admitted', 'enrolled')
		ORDER BY application_position`, branch, year)
	for i := range out {
		out[i].Alias = domain.Alias(out[i].CaseID)
	}
	return out, err
}
