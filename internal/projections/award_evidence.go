package projections

import (
	"context"

	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// EvidenceItem is one count of the award evidence pack with the ids that
// make it up, so a reviewer can check it.
type EvidenceItem struct {
	Code       string   `json:"code"`
	Label      string   `json:"label"`
	Count      int      `json:"count"`
	CaseIDs    []string `json:"case_ids,omitempty"`
	MeetingIDs []string `json:"meeting_ids,omitempty"`
}

// CriterionEvidence is the evidence for one criterion of R-AWD-1.
type CriterionEvidence struct {
	domain.AwardCriterion
	Items []EvidenceItem `json:"items"`
	// Rates are the statistics table's return rates (R-STAT-1 K, L, M),
	// for the return criterion.
	Rates map[string]domain.StatRate `json:"rates,omitempty"`
	// NoEvidence says why a criterion has nothing drawn from the events.
	NoEvidence string `json:"no_evidence,omitempty"`
}

// AwardEvidence is the evidence pack of a branch for an academic year.
type AwardEvidence struct {
	Branch       string              `json:"branch"`
	AcademicYear int                 `json:"academic_year"`
	From         calendar.Date       `json:"from"`
	To           calendar.Date       `json:"to"`
	AsOf         calendar.Date       `json:"as_of"`
	Criteria     []CriterionEvidence `json:"criteria"`
}

// NoEvidenceText is what a criterion with nothing in the events says.
const NoEvidenceText = "nothing in the event log speaks to this criterion: the reviewer judges it from the nominee's own documents"

// idCount is a count with the distinct ids behind it.
type idCount struct {
	N   int            `db:"n"`
	IDs pq.StringArray `db:"ids"`
}

// AwardEvidence draws the evidence pack of R-AWD-1 from the read models:
// the period is the academic year Aug 1 – Jul 31, cut at asOf.
func (r *Reader) AwardEvidence(ctx context.Context, branch string, year int, asOf calendar.Date) (AwardEvidence, error) {
	from, to := domain.AcademicYearPeriod(year)
	last := to
	if asOf.Before(to) {
		last = asOf
	}
	out := AwardEvidence{Branch: branch, AcademicYear: year, From: from, To: to, AsOf: asOf}
	f, l := from.String(), last.String()
	count := func(q string, args ...any) (idCount, error) {
		var c idCount
		err := r.db.GetContext(ctx, &c, q, append([]any{branch, f, l}, args...)...)
		if c.IDs == nil {
			c.IDs = pq.StringArray{}
		}
		return c, err
	}
	item := func(code, label string, c idCount) EvidenceItem {
		return EvidenceItem{Code: code, Label: label, Count: c.N, CaseIDs: c.IDs}
	}
	var err error
	q := func(sql string, args ...any) idCount {
		if err != nil {
			return idCount{}
		}
		var c idCount
		c, err = count(sql, args...)
		return c
	}

	meetings := q(`SELECT count(*) AS n, coalesce(array_agg(id ORDER BY date, id), '{}') AS ids FROM meetings
		WHERE branch = $1 AND status = 'closed' AND date BETWEEN $2 AND $3`)
	notices := q(`SELECT count(*) AS n, coalesce(array_agg(DISTINCT case_id), '{}') AS ids FROM duties
		WHERE branch = $1 AND kind = $4 AND done_on BETWEEN $2 AND $3`, domain.DutyNetworkNotice)
	referred := q(`SELECT count(*) AS n, coalesce(array_agg(id ORDER BY id), '{}') AS ids FROM cases
		WHERE branch = $1 AND (opened_at AT TIME ZONE 'Asia/Taipei')::date BETWEEN $2 AND $3`)
	withRecord := q(`SELECT count(*) AS n, coalesce(array_agg(id ORDER BY id), '{}') AS ids FROM cases
		WHERE branch = $1 AND (opened_at AT TIME ZONE 'Asia/Taipei')::date BETWEEN $2 AND $3 AND dropout_record`)
	searches := q(`SELECT count(*) AS n, coalesce(array_agg(DISTINCT case_id), '{}') AS ids FROM award_facts
		WHERE branch = $1 AND kind = 'search' AND on_date BETWEEN $2 AND $3`)
	found := q(`SELECT count(DISTINCT d.case_id) AS n, coalesce(array_agg(DISTINCT d.case_id), '{}') AS ids
		FROM dropout_episodes d JOIN cases c ON c.id = d.case_id
		WHERE c.branch = $1 AND d.found_on BETWEEN $2 AND $3`)
	returned := q(`SELECT count(*) AS n, coalesce(array_agg(DISTINCT d.case_id), '{}') AS ids
		FROM dropout_episodes d JOIN cases c ON c.id = d.case_id
		WHERE c.branch = $1 AND d.returned_on BETWEEN $2 AND $3`)
	notes := q(`SELECT count(*) AS n, coalesce(array_agg(DISTINCT case_id), '{}') AS ids FROM award_facts
		WHERE branch = $1 AND kind IN ('follow_up', 'counselling') AND on_date BETWEEN $2 AND $3`)
	visits := q(`SELECT count(DISTINCT position) AS n, coalesce(array_agg(DISTINCT case_id) FILTER (WHERE case_id <> ''), '{}') AS ids
		FROM award_facts WHERE branch = $1 AND kind = $4 AND on_date BETWEEN $2 AND $3`, domain.DutyCoCounselling)
	if err != nil {
		return out, err
	}
	rates, err := r.returnRates(ctx, branch, domain.NewStatPeriod(year, asOf))
	if err != nil {
		return out, err
	}

	meetingItem := EvidenceItem{Code: "meetings_held", Label: "召開複審會議（已結束）", Count: meetings.N, MeetingIDs: meetings.IDs}
	if meetingItem.MeetingIDs == nil {
		meetingItem.MeetingIDs = []string{}
	}
	for _, c := range domain.AwardCriteria {
		ev := CriterionEvidence{AwardCriterion: c, Items: []EvidenceItem{}}
		switch c.Code {
		case domain.CriterionOrganisation:
			ev.Items = append(ev.Items, meetingItem, item("network_notices", "通知網絡單位（次數、個案）", notices))
		case domain.CriterionPrevention:
			ev.Items = append(ev.Items, item("referrals", "轉介高關懷個案", referred), item("referrals_with_dropout_record", "其中有中輟紀錄者", withRecord))
		case domain.CriterionSearch:
			ev.Items = append(ev.Items, item("searches", "協尋紀錄（次數、個案）", searches), item("found", "尋獲學生", found))
		case domain.CriterionReturn:
			ev.Items = append(ev.Items, item("returns", "復學（次數、個案）", returned))
			ev.Rates = rates
		case domain.CriterionFollowUp:
			ev.Items = append(ev.Items, item("follow_up_notes", "追蹤輔導紀錄（次數、個案）", notes), item("co_counselling_visits", "原學籍學校協同輔導訪視（次數、個案）", visits))
		default:
			ev.NoEvidence = NoEvidenceText
		}
		out.Criteria = append(out.Criteria, ev)
	}
	return out, nil
}

// returnRates computes the table's return rates K, L and M (R-STAT-1)
// with domain.DropoutStatistics from the branch's episodes, a student
// being a person (their cases share the person key).
func (r *Reader) returnRates(ctx context.Context, branch string, p domain.StatPeriod) (map[string]domain.StatRate, error) {
	// The same students as the dropout statistics (statistics.go), so the
	// rates here are the table's K, L and M.
	students, err := r.StatStudents(ctx, branch)
	if err != nil {
		return nil, err
	}
	t := domain.DropoutStatistics(p, students)
	out := map[string]domain.StatRate{}
	for _, k := range []string{"K", "L", "M"} {
		out[k] = t.Total.Rates[k]
	}
	return out, nil
}
