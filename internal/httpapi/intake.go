package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// VisitView is a case's home visit as the API shows it (R-MID-3, R-MID-4).
type VisitView struct {
	// DeadlineApplies: the 10-working-day deadline applies (mid-year
	// applications sent to the branch school).
	DeadlineApplies bool    `json:"deadline_applies"`
	ReceivedOn      string  `json:"received_on"`
	DueOn           *string `json:"due_on"`
	// WorkingDaysLeft is 0 on the due date and negative exactly when
	// overdue (domain.VisitDaysLeft).
	WorkingDaysLeft *int   `json:"working_days_left"`
	Overdue         bool   `json:"overdue"`
	DueError        string `json:"due_error,omitempty"`
	DueFields
	Contacts    int                      `json:"contacts"`
	Visited     bool                     `json:"visited"`
	Interviewed bool                     `json:"interviewed"`
	ReportOn    *string                  `json:"report_on"`
	Log         []projections.VisitEntry `json:"log,omitempty"`
}

// FirstReviewView is the first review's outcome.
type FirstReviewView struct {
	Outcome string `json:"outcome"`
	On      string `json:"on"`
}

func dateString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format("2006-01-02")
	return &s
}

func civil(t time.Time) calendar.Date { return calendar.NewDate(t.Year(), t.Month(), t.Day()) }

// domainDocuments turns checklist rows into the domain's state.
func domainDocuments(rows []projections.Document) [domain.ChecklistItems + 1]domain.Document {
	var docs [domain.ChecklistItems + 1]domain.Document
	for _, d := range rows {
		if d.Item < 1 || d.Item > domain.ChecklistItems {
			continue
		}
		docs[d.Item] = domain.Document{Submitted: d.Submitted, Checked: d.Checked, Conforms: d.Conforms != nil && *d.Conforms, WithDropoutFile: d.WithDropoutFile}
		if d.Pages != nil {
			docs[d.Item].Pages = *d.Pages
		}
	}
	return docs
}

// visitMemo keeps, for one response, the due dates and working days left
// already counted on its calendar and day: a queue or a page holds many
// cases received on the same days, and counting working days was most of
// the queue's CPU (pprof). nil counts every time.
type visitMemo struct {
	due  map[calendar.Date]memoDue
	left map[calendar.Date]memoLeft
}

type memoDue struct {
	due    calendar.Date
	err    error
	fields DueFields
}

type memoLeft struct {
	left   int
	err    error
	status calendar.Status
}

func newVisitMemo() *visitMemo {
	return &visitMemo{due: map[calendar.Date]memoDue{}, left: map[calendar.Date]memoLeft{}}
}

func (m *visitMemo) dueDate(cal *calendar.Calendar, received calendar.Date) memoDue {
	if m != nil {
		if d, ok := m.due[received]; ok {
			return d
		}
	}
	due, err := domain.DueDate(cal, received)
	d := memoDue{due: due, err: err, fields: dueFields(cal, received, due, err)}
	if m != nil {
		m.due[received] = d
	}
	return d
}

func (m *visitMemo) daysLeft(cal *calendar.Calendar, today, due calendar.Date) memoLeft {
	if m != nil {
		if l, ok := m.left[due]; ok {
			return l
		}
	}
	left, err := domain.VisitDaysLeft(cal, today, due)
	l := memoLeft{left: left, err: err}
	if err == nil {
		l.status = cal.StatusBetween(today, due)
	}
	if m != nil {
		m.left[due] = l
	}
	return l
}

