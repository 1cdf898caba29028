package projections

import (
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"cihui/internal/domain"
)

// The case detail and the case list each read in one query (issue 13):
// the case row with what hangs off it aggregated as JSON by PostgreSQL,
// scanned by hand. Under 2,000 reads/s the detail's ten round trips and
// sqlx's reflection per row were most of the cost, on PostgreSQL's side
// and the API's.

// caseScan is one row of caseSelect: the case's own columns, then the
// aggregates asked for.
type caseScan struct {
	c                                  Case
	docs                               sql.NullString
	notes                              []byte
	susp, letters, visits, adapt, slog []byte
	episodes, grounds                  []byte
}

// Aggregates of a case row, as JSON (null when there is none). Dates are
// written YYYY-MM-DD, sealed values as stored.
const (
	// The checklist as text, one item a field (item, submitted, pages,
	// issued_on, checked, conforms, submitted_on, with_dropout_file;
	// empty for NULL: concat_ws would skip it) and items apart by ';', parsed by hand
	// (parseDocuments): decoding it as JSON was a third of the list's CPU
	// (pprof). The sealed notes, few, come apart as JSON.
	aggDocuments = `(SELECT string_agg(concat_ws(',', d.item, d.submitted::int, coalesce(d.pages::text, ''),
		coalesce(to_char(d.issued_on, 'YYYY-MM-DD'), ''), d.checked::int, coalesce(d.conforms::int::text, ''),
		coalesce(to_char(d.submitted_on, 'YYYY-MM-DD'), ''), d.with_dropout_file::int), ';' ORDER BY d.item)
		FROM case_documents d WHERE d.case_id = cases.id),
		(SELECT json_agg(json_build_array(d.item, d.note)) FROM case_documents d WHERE d.case_id = cases.id AND d.note IS NOT NULL)`
	aggSuspension = `(SELECT json_build_object('status', s.status, 'grounds', s.grounds, 'source', s.source,
		'opened_on', to_char(s.opened_on, 'YYYY-MM-DD'), 'home_visit_on', to_char(s.home_visit_on, 'YYYY-MM-DD'),
		'school_visit_on', to_char(s.school_visit_on, 'YYYY-MM-DD'), 'report_on', to_char(s.report_on, 'YYYY-MM-DD'),
		'appealed', s.appealed, 'attendees', s.attendees, 'meeting_id', s.meeting_id,
		'decided_on', to_char(s.decided_on, 'YYYY-MM-DD'), 'destination', s.destination)
		FROM case_suspensions s WHERE s.case_id = cases.id)`
	aggPersonal = `(SELECT p.personal FROM case_personal p WHERE p.case_id = cases.id)`
	aggLetters  = `(SELECT json_agg(json_build_object('position', l.position, 'to_school', l.to_school, 'student_alias', l.student_alias,
		'subject', l.subject, 'outcome', l.outcome, 'next_step', l.next_step, 'meeting', l.meeting, 'issued_on', to_char(l.issued_on, 'YYYY-MM-DD'))
		ORDER BY l.position) FROM letters l WHERE l.case_id = cases.id)`
	aggVisits = `(SELECT json_agg(json_build_object('k', v.kind, 'on', to_char(v.on_date, 'YYYY-MM-DD'), 'n', v.note) ORDER BY v.position)
		FROM case_visits v WHERE v.case_id = cases.id)`
	aggAdaptation = `(SELECT json_agg(json_build_object('k', m.outcome, 'on', to_char(m.on_date, 'YYYY-MM-DD'), 'n', m.notes) ORDER BY m.position)
		FROM case_adaptation_meetings m WHERE m.case_id = cases.id)`
	aggSuspensionLog = `(SELECT json_agg(json_build_object('k', g.kind, 'on', to_char(g.on_date, 'YYYY-MM-DD'), 'n', g.note) ORDER BY g.position)
		FROM case_suspension_log g WHERE g.case_id = cases.id)`
	aggEpisodes = `(SELECT json_agg(json_build_object('episode', e.episode, 'first_day_absent', to_char(e.first_day_absent, 'YYYY-MM-DD'),
		'whereabouts', e.whereabouts, 'reason', e.reason, 'sub_reason', e.sub_reason, 'reported_on', to_char(e.reported_on, 'YYYY-MM-DD'),
		'found_on', to_char(e.found_on, 'YYYY-MM-DD'), 'returned_on', to_char(e.returned_on, 'YYYY-MM-DD'),
		'closed_on', to_char(e.closed_on, 'YYYY-MM-DD'), 'outcome', e.outcome, 'follow_ups', e.follow_ups,
		'last_follow_up', to_char(e.last_follow_up, 'YYYY-MM-DD')) ORDER BY e.episode)
		FROM dropout_episodes e WHERE e.case_id = cases.id)`
	aggGrounds = `(SELECT json_agg(json_build_object('ground', g.ground, 'on', to_char(g.on_date, 'YYYY-MM-DD')) ORDER BY g.position)
		FROM suspension_grounds g WHERE g.case_id = cases.id)`
)

