package httpapi

import (
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// WarnedResult is a command result with warnings (rules that warn rather
// than forbid, such as R-MTG-1 and R-CAP-2).
type WarnedResult struct {
	app.Result
	Warnings []string `json:"warnings"`
}

func warned(c echo.Context, status int, res app.Result, warnings []string) error {
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(res.Version, 10)+`"`)
	if warnings == nil {
		warnings = []string{}
	}
	return c.JSON(status, WarnedResult{Result: res, Warnings: warnings})
}

// ScheduleRequest is the body of POST /v1/meetings.
type ScheduleRequest struct {
	AcademicYear int    `json:"academic_year"`
	Kind         string `json:"kind"`
	Date         string `json:"date"`
	Title        string `json:"title,omitempty"`
}

func (r *ScheduleRequest) validate(calendar.Date) error {
	d, err := calendar.ParseDate(r.Date)
	if err != nil {
		return domain.Invalid(map[string]string{"date": "must be a date YYYY-MM-DD"})
	}
	return domain.ValidateSchedule(r.AcademicYear, r.Kind, d, r.Title)
}

func (s *Server) scheduleMeeting(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req ScheduleRequest
	if err := decodeCommand(body, &req, false, s.today()); err != nil {
		return err
	}
	d, err := calendar.ParseDate(req.Date)
	if err != nil {
		return domain.Invalid(map[string]string{"date": "must be a date YYYY-MM-DD"})
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	res, warnings, err := s.app.ScheduleMeeting(c.Request().Context(), m, req.AcademicYear, req.Kind, d, req.Title)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/meetings/"+res.ID)
	return warned(c, http.StatusCreated, res, warnings)
}

// MeetingView is a meeting as the API shows it.
type MeetingView struct {
	projections.MeetingRow
	Date     string  `json:"date"`
	DateROC  string  `json:"date_roc"`
	ClosedOn *string `json:"closed_on"`
}

func meetingView(m projections.MeetingRow) MeetingView {
	return MeetingView{MeetingRow: m, Date: m.Date.Format("2006-01-02"), DateROC: civil(m.Date).ROC(), ClosedOn: dateString(m.ClosedOn)}
}

func (s *Server) listMeetings(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	year := q.academicYear()
	if err := q.err(); err != nil {
		return err
	}
	rows, err := s.reader.Meetings(c.Request().Context(), branchOf(actorOf(c)), year)
	if err != nil {
		return err
	}
	out := make([]MeetingView, 0, len(rows))
	for _, m := range rows {
		out = append(out, meetingView(m))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out, "read_position": s.waiter.Position()})
}

func (s *Server) getMeeting(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	m, err := s.reader.Meeting(c.Request().Context(), branchOf(actorOf(c)), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meetingView(m))
}

func (s *Server) openMeeting(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, _ struct{}) (appResult, error) {
		return s.app.OpenMeeting(ctx, m, c.Param("id"))
	})
}

// ResolutionRequest is the body of POST /v1/meetings/{id}/resolutions.
type ResolutionRequest struct {
	CaseID     string `json:"case_id"`
	Resolution string `json:"resolution"`
	Reason     string `json:"reason,omitempty"`
	// Finding: "R-EXCL-3" on a reject (a committee finding).
	Finding string `json:"finding,omitempty"`
	// Destination of a suspend resolution (R-SUS-4): origin_school,
	// social_welfare or judicial.
	Destination string `json:"destination,omitempty"`
}

func (r *ResolutionRequest) validate(calendar.Date) error {
	if !domain.IsReferralID(r.CaseID) {
		return domain.Invalid(map[string]string{"case_id": "required: a referral id (r and 24 characters a–z, 2–7)"})
	}
	if err := domain.ValidateResolution(r.Resolution, r.Reason != ""); err != nil {
		return err
	}
	if err := domain.ValidateFinding(r.Resolution, r.Finding); err != nil {
		return err
	}
	if err := domain.ValidateDestination(r.Resolution, r.Destination); err != nil {
		return err
	}
	return domain.CheckNote("reason", r.Reason)
}

func (s *Server) resolve(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req ResolutionRequest) (appResult, error) {
		return s.app.ResolveCase(ctx, m, c.Param("id"), app.Resolution{CaseID: req.CaseID, Resolution: req.Resolution,
			Reason: req.Reason, Finding: req.Finding, Destination: req.Destination})
	})
}

// CloseRequest is the body of POST /v1/meetings/{id}/close.
type CloseRequest struct {
	// ReportingDate is the reporting date of the admissions (R-SOY-6): a
	// working day on or after the close, required when the close admits
	// anyone.
	ReportingDate string `json:"reporting_date,omitempty"`
	// MidYearReportingDate is the former name of ReportingDate, still
	// accepted.
	MidYearReportingDate string `json:"mid_year_reporting_date,omitempty"`
}