// visitViewMemo derives the visit's due date and status from the current
// calendar, so that a closure or a re-imported year moves open due dates;
// memo (nil: none) keeps what a response already counted.
func visitViewMemo(c projections.Case, cal *calendar.Calendar, calErr error, today calendar.Date, memo *visitMemo) VisitView {
	v := VisitView{
		DeadlineApplies: domain.HasVisitDeadline(domain.Route(c.Route), domain.Channel(c.Channel)),
		ReceivedOn:      c.ReceivedOn.Format("2006-01-02"),
		Contacts:        c.VisitContacts, Visited: c.VisitVisited, Interviewed: c.VisitInterviewed,
		ReportOn: dateString(c.VisitReportOn),
	}
	if !v.DeadlineApplies {
		return v
	}
	if calErr != nil {
		v.DueError = "the office calendar is unavailable"
		return v
	}
	md := memo.dueDate(cal, civil(c.ReceivedOn))
	due, err := md.due, md.err
	if v.DueFields = md.fields; err != nil {
		if v.DueStatus != DuePendingCalendar {
			v.DueError = domain.AsError(err).Message
		}
		return v
	}
	s := due.String()
	v.DueOn = &s
	if c.VisitReportOn != nil {
		// Closed: late if the report came after the due date.
		v.Overdue = civil(*c.VisitReportOn).After(due)
		return v
	}
	if c.Stage != string(domain.StageIntake) {
		return v
	}
	ml := memo.daysLeft(cal, today, due)
	left, err := ml.left, ml.err
	if err != nil {
		// The due date stands; the days left need a missing year.
		v.Overdue = today.After(due)
		if v.CalendarYearNeeded = domain.CalendarYearNeeded(err); v.CalendarYearNeeded == 0 {
			v.DueError = domain.AsError(domain.ErrorFromCalendar(err)).Message
		}
		return v
	}
	v.CalendarStatus = worseStatus(v.CalendarStatus, ml.status)
	v.WorkingDaysLeft = &left
	v.Overdue = today.After(due)
	return v
}

func (s *Server) today() calendar.Date { return calendar.DateOf(s.app.Clock.Now(), domain.Taipei) }

func branchOf(a events.Actor) string {
	if a.Branch != "" {
		return a.Branch
	}
	return domain.DefaultBranchCode
}

// command runs the usual steps of a command endpoint: read and decode the
// body, build the metadata, run, answer with the result.
func command[T any](s *Server, c echo.Context, optionalBody bool, run func(ctx context.Context, m appMeta, req T) (appResult, error)) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req T
	if err := decodeCommand(body, &req, optionalBody, s.today()); err != nil {
		return err
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	res, err := run(c.Request().Context(), m, req)
	if err != nil {
		return err
	}
	return commandResponse(c, http.StatusOK, res)
}

// ReturnRequest is the body of POST /v1/referrals/{id}/return.
type ReturnRequest struct {
	Note string `json:"note,omitempty"`
}

func (r *ReturnRequest) validate(calendar.Date) error { return domain.CheckNote("note", r.Note) }

func (s *Server) returnApplication(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, req ReturnRequest) (appResult, error) {
		return s.app.ReturnApplication(ctx, m, c.Param("id"), req.Note)
	})
}

func (s *Server) resubmit(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, _ struct{}) (appResult, error) {
		return s.app.Resubmit(ctx, m, c.Param("id"))
	})
}

// HomeVisitRequest is the body of POST /v1/referrals/{id}/home-visits.
type HomeVisitRequest struct {
	Kind string `json:"kind"`
	On   string `json:"on"`
	Note string `json:"note,omitempty"`
}

func (r *HomeVisitRequest) validate(today calendar.Date) error {
	on, err := calendar.ParseDate(r.On)
	if err != nil {
		return domain.Invalid(map[string]string{"on": "must be a date YYYY-MM-DD"})
	}
	if err := domain.ValidateVisit(r.Kind, on, today); err != nil {
		return err
	}
	return domain.CheckNote("note", r.Note)
}

func (s *Server) logVisit(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req HomeVisitRequest) (appResult, error) {
		on, err := calendar.ParseDate(req.On)
		if err != nil {
			return appResult{}, domain.Invalid(map[string]string{"on": "must be a date YYYY-MM-DD"})
		}
		return s.app.LogVisit(ctx, m, c.Param("id"), req.Kind, on, req.Note)
	})
}

// FirstReviewRequest is the body of POST /v1/referrals/{id}/first-review.
type FirstReviewRequest struct {
	Outcome string `json:"outcome"`
	Reasons string `json:"reasons,omitempty"`
}

