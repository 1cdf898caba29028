package projections

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// apply applies one event to the read models inside the batch's
// transaction.
func (p *Projector) apply(ctx context.Context, tx *sqlx.Tx, pend *pending, env events.Envelope) error {
	if err := applyDuties(ctx, tx, env); err != nil {
		return err
	}
	if err := applyAwardFacts(ctx, tx, env); err != nil { // award.go
		return err
	}
	switch env.AggregateType {
	case events.AggregateReferral:
		if err := p.applyReferral(ctx, tx, env); err != nil {
			return err
		}
		if err := applyDropout(ctx, tx, env); err != nil {
			return err
		}
		if err := applyRetention(ctx, tx, env); err != nil {
			return err
		}
		if err := applyEnding(ctx, tx, env); err != nil { // end states, the academic year (roster.go)
			return err
		}
		pend.timeline(env)
		return nil
	case events.AggregateMeeting:
		return applyMeeting(ctx, tx, env)
	case events.AggregateRoster:
		return applyRoster(ctx, tx, env) // the dated roster (roster.go)
	case events.AggregatePerson:
		return applyPerson(ctx, tx, env)
	case events.AggregateScoreSheet:
		return applyScoreSheet(ctx, tx, env) // award.go
	}
	return nil
}

func (p *Projector) applyReferral(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	id := env.AggregateID
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO cases (id, branch, origin_school, academic_year, route, channel, grade, sex, grounds,
			                   stage, received_on, person_key, version, position, opened_at, updated_at, dropout_record, received_position, application_position)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$15,$16,$14,$14)`,
			id, env.Branch, e.OriginSchool, e.AcademicYear, e.Route, e.Channel, e.Grade, e.Sex, pq.Array(e.Grounds),
			domain.StageIntake, e.ReceivedOn.String(), e.PersonKey, env.Version, env.Position, env.OccurredAt, e.DropoutRecord); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_documents (case_id, item) SELECT $1, generate_series(1, $2::int)`, id, domain.ChecklistItems); err != nil {
			return err
		}
		if !e.Categories.IsZero() {
			if err := setCategories(ctx, tx, id, e.Categories); err != nil {
				return err
			}
		}
		if e.Personal.IsZero() {
			return nil
		}
		// Sealed as in the event: the projector never holds a key.
		_, err := tx.ExecContext(ctx, `INSERT INTO case_personal (case_id, personal) VALUES ($1, $2)`, id, sealedJSON(e.Personal))
		return err
	case events.CategoriesCorrected:
		if err := setCategories(ctx, tx, id, e.Categories); err != nil {
			return err
		}
	case events.DocumentSubmitted:
		var issued any
		if e.IssuedOn != nil {
			issued = e.IssuedOn.String()
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE case_documents SET submitted = true, pages = $3, issued_on = $4, checked = false, conforms = NULL, note = NULL,
			       submitted_on = $5, with_dropout_file = $6
			WHERE case_id = $1 AND item = $2`, id, e.Item, e.Pages, issued, dateOf(env), e.WithDropoutFile); err != nil {
			return err
		}
	case events.DocumentChecked:
		if _, err := tx.ExecContext(ctx, `
			UPDATE case_documents SET checked = true, conforms = $3, note = $4
			WHERE case_id = $1 AND item = $2`, id, e.Item, e.Conforms, sealedJSON(e.Note)); err != nil {
			return err
		}
	case events.PersonErased:
		return erasePersons(ctx, tx, []string{e.PersonKey})
	case events.ApplicationReturned, events.ApplicationResubmitted, events.ApplicationLapsed, events.IncompleteAccepted:
		return applyReturns(ctx, tx, env)
	case events.HomeVisitLogged:
		col := map[string]string{domain.VisitContact: "visit_contacts = visit_contacts + 1", domain.VisitHome: "visit_visited = true", domain.VisitInterview: "visit_interviewed = true"}[e.Kind]
		if col != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET `+col+` WHERE id = $1`, id); err != nil {
				return err
			}
		}
		if err := visitLog(ctx, tx, env, e.Kind, e.On.String(), e.Note); err != nil {
			return err
		}
	case events.AssessmentReportFinished:
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET visit_report_on = $2 WHERE id = $1`, id, e.On.String()); err != nil {
			return err
		}
		if err := visitLog(ctx, tx, env, "report", e.On.String(), e.Summary); err != nil {
			return err
		}
	case events.FirstReviewDecided:
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET stage = $2, review_outcome = $3, reviewed_on = $4 WHERE id = $1`,
			id, domain.ReviewStage(e.Outcome), e.Outcome, e.On.String()); err != nil {
			return err
		}
		if err := letter(ctx, tx, env, e.Letter); err != nil {
			return err
		}
	default:
		if err := p.applyAdmission(ctx, tx, env); err != nil {
			return err
		}
	}
	return nil
}