// listAggregates are what a list row carries: its checklist, its
// suspension procedure and, if asked for, its sealed personal data.
func listAggregates(personal bool) string {
	p := `NULL::json`
	if personal {
		p = aggPersonal
	}
	return aggDocuments + `, ` + aggSuspension + `, ` + p
}

// detailAggregates are what a case detail carries besides.
func detailAggregates(personal bool) string {
	return listAggregates(personal) + `, ` + aggLetters + `, ` + aggVisits + `, ` + aggAdaptation + `, ` + aggSuspensionLog + `, ` +
		aggEpisodes + `, ` + aggGrounds
}

// scanCase scans a row of caseColumns followed by the list's aggregates
// and, with detail, the detail's.
func scanCase(rows interface{ Scan(...any) error }, detail bool) (caseScan, error) {
	var s caseScan
	c := &s.c
	var channel sql.NullString
	dest := []any{&c.ID, &c.Branch, &c.OriginSchool, &c.AcademicYear, &c.Route, &channel, &c.Grade, &c.Sex, &c.Grounds, &c.Stage,
		&c.ReceivedOn, &c.Version, &c.Position, &c.OpenedAt, &c.UpdatedAt, &c.DropoutRecord, &c.ReturnedMissing, &c.VisitContacts,
		&c.VisitVisited, &c.VisitInterviewed, &c.VisitReportOn, &c.ReviewOutcome, &c.ReviewedOn, &c.ApplicationPosition, &c.Appealed,
		&c.Attendees, &c.AdmissionMeeting, &c.ReportBy, &c.HealthExaminedOn, &c.Infectious, &c.HealthClearedOn, &c.EnrolledOn, &c.Class, &c.Registrations,
		&c.ProjectionError, &c.ResubmitBy, &c.LapsedOn, &c.AcceptedOn, &c.OwedItems, &c.AcceptanceReason,
		&c.EndState, &c.EndReason, &c.EndedOn,
		&c.FamilyBackground, &c.Identity,
		&c.PossibleDuplicates,
		&s.docs, &s.notes, &s.susp, &c.Personal}
	if detail {
		dest = append(dest, &s.letters, &s.visits, &s.adapt, &s.slog, &s.episodes, &s.grounds)
	}
	if err := rows.Scan(dest...); err != nil {
		return s, err
	}
	c.Channel = channel.String
	return s, nil
}