func (r *FirstReviewRequest) validate(calendar.Date) error {
	if err := domain.ValidateFirstReview(r.Outcome, r.Reasons != ""); err != nil {
		return err
	}
	return domain.CheckNote("reasons", r.Reasons)
}

func (s *Server) firstReview(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req FirstReviewRequest) (appResult, error) {
		return s.app.DecideFirstReview(ctx, m, c.Param("id"), req.Outcome, req.Reasons)
	})
}

// QueueEntry is one open home visit in the social worker's queue.
type QueueEntry struct {
	ID           string    `json:"id"`
	OriginSchool string    `json:"origin_school"`
	Route        string    `json:"route"`
	Channel      string    `json:"channel,omitempty"`
	Grade        int       `json:"grade"`
	Visit        VisitView `json:"visit"`
}

// Queue is the body of GET /v1/home-visits/queue.
type Queue struct {
	Items        []QueueEntry `json:"items"`
	Today        string       `json:"today"`
	ReadPosition uint64       `json:"read_position"`
}

func (s *Server) visitQueue(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	a := actorOf(c)
	ctx := c.Request().Context()
	today := s.today()
	// No personal data: no access record; kept as the list pages are
	// (bodycache.go).
	return s.keptOrBuilt(c, bodyKey{route: "visit-queue", actor: a, day: today}, func() (any, []string, bool, error) {
		cases, err := s.reader.VisitQueue(ctx, branchOf(a))
		if err != nil {
			return nil, nil, false, err
		}
		cal, calErr := s.calendarFor(ctx, a)
		out := Queue{Items: make([]QueueEntry, 0, len(cases)), Today: today.String(), ReadPosition: s.waiter.Position()}
		memo := newVisitMemo()
		for _, cs := range cases {
			out.Items = append(out.Items, QueueEntry{ID: cs.ID, OriginSchool: cs.OriginSchool, Route: cs.Route, Channel: cs.Channel, Grade: cs.Grade,
				Visit: visitViewMemo(cs, cal, calErr, today, memo)})
		}
		return out, nil, calErr == nil, nil
	})
}

// Calendar endpoints.

func (s *Server) importCalendar(c echo.Context) error {
	year, err := strconv.Atoi(c.Param("year"))
	if err != nil || year < domain.MinCalendarYear || year > domain.MaxCalendarYear {
		return domain.Invalid(map[string]string{"year": "must be an AD year such as 2026"})
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	defer s.forgetCalendars() // readcache.go
	res, err := s.app.ImportCalendar(c.Request().Context(), m, year, strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	return commandResponse(c, http.StatusOK, res)
}

// ClosureRequest is the body of POST /v1/calendar/closures.
type ClosureRequest struct {
	Date   string `json:"date"`
	Reason string `json:"reason"`
}

func (r *ClosureRequest) validate(calendar.Date) error {
	if _, err := calendar.ParseDate(r.Date); err != nil {
		return domain.Invalid(map[string]string{"date": "must be a date YYYY-MM-DD"})
	}
	return domain.ValidateClosure(r.Reason)
}

func (s *Server) closeOffice(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req ClosureRequest) (appResult, error) {
		d, err := calendar.ParseDate(req.Date)
		if err != nil {
			return appResult{}, domain.Invalid(map[string]string{"date": "must be a date YYYY-MM-DD"})
		}
		defer s.forgetCalendars() // readcache.go
		return s.app.CloseOffice(ctx, m, d, req.Reason)
	})
}

// ErasureRequest is the body of POST /v1/referrals/{id}/erasure.
type ErasureRequest struct {
	Reason string `json:"reason"`
}

func (r *ErasureRequest) validate(calendar.Date) error { return domain.ValidateErasure(r.Reason) }

func (s *Server) erase(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req ErasureRequest) (appResult, error) {
		return s.app.ErasePerson(ctx, m, c.Param("id"), req.Reason)
	})
}