// date returns the reporting date given, nil if none.
func (r *CloseRequest) date() (*calendar.Date, error) {
	field, v := "reporting_date", r.ReportingDate
	if v == "" {
		field, v = "mid_year_reporting_date", r.MidYearReportingDate
	} else if r.MidYearReportingDate != "" && r.MidYearReportingDate != v {
		return nil, domain.Invalid(map[string]string{"mid_year_reporting_date": "the former name of reporting_date: give one of them"})
	}
	return parseReportingDate(field, v)
}

func (r *CloseRequest) validate(today calendar.Date) error {
	d, err := r.date()
	if err != nil || d == nil {
		return err
	}
	return domain.ValidateReportingDate(*d, today)
}

// parseReportingDate parses an optional reporting date (R-SOY-6).
func parseReportingDate(field, v string) (*calendar.Date, error) {
	if v == "" {
		return nil, nil
	}
	d, err := calendar.ParseDate(v)
	if err != nil {
		return nil, domain.Invalid(map[string]string{field: "must be a date YYYY-MM-DD"})
	}
	return &d, nil
}

func (s *Server) closeMeeting(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, req CloseRequest) (appResult, error) {
		report, err := req.date()
		if err != nil {
			return appResult{}, err
		}
		return s.app.CloseMeeting(ctx, m, c.Param("id"), report)
	})
}

// Docket is the body of GET /v1/meetings/{id}/docket.
type Docket struct {
	Meeting      MeetingView               `json:"meeting"`
	IsNext       bool                      `json:"is_next_meeting"`
	Cases        []projections.DocketEntry `json:"cases"`
	ReadPosition uint64                    `json:"read_position"`
}

//go:embed docket.html
var docketHTML string

var docketTemplate = template.Must(template.New("docket").Funcs(template.FuncMap{
	"roc": func(t time.Time) string { return civil(t).ROC() },
	"inc": func(i int) int { return i + 1 },
	"list": func(l string) string {
		return map[string]string{"recommended": "建議就讀", "to_discuss": "待討論", "appealed": "未通過（申請列席說明）", "not_passed": "未通過", "decided": "已決議",
			"suspension": "中止就讀案"}[l]
	},
	"route": func(r, ch string) string {
		switch {
		case r == "start_of_year":
			return "學年初轉介"
		case ch == "assessed":
			return "學年中轉介（專業評估，教育局受理）"
		}
		return "學年中轉介（分校受理）"
	},
	"attendees": func(a []string) string {
		names := map[string]string{"student": "學生", "parent": "家長", "school": "學校代表", "network_unit": "網絡單位代表"}
		out := make([]string, 0, len(a))
		for _, x := range domain.Stakeholders { // the form's order
			if slices.Contains(a, x) {
				out = append(out, names[x])
			}
		}
		if len(out) == 0 {
			return "—"
		}
		return strings.Join(out, "、")
	},
	"resolution": func(r *string) string {
		if r == nil {
			return ""
		}
		return map[string]string{"admit": "同意入班", "waitlist": "列入候補", "reject": "不同意", "suspend": "中止就讀", "continue": "繼續就讀"}[*r]
	},
}).Parse(docketHTML))

// docket serves the docket (R-MTG-2) as JSON, or as a printable page in
// Traditional Chinese with ROC dates for committee members (Accept:
// text/html or ?format=html).
func (s *Server) docket(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	format := q.oneOf("format", []string{"json", "html"})
	if err := q.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	m, err := s.reader.Meeting(ctx, branchOf(actorOf(c)), c.Param("id"))
	if err != nil {
		return err
	}
	entries, isNext, err := s.reader.Docket(ctx, m)
	if err != nil {
		return err
	}
	d := Docket{Meeting: meetingView(m), IsNext: isNext, Cases: entries, ReadPosition: s.waiter.Position()}
	if err := s.recordAccess(c, caseIDs(entries, func(e projections.DocketEntry) string { return e.CaseID })...); err != nil {
		return err
	}
	if format == "html" || strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") {
		var b strings.Builder
		if err := docketTemplate.Execute(&b, map[string]any{"D": d, "Printed": s.today().ROC()}); err != nil {
			return err
		}
		return c.HTML(http.StatusOK, b.String())
	}
	return c.JSON(http.StatusOK, d)
}

// AppealRequest is the body of POST /v1/referrals/{id}/appeals.
type AppealRequest struct {
	Attendees []string `json:"attendees"`
	Documents int      `json:"documents,omitempty"`
	Details   string   `json:"details,omitempty"`
}

func (r *AppealRequest) validate(calendar.Date) error {
	if err := domain.ValidateAppeal(r.Attendees, r.Documents); err != nil {
		return err
	}
	return domain.CheckNote("details", r.Details)
}

func (s *Server) appeal(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req AppealRequest) (appResult, error) {
		return s.app.Appeal(ctx, m, c.Param("id"), req.Attendees, req.Documents, req.Details)
	})
}

// WithdrawalRequest is the body of POST /v1/referrals/{id}/withdrawal.
type WithdrawalRequest struct {
	Reason string `json:"reason"`
	// ReportingDate is the reporting date of the offer of the freed place
	// to the first on the waiting list (R-SOY-6): a working day on or
	// after today, required when a place is offered.
	ReportingDate string `json:"reporting_date,omitempty"`
}

