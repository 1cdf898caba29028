package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// applyDropout applies the dropout-episode and suspension-ground events
// of a referral (R-ORG-4, R-SUS-1): codes and dates only, never the
// sealed notes or evidence.
func applyDropout(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, append([]any{id}, args...)...)
		return err
	}
	switch e := env.Payload.(type) {
	case events.DropoutOpened:
		if err := exec(`
			INSERT INTO dropout_episodes (case_id, episode, first_day_absent, whereabouts, reason, sub_reason, position)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`,
			e.Episode, e.FirstDayAbsent.String(), e.Whereabouts, e.Reason, e.SubReason, env.Position); err != nil {
			return err
		}
		return letter(ctx, tx, env, e.Letter)
	case events.DropoutReported:
		return exec(`UPDATE dropout_episodes SET reported_on = $3, position = $4 WHERE case_id = $1 AND episode = $2`,
			e.Episode, e.ReportedOn.String(), env.Position)
	case events.DropoutFollowUpLogged:
		return exec(`UPDATE dropout_episodes SET follow_ups = follow_ups + 1, last_follow_up = greatest(last_follow_up, $3::date), position = $4
			WHERE case_id = $1 AND episode = $2`, e.Episode, e.On.String(), env.Position)
	case events.DropoutFound:
		return exec(`UPDATE dropout_episodes SET found_on = $3, position = $4 WHERE case_id = $1 AND episode = $2`,
			e.Episode, e.FoundOn.String(), env.Position)
	case events.DropoutReturned:
		return exec(`UPDATE dropout_episodes SET returned_on = $3, position = $4 WHERE case_id = $1 AND episode = $2`,
			e.Episode, e.ReturnedOn.String(), env.Position)
	case events.DropoutClosed:
		return exec(`UPDATE dropout_episodes SET closed_on = $3, outcome = $4, position = $5 WHERE case_id = $1 AND episode = $2`,
			e.Episode, e.ClosedOn.String(), e.Outcome, env.Position)
	case events.SuspensionGroundRecorded:
		return exec(`INSERT INTO suspension_grounds (case_id, position, ground, on_date) VALUES ($1,$2,$3,$4)`,
			env.Position, e.Ground, e.On.String())
	}
	return nil
}

// dropoutSummary says what a dropout or ground event means, without
// personal data; ok is false for other events.
func dropoutSummary(env events.Envelope) (string, bool) {
	where := func(w string) string {
		if w == domain.WhereaboutsKnown {
			return "非行蹤不明"
		}
		return "行蹤不明"
	}
	switch e := env.Payload.(type) {
	case events.DropoutOpened:
		s := fmt.Sprintf("第 %d 次中輟：自 %s 起未到校（%s，%s", e.Episode, e.FirstDayAbsent.ROC(), where(e.Whereabouts), domain.DropoutReasonLabels[e.Reason])
		if l := domain.SubReasonLabel(e.Reason, e.SubReason); l != "" {
			s += "：" + l
		}
		return s + "）；已函知原學籍學校", true
	case events.DropoutReported:
		return fmt.Sprintf("原學籍學校完成第 %d 次中輟通報（%s）", e.Episode, e.ReportedOn.ROC()), true
	case events.DropoutFollowUpLogged:
		party := map[string]string{domain.PartyBranch: "分校", domain.PartyOriginSchool: "原學籍學校"}[e.Party]
		kind := map[string]string{"follow_up": "追蹤", "search": "協尋", "counselling": "輔導"}[e.Kind]
		return fmt.Sprintf("%s%s第 %d 次中輟學生（%s）", party, kind, e.Episode, e.On.ROC()), true
	case events.DropoutFound:
		return fmt.Sprintf("第 %d 次中輟學生已尋獲（%s）", e.Episode, e.FoundOn.ROC()), true
	case events.DropoutReturned:
		return fmt.Sprintf("第 %d 次中輟學生復學（%s）", e.Episode, e.ReturnedOn.ROC()), true
	case events.DropoutClosed:
		outcome := map[string]string{"returned": "已復學", "left": "已離開分校", "other": "其他"}[e.Outcome]
		return fmt.Sprintf("第 %d 次中輟結案（%s，%s）", e.Episode, e.ClosedOn.ROC(), outcome), true
	case events.SuspensionGroundRecorded:
		return fmt.Sprintf("登錄中止就讀事由（%d）%s（%s）", e.Ground, domain.SuspensionGroundLabels[e.Ground], e.On.ROC()), true
	}
	return "", false
}

// Episode is a dropout episode as the read model keeps it.
type Episode struct {
	CaseID         string     `db:"case_id" json:"-"`
	Episode        int        `db:"episode" json:"episode"`
	FirstDayAbsent time.Time  `db:"first_day_absent" json:"-"`
	Whereabouts    string     `db:"whereabouts" json:"whereabouts"`
	Reason         string     `db:"reason" json:"reason"`
	SubReason      string     `db:"sub_reason" json:"sub_reason,omitempty"`
	ReportedOn     *time.Time `db:"reported_on" json:"-"`
	FoundOn        *time.Time `db:"found_on" json:"-"`
	ReturnedOn     *time.Time `db:"returned_on" json:"-"`
	ClosedOn       *time.Time `db:"closed_on" json:"-"`
	Outcome        *string    `db:"outcome" json:"outcome"`
	FollowUps      int        `db:"follow_ups" json:"follow_ups"`
	LastFollowUp   *time.Time `db:"last_follow_up" json:"-"`
}

func civilDate(t time.Time) calendar.Date { return calendar.NewDate(t.Year(), t.Month(), t.Day()) }

func civilPtr(t *time.Time) *calendar.Date {
	if t == nil {
		return nil
	}
	d := civilDate(*t)
	return &d
}

