package projections

import (
	"context"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// applySuspension applies the events of the 中止就讀 procedure (R-SUS-2..4)
// and the adaptation meetings (R-ENR-4) to case_suspensions,
// case_suspension_log, case_adaptation_meetings and the case's stage. Free
// text is copied sealed, as in the event.
func applySuspension(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, append([]any{id, env.Position}, args...)...)
		return err
	}
	switch e := env.Payload.(type) {
	case events.AdaptationMeetingHeld:
		return exec(`INSERT INTO case_adaptation_meetings (case_id, position, on_date, outcome, notes) VALUES ($1,$2,$3,$4,$5)`,
			e.On.String(), e.Outcome, sealedJSON(e.Notes))
	case events.SuspensionOpened:
		grounds := make([]int64, len(e.Grounds))
		for i, g := range e.Grounds {
			grounds[i] = int64(g)
		}
		if err := exec(`
			INSERT INTO case_suspensions (case_id, position, status, grounds, source, opened_on) VALUES ($1,$2,'open',$3,$4,$5)
			ON CONFLICT (case_id) DO UPDATE SET position = $2, status = 'open', grounds = $3, source = $4, opened_on = $5,
				home_visit_on = NULL, school_visit_on = NULL, report_on = NULL, appealed = false, attendees = NULL,
				meeting_id = NULL, decided_on = NULL, destination = NULL`,
			pq.Array(grounds), e.Source, e.On.String()); err != nil {
			return err
		}
		return suspensionLog(ctx, tx, env, "opened", e.On.String(), e.Note)
	case events.SuspensionVisitLogged:
		col := "home_visit_on"
		if e.Kind != "home" {
			col = "school_visit_on"
		}
		if err := exec(`UPDATE case_suspensions SET `+col+` = $3, position = $2 WHERE case_id = $1`, e.On.String()); err != nil {
			return err
		}
		return suspensionLog(ctx, tx, env, e.Kind, e.On.String(), e.Note)
	case events.SuspensionReportSent:
		if err := exec(`UPDATE case_suspensions SET status = 'reported', report_on = $3, position = $2 WHERE case_id = $1`, e.On.String()); err != nil {
			return err
		}
		if err := suspensionLog(ctx, tx, env, "report", e.On.String(), e.Report); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.Suspended:
		if err := exec(`UPDATE case_suspensions SET status = 'suspended', meeting_id = $3, decided_on = $4, destination = $5, position = $2
			WHERE case_id = $1`, e.MeetingID, e.On.String(), e.Destination); err != nil {
			return err
		}
		// The end state and its reason, with the destination (R-SUS-4).
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET stage = $2, end_state = $3, end_reason = $4, ended_on = $5 WHERE id = $1`,
			id, domain.StageSuspended, domain.EndingSuspended, domain.EndReason(domain.EndingSuspended)+"; destination: "+e.Destination, e.On.String()); err != nil {
			return err
		}
		if err := resolutionOutcome(ctx, tx, e.MeetingID, id, string(domain.StageSuspended)); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.SuspensionDeclined:
		if err := exec(`UPDATE case_suspensions SET status = 'continued', meeting_id = $3, decided_on = $4, position = $2
			WHERE case_id = $1`, e.MeetingID, e.On.String()); err != nil {
			return err
		}
		if err := resolutionOutcome(ctx, tx, e.MeetingID, id, "continued"); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.AppealFiled:
		// R-SUS-3: the stakeholders of a suspension case on the docket.
		return exec(`UPDATE case_suspensions SET appealed = true, attendees = $3, position = $2 WHERE case_id = $1 AND status = 'reported'`,
			pq.Array(e.Attendees))
	}
	return nil
}

// suspensionLog records a step of the procedure with its sealed note.
func suspensionLog(ctx context.Context, tx *sqlx.Tx, env events.Envelope, kind, on string, note events.Sealed) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO case_suspension_log (position, case_id, kind, on_date, note) VALUES ($1,$2,$3,$4,$5)`,
		env.Position, env.AggregateID, kind, on, sealedJSON(note))
	return err
}

func resolutionOutcome(ctx context.Context, tx *sqlx.Tx, meeting, caseID, outcome string) error {
	_, err := tx.ExecContext(ctx, `UPDATE meeting_resolutions SET outcome = $3 WHERE meeting_id = $1 AND case_id = $2`, meeting, caseID, outcome)
	return err
}