// sealedOrNil is a stored sealed value, nil for none.
func sealedOrNil(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// ymd parses a YYYY-MM-DD date written by to_char as the driver would
// scan a date column (midnight UTC).
func ymd(s string) time.Time {
	t, _ := time.Parse(time.DateOnly, s)
	return t
}

func ymdPtr(s *string) *time.Time {
	if s == nil {
		return nil
	}
	t := ymd(*s)
	return &t
}

// decodeList fills the case's checklist and suspension procedure from
// their aggregates.
func (s *caseScan) decodeList() error {
	if s.docs.Valid {
		docs, err := parseDocuments(s.docs.String)
		if err != nil {
			return err
		}
		if s.notes != nil {
			var notes [][2]json.RawMessage
			if err := json.Unmarshal(s.notes, &notes); err != nil {
				return err
			}
			for _, n := range notes {
				item, err := strconv.Atoi(string(n[0]))
				if err != nil {
					return err
				}
				for i := range docs {
					if docs[i].Item == item {
						docs[i].SealedNote = sealedOrNil(n[1])
					}
				}
			}
		}
		s.c.Documents = docs
	}
	if s.susp != nil {
		var r struct {
			SuspensionView
			Opened      string  `json:"opened_on"`
			HomeVisit   *string `json:"home_visit_on"`
			SchoolVisit *string `json:"school_visit_on"`
			Report      *string `json:"report_on"`
			Decided     *string `json:"decided_on"`
		}
		if err := json.Unmarshal(s.susp, &r); err != nil {
			return err
		}
		v := r.SuspensionView
		v.CaseID = s.c.ID
		v.Opened, v.HomeVisit, v.SchoolVisit, v.Report, v.Decided = r.Opened, r.HomeVisit, r.SchoolVisit, r.Report, r.Decided
		v.OpenedOn, v.HomeVisitOn, v.SchoolVisitOn, v.ReportOn, v.DecidedOn = ymd(r.Opened), ymdPtr(r.HomeVisit), ymdPtr(r.SchoolVisit), ymdPtr(r.Report), ymdPtr(r.Decided)
		if v.Attendees == nil {
			v.Attendees = []string{}
		}
		s.c.Suspension = &v
	}
	return nil
}

// noted is a dated entry with a sealed note, as the aggregates write it.
type noted struct {
	Kind string          `json:"k"`
	On   string          `json:"on"`
	Note json.RawMessage `json:"n"`
}

// decodeDetail fills what a case detail shows besides the list's.
func (s *caseScan) decodeDetail() error {
	c := &s.c
	c.Letters = nil
	if s.letters != nil {
		if err := json.Unmarshal(s.letters, &c.Letters); err != nil {
			return err
		}
	}
	var entries []noted
	decode := func(raw []byte) error {
		entries = nil // fresh: the notes must not share a buffer
		if raw == nil {
			return nil
		}
		return json.Unmarshal(raw, &entries)
	}
	if err := decode(s.visits); err != nil {
		return err
	}
	c.Visits = nil
	for _, e := range entries {
		c.Visits = append(c.Visits, VisitEntry{Kind: e.Kind, On: e.On, SealedNote: sealedOrNil(e.Note)})
	}
	if err := decode(s.adapt); err != nil {
		return err
	}
	c.AdaptationMeetings = make([]AdaptationMeeting, len(entries))
	for i, e := range entries {
		c.AdaptationMeetings[i] = AdaptationMeeting{On: e.On, Outcome: e.Kind, SealedNotes: sealedOrNil(e.Note)}
	}
	if err := decode(s.slog); err != nil {
		return err
	}
	c.SuspensionLog = make([]SuspensionLogEntry, len(entries))
	for i, e := range entries {
		c.SuspensionLog[i] = SuspensionLogEntry{Kind: e.Kind, On: e.On, SealedNote: sealedOrNil(e.Note)}
	}
	var eps []struct {
		Episode
		First        string  `json:"first_day_absent"`
		Reported     *string `json:"reported_on"`
		Found        *string `json:"found_on"`
		Returned     *string `json:"returned_on"`
		Closed       *string `json:"closed_on"`
		LastFollowUp *string `json:"last_follow_up"`
	}
	if s.episodes != nil {
		if err := json.Unmarshal(s.episodes, &eps); err != nil {
			return err
		}
	}
	c.dropouts = &caseDropouts{episodes: make([]Episode, len(eps)), grounds: []Ground{}}
	for i, e := range eps {
		ep := e.Episode
		ep.CaseID = c.ID
		ep.FirstDayAbsent, ep.ReportedOn, ep.FoundOn, ep.ReturnedOn, ep.ClosedOn, ep.LastFollowUp =
			ymd(e.First), ymdPtr(e.Reported), ymdPtr(e.Found), ymdPtr(e.Returned), ymdPtr(e.Closed), ymdPtr(e.LastFollowUp)
		c.dropouts.episodes[i] = ep
	}
	if s.grounds != nil {
		var gs []struct {
			Ground int    `json:"ground"`
			On     string `json:"on"`
		}
		if err := json.Unmarshal(s.grounds, &gs); err != nil {
			return err
		}
		for _, g := range gs {
			c.dropouts.grounds = append(c.dropouts.grounds, Ground{CaseID: c.ID, Ground: g.Ground, On: ymd(g.On)})
		}
	}
	return nil
}

// caseDropouts are a case's dropout episodes and recorded grounds, read
// with its detail.
type caseDropouts struct {
	episodes []Episode
	grounds  []Ground
}

// CaseDropouts returns the dropout episodes and grounds read with the
// case's detail, if it was read with them (Reader.Case).
func (c Case) CaseDropouts() ([]Episode, []Ground, bool) {
	if c.dropouts == nil {
		return nil, nil, false
	}
	return c.dropouts.episodes, c.dropouts.grounds, true
}

// parseDocuments parses the checklist as aggDocuments writes it.
func parseDocuments(s string) ([]Document, error) {
	out := make([]Document, 0, strings.Count(s, ";")+1)
	bad := func() ([]Document, error) { return nil, errors.New("projections: malformed checklist aggregate") }
	for item := range strings.SplitSeq(s, ";") {
		var f [8]string
		n := 0
		for v := range strings.SplitSeq(item, ",") {
			if n == len(f) {
				return bad()
			}
			f[n] = v
			n++
		}
		if n != len(f) {
			return bad()
		}
		var d Document
		var err error
		if d.Item, err = strconv.Atoi(f[0]); err != nil {
			return bad()
		}
		d.Name = domain.ChecklistItemName(d.Item)
		d.Submitted, d.Checked, d.WithDropoutFile = f[1] == "1", f[4] == "1", f[7] == "1"
		if f[2] != "" {
			p, err := strconv.Atoi(f[2])
			if err != nil {
				return bad()
			}
			d.Pages = &p
		}
		if f[3] != "" {
			v := f[3]
			d.IssuedOn = &v
		}
		if f[5] != "" {
			v := f[5] == "1"
			d.Conforms = &v
		}
		if f[6] != "" {
			v := f[6]
			d.SubmittedOn = &v
		}
		out = append(out, d)
	}
	return out, nil
}