func (r *WithdrawalRequest) validate(today calendar.Date) error {
	if err := domain.ValidateRelease(r.Reason); err != nil {
		return err
	}
	d, err := parseReportingDate("reporting_date", r.ReportingDate)
	if err != nil || d == nil {
		return err
	}
	return domain.ValidateReportingDate(*d, today)
}

func (s *Server) withdraw(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req WithdrawalRequest) (appResult, error) {
		report, err := parseReportingDate("reporting_date", req.ReportingDate)
		if err != nil {
			return appResult{}, err
		}
		return s.app.ReleasePlace(ctx, m, c.Param("id"), req.Reason, report)
	})
}

// HealthCheckRequest is the body of POST /v1/referrals/{id}/health-check.
type HealthCheckRequest struct {
	ExaminedOn string `json:"examined_on"`
	Infectious bool   `json:"infectious,omitempty"`
	ClearedOn  string `json:"cleared_on,omitempty"`
}

func (r *HealthCheckRequest) validate(today calendar.Date) error {
	ex, err := calendar.ParseDate(r.ExaminedOn)
	if err != nil {
		return domain.Invalid(map[string]string{"examined_on": "must be a date YYYY-MM-DD"})
	}
	var cleared *calendar.Date
	if r.ClearedOn != "" {
		d, err := calendar.ParseDate(r.ClearedOn)
		if err != nil {
			return domain.Invalid(map[string]string{"cleared_on": "must be a date YYYY-MM-DD"})
		}
		cleared = &d
	}
	return domain.ValidateHealthCheck(ex, cleared, today)
}

func (s *Server) healthCheck(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req HealthCheckRequest) (appResult, error) {
		ex, err := calendar.ParseDate(req.ExaminedOn)
		if err != nil {
			return appResult{}, domain.Invalid(map[string]string{"examined_on": "must be a date YYYY-MM-DD"})
		}
		var cleared *calendar.Date
		if req.ClearedOn != "" {
			d, err := calendar.ParseDate(req.ClearedOn)
			if err != nil {
				return appResult{}, domain.Invalid(map[string]string{"cleared_on": "must be a date YYYY-MM-DD"})
			}
			cleared = &d
		}
		return s.app.RecordHealthCheck(ctx, m, c.Param("id"), ex, req.Infectious, cleared)
	})
}

// EnrolmentRequest is the body of POST /v1/referrals/{id}/enrolment.
type EnrolmentRequest struct {
	Grade          int    `json:"grade"`
	Class          string `json:"class"`
	OverrideReason string `json:"override_reason,omitempty"`
}

func (r *EnrolmentRequest) validate(calendar.Date) error {
	return domain.ValidateEnrolment(r.Grade, r.Class, r.OverrideReason)
}

func (s *Server) enrol(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req EnrolmentRequest
	if err := decodeCommand(body, &req, false, s.today()); err != nil {
		return err
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	res, warnings, err := s.app.Enrol(c.Request().Context(), m, c.Param("id"), req.Grade, req.Class, req.OverrideReason)
	if err != nil {
		return err
	}
	return warned(c, http.StatusOK, res, warnings)
}

// RegistrationRequest is the body of POST /v1/referrals/{id}/registrations.
type RegistrationRequest struct {
	Semester string `json:"semester"`
}

func (r *RegistrationRequest) validate(calendar.Date) error {
	return domain.ValidateSemester(r.Semester)
}

func (s *Server) registration(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req RegistrationRequest) (appResult, error) {
		return s.app.RecordRegistration(ctx, m, c.Param("id"), req.Semester)
	})
}

// CapacityView is the body of GET /v1/capacity.
type CapacityView struct {
	app.Capacity
	Waiting []WaitingView `json:"waiting_list"`
}

// WaitingView is one case on the waiting list, in order.
type WaitingView struct {
	Rank int `json:"rank"`
	projections.CaseBrief
}

func (s *Server) filings(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	year := q.academicYear()
	if err := q.err(); err != nil {
		return err
	}
	rows, err := s.reader.Admitted(c.Request().Context(), branchOf(actorOf(c)), year)
	if err != nil {
		return err
	}
	type entry struct {
		projections.FilingEntry
		ReportBy *string `json:"report_by"`
	}
	out := make([]entry, 0, len(rows))
	for _, r := range rows {
		out = append(out, entry{FilingEntry: r, ReportBy: dateString(r.ReportBy)})
	}
	if err := s.recordAccess(c, caseIDs(rows, func(r projections.FilingEntry) string { return r.CaseID })...); err != nil {
		return err
	}
	body := map[string]any{"items": out, "read_position": s.waiter.Position(),
		"note": "轉介就讀學生名單，提交教育局備查（R-SOY-7）"}
	// Issue 12: the year filtered on; without a filter the list covers
	// every year, and no year is claimed (never academic_year 0).
	if year != 0 {
		body["academic_year"] = year
	}
	return c.JSON(http.StatusOK, body)
}