// Domain returns the episode as the domain counts it.
func (e Episode) Domain() domain.DropoutEpisode {
	d := domain.DropoutEpisode{Episode: e.Episode, FirstDayAbsent: civilDate(e.FirstDayAbsent), Whereabouts: e.Whereabouts,
		Reason: e.Reason, SubReason: e.SubReason, ReportedOn: civilPtr(e.ReportedOn), FoundOn: civilPtr(e.FoundOn),
		ReturnedOn: civilPtr(e.ReturnedOn), ClosedOn: civilPtr(e.ClosedOn), FollowUps: e.FollowUps}
	if e.Outcome != nil {
		d.Outcome = *e.Outcome
	}
	return d
}

// Ground is a suspension ground recorded by staff.
type Ground struct {
	CaseID string    `db:"case_id"`
	Ground int       `db:"ground"`
	On     time.Time `db:"on_date"`
}

const episodeColumns = `case_id, episode, first_day_absent, whereabouts, reason, sub_reason, reported_on, found_on,
	returned_on, closed_on, outcome, follow_ups, last_follow_up`

// Dropouts returns a case's episodes in order and the grounds recorded
// for it. The caller has checked the case is in scope.
func (r *Reader) Dropouts(ctx context.Context, id string) ([]Episode, []Ground, error) {
	var eps []Episode
	if err := r.db.SelectContext(ctx, &eps, `SELECT `+episodeColumns+` FROM dropout_episodes WHERE case_id = $1 ORDER BY episode`, id); err != nil {
		return nil, nil, err
	}
	var gs []Ground
	if err := r.db.SelectContext(ctx, &gs, `SELECT case_id, ground, on_date FROM suspension_grounds WHERE case_id = $1 ORDER BY position`, id); err != nil {
		return nil, nil, err
	}
	return eps, gs, nil
}

// EnrolledWithGroundData is an enrolled case that has a dropout episode
// or a recorded ground, with both.
type EnrolledWithGroundData struct {
	ID           string
	OriginSchool string
	Grade        int
	Class        *string
	EnrolledOn   *time.Time
	Episodes     []Episode
	Grounds      []Ground
}

// EnrolledGroundData returns the cases in scope enrolled on asOf (enrolled
// now and since then, or enrolled then and ended since), that have any dropout episode or recorded ground, in id
// order, with their episodes and grounds: the suspension-grounds list
// computes each student's grounds from these dates.
func (r *Reader) EnrolledGroundData(ctx context.Context, s Scope, asOf calendar.Date) ([]EnrolledWithGroundData, error) {
	where, args := scopeWhere(s, []any{domain.StageEnrolled, asOf.String()})
	var cases []struct {
		ID           string     `db:"id"`
		OriginSchool string     `db:"origin_school"`
		Grade        int        `db:"grade"`
		Class        *string    `db:"class"`
		EnrolledOn   *time.Time `db:"enrolled_on"`
	}
	if err := r.db.SelectContext(ctx, &cases, `
		SELECT id, origin_school, grade, class, enrolled_on FROM cases
		WHERE (stage = $1 AND (enrolled_on IS NULL OR enrolled_on <= $2::date)
		       OR enrolled_on <= $2::date AND ended_on >= $2::date)`+where+`
		  AND (EXISTS (SELECT 1 FROM dropout_episodes d WHERE d.case_id = cases.id)
		       OR EXISTS (SELECT 1 FROM suspension_grounds g WHERE g.case_id = cases.id))
		ORDER BY id`, args...); err != nil {
		return nil, err
	}
	if len(cases) == 0 {
		return nil, nil
	}
	ids := make([]string, len(cases))
	out := make([]EnrolledWithGroundData, len(cases))
	index := map[string]int{}
	for i, c := range cases {
		ids[i] = c.ID
		index[c.ID] = i
		out[i] = EnrolledWithGroundData{ID: c.ID, OriginSchool: c.OriginSchool, Grade: c.Grade, Class: c.Class, EnrolledOn: c.EnrolledOn}
	}
	q, qargs, err := sqlx.In(`SELECT `+episodeColumns+` FROM dropout_episodes WHERE case_id IN (?) ORDER BY case_id, episode`, ids)
	if err != nil {
		return nil, err
	}
	var eps []Episode
	if err := r.db.SelectContext(ctx, &eps, r.db.Rebind(q), qargs...); err != nil {
		return nil, err
	}
	for _, e := range eps {
		out[index[e.CaseID]].Episodes = append(out[index[e.CaseID]].Episodes, e)
	}
	q, qargs, err = sqlx.In(`SELECT case_id, ground, on_date FROM suspension_grounds WHERE case_id IN (?) ORDER BY case_id, position`, ids)
	if err != nil {
		return nil, err
	}
	var gs []Ground
	if err := r.db.SelectContext(ctx, &gs, r.db.Rebind(q), qargs...); err != nil {
		return nil, err
	}
	for _, g := range gs {
		out[index[g.CaseID]].Grounds = append(out[index[g.CaseID]].Grounds, g)
	}
	return out, nil
}

// DomainGrounds returns recorded grounds as the domain counts them.
func DomainGrounds(gs []Ground) []domain.RecordedGround {
	out := make([]domain.RecordedGround, len(gs))
	for i, g := range gs {
		out[i] = domain.RecordedGround{Ground: g.Ground, On: civilDate(g.On)}
	}
	return out
}

// DomainEpisodes returns episodes as the domain counts them.
func DomainEpisodes(eps []Episode) []domain.DropoutEpisode {
	out := make([]domain.DropoutEpisode, len(eps))
	for i, e := range eps {
		out[i] = e.Domain()
	}
	return out
}
