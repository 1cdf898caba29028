package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"cihui/internal/app"
	"cihui/internal/domain"
)

// RetentionDue is one case whose retention has ended (學生輔導法施行細則
// §10).
type RetentionDue struct {
	CaseID       string  `json:"case_id"`
	Stage        string  `json:"stage"`
	ClosedOn     string  `json:"closed_on"`
	RetentionEnd string  `json:"retention_end"`
	OnHold       bool    `json:"on_hold"`
	HoldReason   *string `json:"hold_reason,omitempty"`
	// PersonDue: every case of the student is past retention and none is
	// held, so the retention job erases the student.
	PersonDue bool `json:"person_due"`
}

// retentionDue serves GET /v1/retention/due to admins.
func (s *Server) retentionDue(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	rows, err := s.reader.RetentionCases(c.Request().Context())
	if err != nil {
		return err
	}
	today := s.today()
	facts := make([]domain.RetentionFacts, len(rows))
	for i, r := range rows {
		facts[i] = r.RetentionFacts
	}
	due := map[string]bool{}
	for _, f := range app.DuePeople(facts, today) {
		due[f.PersonKey] = true
	}
	out := []RetentionDue{}
	for _, r := range rows {
		if !domain.RetentionDue(r.RetentionFacts, today) {
			continue
		}
		closed := domain.ClosedOn(r.RetentionFacts)
		out = append(out, RetentionDue{CaseID: r.CaseID, Stage: string(r.Stage), ClosedOn: closed.String(),
			RetentionEnd: domain.RetentionEnd(closed).String(), OnHold: r.OnHold, HoldReason: r.HoldReason, PersonDue: due[r.PersonKey]})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out, "today": today.String(), "read_position": s.waiter.Position()})
}

// LegalHoldRequest is the body of POST /v1/referrals/{id}/legal-hold: a
// reason category and, optionally, a note (sealed: it may name people).
type LegalHoldRequest struct {
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

func (s *Server) placeLegalHold(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req LegalHoldRequest) (appResult, error) {
		if len(req.Note) > 2000 {
			return appResult{}, domain.Invalid(map[string]string{"note": "at most 2000 bytes"})
		}
		return s.app.PlaceLegalHold(ctx, m, c.Param("id"), req.Reason, req.Note)
	})
}

func (s *Server) liftLegalHold(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, _ struct{}) (appResult, error) {
		return s.app.LiftLegalHold(ctx, m, c.Param("id"))
	})
}
