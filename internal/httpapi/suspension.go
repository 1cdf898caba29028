package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// The 中止就讀 procedure (R-SUS-2) and adaptation meetings (R-ENR-4): each
// handler decodes its body and answers; the rules are the domain's.

func parseOn(on string) (calendar.Date, error) {
	d, err := calendar.ParseDate(on)
	if err != nil {
		return d, domain.Invalid(map[string]string{"on": "must be a date YYYY-MM-DD"})
	}
	return d, nil
}

// AdaptationMeetingRequest is the body of POST
// /v1/referrals/{id}/adaptation-meetings.
type AdaptationMeetingRequest struct {
	On      string `json:"on"`
	Outcome string `json:"outcome"`
	// Grounds (R-SUS-1, 1–6) of the procedure a propose_end opens.
	Grounds []int  `json:"grounds,omitempty"`
	Notes   string `json:"notes,omitempty"`
}

func (r *AdaptationMeetingRequest) validate(today calendar.Date) error {
	on, err := parseOn(r.On)
	if err != nil {
		return err
	}
	if err := domain.ValidateAdaptationMeeting(on, r.Outcome, r.Grounds, today); err != nil {
		return err
	}
	return domain.CheckNote("notes", r.Notes)
}

func (s *Server) adaptationMeeting(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req AdaptationMeetingRequest) (appResult, error) {
		on, err := parseOn(req.On)
		if err != nil {
			return appResult{}, err
		}
		return s.app.HoldAdaptationMeeting(ctx, m, c.Param("id"), on, req.Outcome, req.Grounds, req.Notes)
	})
}

// SuspensionRequest is the body of POST /v1/referrals/{id}/suspension.
type SuspensionRequest struct {
	Grounds []int  `json:"grounds"`
	On      string `json:"on"`
	Note    string `json:"note,omitempty"`
}

func (r *SuspensionRequest) validate(today calendar.Date) error {
	on, err := parseOn(r.On)
	if err != nil {
		return err
	}
	if err := domain.ValidateGrounds("grounds", r.Grounds); err != nil {
		return err
	}
	if err := domain.ValidateDated("on", on, today); err != nil {
		return err
	}
	return domain.CheckNote("note", r.Note)
}

func (s *Server) openSuspension(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req SuspensionRequest) (appResult, error) {
		on, err := parseOn(req.On)
		if err != nil {
			return appResult{}, err
		}
		return s.app.OpenSuspension(ctx, m, c.Param("id"), req.Grounds, on, req.Note)
	})
}

// SuspensionVisitRequest is the body of POST
// /v1/referrals/{id}/suspension/visits.
type SuspensionVisitRequest struct {
	Kind string `json:"kind"` // home | origin_school
	On   string `json:"on"`
	Note string `json:"note,omitempty"`
}

func (r *SuspensionVisitRequest) validate(today calendar.Date) error {
	on, err := parseOn(r.On)
	if err != nil {
		return err
	}
	if err := domain.ValidateSuspensionVisit(r.Kind, on, today); err != nil {
		return err
	}
	return domain.CheckNote("note", r.Note)
}

func (s *Server) suspensionVisit(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req SuspensionVisitRequest) (appResult, error) {
		on, err := parseOn(req.On)
		if err != nil {
			return appResult{}, err
		}
		return s.app.LogSuspensionVisit(ctx, m, c.Param("id"), req.Kind, on, req.Note)
	})
}

// SuspensionReportRequest is the body of POST
// /v1/referrals/{id}/suspension/report.
type SuspensionReportRequest struct {
	On     string `json:"on"`
	Report string `json:"report,omitempty"`
}

func (r *SuspensionReportRequest) validate(today calendar.Date) error {
	on, err := parseOn(r.On)
	if err != nil {
		return err
	}
	if err := domain.ValidateDated("on", on, today); err != nil {
		return err
	}
	return domain.CheckNote("report", r.Report)
}

func (s *Server) suspensionReport(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req SuspensionReportRequest) (appResult, error) {
		on, err := parseOn(req.On)
		if err != nil {
			return appResult{}, err
		}
		return s.app.SendSuspensionReport(ctx, m, c.Param("id"), on, req.Report)
	})
}

// openSuspensionNotes opens the procedure's notes and the adaptation
// meetings' notes for social workers (and the export); for anyone else
// they stay sealed and are never shown (R-DOC-2).
func (s *Server) openSuspensionNotes(ctx context.Context, c *projections.Case, notes bool) error {
	var err error
	for i := range c.SuspensionLog {
		l := &c.SuspensionLog[i]
		l.Note = nil
		if notes {
			if l.Note, err = s.openNote(ctx, l.SealedNote); err != nil {
				return err
			}
		}
	}
	for i := range c.AdaptationMeetings {
		m := &c.AdaptationMeetings[i]
		m.Notes = nil
		if notes {
			if m.Notes, err = s.openNote(ctx, m.SealedNotes); err != nil {
				return err
			}
		}
	}
	return nil
}