// letter records a letter to a school.
func letter(ctx context.Context, tx *sqlx.Tx, env events.Envelope, l events.Letter) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO letters (position, case_id, to_school, student_alias, subject, outcome, next_step, meeting, issued_on)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		env.Position, env.AggregateID, l.ToSchool, l.StudentAlias, l.Subject, l.Outcome, l.NextStep, l.Meeting, dateOf(env))
	return err
}

// visitLog records a home-visit log entry with its sealed note.
func visitLog(ctx context.Context, tx *sqlx.Tx, env events.Envelope, kind, on string, note events.Sealed) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO case_visits (position, case_id, kind, on_date, note) VALUES ($1,$2,$3,$4,$5)`,
		env.Position, env.AggregateID, kind, on, sealedJSON(note))
	return err
}

// sealedJSON stores a sealed value as the read models keep it: the
// events.Sealed JSON in a json column, NULL for none.
type sealedJSON events.Sealed

// Value implements driver.Valuer.
func (s sealedJSON) Value() (driver.Value, error) {
	if events.Sealed(s).IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(events.Sealed(s))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func dateOf(env events.Envelope) string {
	return calendar.DateOf(env.OccurredAt, domain.Taipei).String()
}

// Summary says what an event means, in plain words and without personal
// data.
func Summary(env events.Envelope) string {
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		route := "學年初轉介"
		if e.Route == string(domain.RouteMidYear) {
			route = "學年中轉介（直接向分校申請）"
			if e.Channel == string(domain.ChannelAssessed) {
				route = "學年中轉介（經專業評估，由教育局受理）"
			}
		}
		return fmt.Sprintf("原學籍學校 %s 提出%s申請（%d 學年度，%d 年級），收件日 %s", e.OriginSchool, route, e.AcademicYear, e.Grade, e.ReceivedOn.ROC())
	case events.DocumentSubmitted:
		return fmt.Sprintf("繳交檢核項目 %d「%s」，共 %d 頁", e.Item, domain.ChecklistItemName(e.Item), e.Pages)
	case events.DocumentChecked:
		verdict := "不符合"
		if e.Conforms {
			verdict = "符合"
		}
		return fmt.Sprintf("分校檢核項目 %d「%s」：%s", e.Item, domain.ChecklistItemName(e.Item), verdict)
	case events.ApplicationReturned:
		items := make([]string, len(e.Missing))
		for i, n := range e.Missing {
			items[i] = fmt.Sprint(n)
		}
		return "資料未齊，分校退件（缺項目 " + strings.Join(items, "、") + "），請補齊後重新送件"
	case events.ApplicationResubmitted:
		if e.TakesNewPlace {
			return "原學籍學校補齊資料重新送件，收件日 " + e.ReceivedOn.ROC() + "；自本日起依收件先後排序（R-MID-3）"
		}
		return "原學籍學校重新送件，收件日 " + e.ReceivedOn.ROC()
	case events.ApplicationLapsed:
		return "退件後未於申請期間末日 " + e.ResubmitBy.ROC() + " 前重新送件，申請失效結案；已函知申請學校（R-MID-3）"
	case events.IncompleteAccepted:
		items := make([]string, len(e.Owed))
		for i, n := range e.Owed {
			items[i] = fmt.Sprint(n)
		}
		return "分校社工依特殊原因受理資料未齊之申請（尚缺項目 " + strings.Join(items, "、") + "，R-ELIG-4）"
	case events.PersonErased:
		return "個人資料已依規定銷毀（" + e.Reason + "）"
	case events.HomeVisitLogged:
		kind := map[string]string{domain.VisitContact: "家訪聯絡", domain.VisitHome: "家庭訪問", domain.VisitInterview: "學生晤談"}[e.Kind]
		return kind + "（" + e.On.ROC() + "）"
	case events.AssessmentReportFinished:
		return "完成家訪評估報告（" + e.On.ROC() + "）"
	case events.FirstReviewDecided:
		return "初審結果：" + e.Letter.Outcome + "；已函知申請學校"
	case events.AppealFiled:
		return fmt.Sprintf("申請列席複審會議補充說明（%d 人，書面資料 %d 份）", len(e.Attendees), e.Documents)
	case events.Admitted:
		if e.FromWaitlist {
			return "候補遞補：分校通知報到入學（報到期限 " + e.ReportBy.ROC() + "）"
		}
		return "複審通過，錄取就讀；報到期限 " + e.ReportBy.ROC()
	case events.Waitlisted:
		return "複審通過，列入候補名單"
	case events.Rejected:
		return "複審未通過"
	case events.PlaceReleased:
		return "釋出就讀名額" // the reason is sealed: free text about the student
	case events.HealthCheckRecorded:
		return "登錄入學健康檢查（" + e.ExaminedOn.ROC() + "）"
	case events.Enrolled:
		return fmt.Sprintf("報到入學，編入 %s 班", e.Class)
	case events.RegistrationRecorded:
		return "原學籍學校完成 " + e.Semester + " 學期註冊"
	case events.LegalHoldPlaced:
		return "依法暫緩銷毀（legal hold：" + e.Reason + "）"
	case events.LegalHoldLifted:
		return "解除暫緩銷毀（legal hold lifted）"
	case events.CategoriesCorrected:
		return "更正統計分類（家庭背景、身分）"
	}
	if s, ok := suspensionSummary(env); ok {
		return s
	}
	if s, ok := dropoutSummary(env); ok {
		return s
	}
	if s, ok := dutySummary(env); ok {
		return s
	}
	return rosterSummary(env) // the dated roster's events, else the type (roster.go)
}

// erasePersons erases what the read models hold sealed of every case of
// the persons (PersonErased): nothing could open it any more, and less
// ciphertext kept is better.
func erasePersons(ctx context.Context, tx *sqlx.Tx, keys []string) error {
	return eraseCases(ctx, tx, `IN (SELECT id FROM cases WHERE person_key = ANY($1))`, keys)
}

// eraseCaseIDs is erasePersons for cases known by id (a rebuild's batch of
// erasures, whose cases the prefold knows).
func eraseCaseIDs(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	return eraseCases(ctx, tx, `= ANY($1)`, ids)
}

// eraseCases erases the sealed values of the cases whose id matches, with
// the array $1.
func eraseCases(ctx context.Context, tx *sqlx.Tx, match string, arg []string) error {
	for _, q := range []string{
		`DELETE FROM case_personal WHERE case_id %s`,
		`UPDATE case_documents SET note = NULL WHERE case_id %s`,
		`UPDATE case_visits SET note = NULL WHERE case_id %s`,
		`UPDATE case_suspension_log SET note = NULL WHERE case_id %s`,
		`UPDATE case_adaptation_meetings SET notes = NULL WHERE case_id %s`,
		`UPDATE cases SET acceptance_reason = NULL WHERE id %s`,
	} {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(q, match), pq.Array(arg)); err != nil {
			return err
		}
	}
	return nil
}
