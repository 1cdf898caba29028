package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/projections"
)

// Export is the body of GET /v1/referrals/{id}/export: everything the
// system holds on the student of one case, for a data subject's request
// (PDPA §3, §10): the case with its personal data opened, the checklist
// with the social workers' notes, the home-visit log, the letters, and the
// timeline.
type Export struct {
	ReferralView
	VisitLog   []projections.VisitEntry    `json:"visit_log"`
	Timeline   []projections.TimelineEntry `json:"timeline"`
	ExportedAt time.Time                   `json:"exported_at"`
}

func (s *Server) export(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	cs, err := s.reader.Case(ctx, c.Param("id"), scope(a), true)
	if err != nil {
		return err
	}
	if err := s.openEverything(ctx, &cs); err != nil {
		return err
	}
	tl, err := s.reader.Timeline(ctx, cs.ID)
	if err != nil {
		return err
	}
	cal, calErr := s.calendarFor(ctx, a)
	out := Export{ReferralView: s.view(cs, cal, calErr, a), VisitLog: cs.Visits, Timeline: tl, ExportedAt: s.app.Clock.Now().UTC()}
	if out.VisitLog == nil {
		out.VisitLog = []projections.VisitEntry{}
	}
	out.ReadPosition = s.waiter.Position()
	if err := s.recordAccess(c, cs.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
