package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// Duties (issue 10): the commands by which the parties record what they
// did, and GET /v1/duties, what they still owe.

// optionalOn parses an optional date field "on".
func optionalOn(v string) (*calendar.Date, error) {
	if v == "" {
		return nil, nil
	}
	d, err := calendar.ParseDate(v)
	if err != nil {
		return nil, domain.Invalid(map[string]string{"on": "must be a date YYYY-MM-DD"})
	}
	return &d, nil
}

// RecordsSentRequest is the body of POST /v1/referrals/{id}/records-sent.
type RecordsSentRequest struct {
	Semester string   `json:"semester"`
	Kinds    []string `json:"kinds"`
	On       string   `json:"on,omitempty"`
}

func (r *RecordsSentRequest) validate(calendar.Date) error {
	if err := domain.ValidateSemester(r.Semester); err != nil {
		return err
	}
	_, err := optionalOn(r.On)
	return err
}

func (s *Server) recordsSent(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req RecordsSentRequest) (appResult, error) {
		on, _ := optionalOn(req.On)
		return s.app.SendRecords(ctx, m, c.Param("id"), req.Semester, req.Kinds, on)
	})
}

// NetworkNoticeRequest is the body of POST /v1/referrals/{id}/network-notices.
type NetworkNoticeRequest struct {
	Result string `json:"result"`
	On     string `json:"on,omitempty"`
}

func (r *NetworkNoticeRequest) validate(calendar.Date) error {
	_, err := optionalOn(r.On)
	return err
}

func (s *Server) networkNotice(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req NetworkNoticeRequest) (appResult, error) {
		on, _ := optionalOn(req.On)
		return s.app.InformNetworkUnits(ctx, m, c.Param("id"), req.Result, on)
	})
}

// AccompanimentRequest is the body of POST /v1/referrals/{id}/accompaniment.
type AccompanimentRequest struct {
	By string `json:"by"`
	On string `json:"on,omitempty"`
}

func (r *AccompanimentRequest) validate(calendar.Date) error {
	_, err := optionalOn(r.On)
	return err
}

func (s *Server) accompaniment(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req AccompanimentRequest) (appResult, error) {
		on, _ := optionalOn(req.On)
		return s.app.RecordAccompaniment(ctx, m, c.Param("id"), req.By, on)
	})
}

// DoneOnRequest is a body that gives only the date something was done.
type DoneOnRequest struct {
	On string `json:"on,omitempty"`
}

func (r *DoneOnRequest) validate(calendar.Date) error {
	_, err := optionalOn(r.On)
	return err
}

func (s *Server) leaveAssistance(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, req DoneOnRequest) (appResult, error) {
		on, _ := optionalOn(req.On)
		return s.app.RecordLeaveAssisted(ctx, m, c.Param("id"), on)
	})
}

// CoCounsellingRequest is the body of POST /v1/co-counselling-visits.
type CoCounsellingRequest struct {
	On    string `json:"on,omitempty"`
	Cases []struct {
		CaseID string `json:"case_id"`
		Note   string `json:"note,omitempty"`
	} `json:"cases"`
}

func (r *CoCounsellingRequest) validate(calendar.Date) error {
	_, err := optionalOn(r.On)
	return err
}

func (s *Server) coCounselling(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req CoCounsellingRequest) (appResult, error) {
		on, _ := optionalOn(req.On)
		cases := make([]app.CoveredCase, len(req.Cases))
		for i, cs := range req.Cases {
			cases[i] = app.CoveredCase{CaseID: cs.CaseID, Note: cs.Note}
		}
		return s.app.RecordCoCounselling(ctx, m, on, cases)
	})
}

// FilingRequest is the body of POST /v1/filings/admitted.
type FilingRequest struct {
	MeetingID string `json:"meeting_id"`
	On        string `json:"on,omitempty"`
}

func (r *FilingRequest) validate(calendar.Date) error {
	if !domain.IsMeetingID(r.MeetingID) {
		return domain.Invalid(map[string]string{"meeting_id": "must be a meeting id"})
	}
	_, err := optionalOn(r.On)
	return err
}

func (s *Server) fileAdmitted(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req FilingRequest) (appResult, error) {
		on, _ := optionalOn(req.On)
		return s.app.FileAdmittedList(ctx, m, req.MeetingID, on)
	})
}

// DutyList is the body of GET /v1/duties.
type DutyList struct {
	AsOf         calendar.Date      `json:"as_of"`
	Items        []projections.Duty `json:"items"`
	NextCursor   string             `json:"next_cursor,omitempty"`
	ReadPosition uint64             `json:"read_position"`
}

func (s *Server) duties(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	a := actorOf(c)
	q := query{c: c}
	f := projections.DutyFilter{Scope: scope(a), Kind: q.oneOf("kind", domain.DutyKinds), Party: q.oneOf("party", domain.DutyParties),
		Limit: q.intIn("limit", 1, 500, 50), AsOf: s.today()}
	switch q.oneOf("overdue", []string{"true", "false"}) {
	case "true":
		f.Overdue = ptr(true)
	case "false":
		f.Overdue = ptr(false)
	}
	if v := c.QueryParam("as_of"); v != "" {
		d, ok := q.ck.Date("as_of", v)
		if ok {
			f.AsOf = d
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	if f.After = c.QueryParam("cursor"); f.After != "" && !projections.ValidDutyCursor(f.After) {
		return domain.Invalid(map[string]string{"cursor": domain.MsgInvalidCursor})
	}
	if a.Role == domain.RoleBureau {
		f.OnlyKinds = []string{domain.DutyAdmittedList} // R-SOY-7: the filings it receives
	}
	ctx := c.Request().Context()
	cal, calErr := s.calendarFor(ctx, a)
	visitDue := func(received calendar.Date) (calendar.Date, bool) {
		if calErr != nil {
			return calendar.Date{}, false
		}
		due, err := domain.DueDate(cal, received)
		return due, err == nil
	}
	items, err := s.reader.Duties(ctx, f, visitDue)
	if err != nil {
		return err
	}
	out := DutyList{AsOf: f.AsOf, Items: items, ReadPosition: s.waiter.Position()}
	if len(items) == f.Limit {
		out.NextCursor = projections.DutyCursor(items[len(items)-1])
	}
	// No personal data (ids and aliases only): not in the access log,
	// like the home-visit queue.
	return c.JSON(http.StatusOK, out)
}

func ptr[T any](v T) *T { return &v }