// SuspensionView is a case's latest 中止就讀 procedure as the API shows
// it: its grounds and steps, and once decided the meeting, the date and,
// for a suspension, the destination (R-SUS-4).
type SuspensionView struct {
	CaseID        string         `db:"case_id" json:"-"`
	Status        string         `db:"status" json:"status"`
	Grounds       pq.Int64Array  `db:"grounds" json:"grounds"`
	Source        string         `db:"source" json:"source"`
	OpenedOn      time.Time      `db:"opened_on" json:"-"`
	HomeVisitOn   *time.Time     `db:"home_visit_on" json:"-"`
	SchoolVisitOn *time.Time     `db:"school_visit_on" json:"-"`
	ReportOn      *time.Time     `db:"report_on" json:"-"`
	Appealed      bool           `db:"appealed" json:"appealed"`
	Attendees     pq.StringArray `db:"attendees" json:"attendees"`
	MeetingID     *string        `db:"meeting_id" json:"meeting_id"`
	DecidedOn     *time.Time     `db:"decided_on" json:"-"`
	Destination   *string        `db:"destination" json:"destination"`
	// The dates as the API writes them (YYYY-MM-DD).
	Opened      string  `db:"-" json:"opened_on"`
	HomeVisit   *string `db:"-" json:"home_visit_on"`
	SchoolVisit *string `db:"-" json:"school_visit_on"`
	Report      *string `db:"-" json:"report_on"`
	Decided     *string `db:"-" json:"decided_on"`
}

// AdaptationMeeting is one adaptation meeting of a case (R-ENR-4).
// SealedNotes are the assessment notes as stored; the API opens them into
// Notes for social workers.
type AdaptationMeeting struct {
	On          string  `db:"on_date" json:"on"`
	Outcome     string  `db:"outcome" json:"outcome"`
	SealedNotes []byte  `db:"notes" json:"-"`
	Notes       *string `db:"-" json:"notes,omitempty"`
}

// SuspensionLogEntry is one step of the procedure (opened, home,
// origin_school, report) with its sealed note, opened into Note for social
// workers.
type SuspensionLogEntry struct {
	Kind       string  `db:"kind" json:"kind"`
	On         string  `db:"on_date" json:"on"`
	SealedNote []byte  `db:"note" json:"-"`
	Note       *string `db:"-" json:"note,omitempty"`
}

// suspensionOnDocket selects the suspension cases of the next meeting's
// docket (R-SUS-3, R-MTG-2): enrolled, evaluation report sent.
const suspensionOnDocket = `coalesce(c.stage = 'enrolled' AND s.status = 'reported', false)`

// suspensionDocketColumns are the docket's columns that differ for a
// suspension case: its stakeholders are those of the suspension review,
// not of the admission (R-SUS-3). Both docket queries join case_suspensions
// as s and meeting_resolutions as mr.
const suspensionDocketColumns = `
	(` + suspensionOnDocket + ` OR coalesce(mr.resolution IN ('suspend', 'continue'), false)) AS suspension_case,
	CASE WHEN ` + suspensionOnDocket + ` OR coalesce(mr.resolution IN ('suspend', 'continue'), false)
	     THEN coalesce(s.appealed, false) ELSE c.appealed END AS appealed,
	CASE WHEN ` + suspensionOnDocket + ` OR coalesce(mr.resolution IN ('suspend', 'continue'), false)
	     THEN s.attendees ELSE c.attendees END AS attendees`

// suspensionSummary says what an event of the procedure means, without
// personal data (the notes and the report are sealed).
func suspensionSummary(env events.Envelope) (string, bool) {
	switch e := env.Payload.(type) {
	case events.AdaptationMeetingHeld:
		if e.Outcome == domain.AdaptationProposeEnd {
			return "召開就讀輔導會議（" + e.On.ROC() + "）：建議中止就讀，啟動中止就讀程序（R-ENR-4）", true
		}
		return "召開就讀輔導會議（" + e.On.ROC() + "）：繼續就讀（R-ENR-4）", true
	case events.SuspensionOpened:
		return "啟動中止就讀程序（" + e.On.ROC() + "，R-SUS-1 事由 " + groundList(e.Grounds) + "）", true
	case events.SuspensionVisitLogged:
		if e.Kind == "home" {
			return "中止就讀程序：家庭訪視（" + e.On.ROC() + "，R-SUS-2）", true
		}
		return "中止就讀程序：原學籍學校訪視（" + e.On.ROC() + "，R-SUS-2）", true
	case events.SuspensionReportSent:
		return "中止就讀評估報告函送原學籍學校（" + e.On.ROC() + "，R-SUS-2），提複審會議審議", true
	case events.Suspended:
		return "複審會議決議中止就讀（" + e.On.ROC() + "），去向：" + e.Destination + "（R-SUS-4）", true
	case events.SuspensionDeclined:
		return "複審會議決議繼續就讀（" + e.On.ROC() + "）", true
	}
	return "", false
}

func groundList(gs []int) string {
	out := ""
	for i, g := range gs {
		if i > 0 {
			out += "、"
		}
		out += "(" + strconv.Itoa(g) + ")"
	}
	return out
}
