package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// capacity answers GET /v1/capacity[?on=YYYY-MM-DD] from the projected
// dated roster (R-CAP-1): the cap, seats held on that day (enrolled by
// then, admitted awaiting enrolment), free, and the waiting list in
// order. Without on: today. Without min_position the read waits (bounded)
// until the read model has every roster event, so a caller reads its own
// writes.
func (s *Server) capacity(c echo.Context) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	on := s.today()
	if raw := c.QueryParam("on"); raw != "" {
		d, err := calendar.ParseDate(raw)
		if err != nil || d.Year() < domain.MinCalendarYear || d.Year() > domain.MaxCalendarYear {
			return domain.Invalid(map[string]string{"on": "must be a date YYYY-MM-DD"})
		}
		on = d
	}
	if c.QueryParam("min_position") != "" || c.Request().Header.Get("X-Min-Position") != "" {
		if err := s.awaitPosition(c); err != nil {
			return err
		}
	} else if err := s.awaitRoster(c, a); err != nil {
		return err
	}
	capOf, err := s.app.BranchCap(a)
	if err != nil {
		return err
	}
	// Aliases only: no access record; kept as the list pages are
	// (bodycache.go), with the cap in the key: it is configured outside
	// the read models.
	return s.keptOrBuilt(c, bodyKey{route: "capacity", actor: a, day: on, outside: capOf}, func() (any, []string, bool, error) {
		ro, err := s.reader.RosterOn(ctx, branchOf(a), on)
		if err != nil {
			return nil, nil, false, err
		}
		cp := app.Capacity{Cap: capOf, On: on.String(), Held: ro.Held, Enrolled: ro.Enrolled, AdmittedAwaiting: ro.Held - ro.Enrolled,
			Free: max(0, capOf-ro.Held), Waiting: ro.Waiting}
		ids := make([]string, len(cp.Waiting))
		for i, w := range cp.Waiting {
			ids[i] = w.CaseID
		}
		briefs, err := s.reader.Briefs(ctx, ids)
		if err != nil {
			return nil, nil, false, err
		}
		out := CapacityView{Capacity: cp, Waiting: make([]WaitingView, 0, len(ids))}
		for i, w := range cp.Waiting {
			b := briefs[w.CaseID]
			b.ID, b.ApplicationPosition, b.Alias = w.CaseID, w.ApplicationPosition, domain.Alias(w.CaseID)
			out.Waiting = append(out.Waiting, WaitingView{Rank: i + 1, CaseBrief: b})
		}
		return out, nil, true, nil
	})
}

// awaitRoster waits, bounded, until the read models reflect the branch's
// roster stream.
func (s *Server) awaitRoster(c echo.Context, a events.Actor) error {
	pos, err := s.app.RosterPosition(c.Request().Context(), a)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.maxWait)
	defer cancel()
	got := s.waiter.Wait(ctx, pos)
	c.Response().Header().Set("X-Read-Position", strconv.FormatUint(got, 10))
	if got < pos {
		return domain.Errorf(domain.EUnavailable, "the read models have not reached the roster's position %d yet (at %d); retry shortly", pos, got)
	}
	return nil
}

// academicYearParam is the path's ROC academic year (checked by
// validPathParams).
func academicYearParam(c echo.Context) int {
	y, _ := strconv.Atoi(c.Param("academic_year"))
	return y
}

func (s *Server) rollOver(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := decodeCommand(body, &struct{}{}, true, s.today()); err != nil {
		return err
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	res, err := s.app.RollOver(c.Request().Context(), m, academicYearParam(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// ClassConfirmationRequest is the body of POST
// /v1/academic-years/{academic_year}/classes/confirmation: the changes to
// the roll-over's class proposal (none: confirm it as proposed).
type ClassConfirmationRequest struct {
	Changes []events.ClassAssignment `json:"changes,omitempty"`
}

func (r *ClassConfirmationRequest) validate(calendar.Date) error {
	var ck domain.Check
	if len(r.Changes) > domain.MaxListItems*100 {
		ck.Set("changes", "too many")
	}
	for i, ch := range r.Changes {
		if !domain.IsReferralID(ch.CaseID) {
			ck.Set("changes["+strconv.Itoa(i)+"].case_id", "must be a referral id")
		}
		if _, _, ok := domain.ParseClass(ch.Class); !ok {
			ck.Set("changes["+strconv.Itoa(i)+"].class", "must be a class such as \"8-1\" (R-CAP-2)")
		}
	}
	return ck.Err()
}

func (s *Server) confirmClasses(c echo.Context) error {
	return command(s, c, true, func(ctx context.Context, m appMeta, req ClassConfirmationRequest) (appResult, error) {
		return s.app.ConfirmClasses(ctx, m, academicYearParam(c), req.Changes)
	})
}

// MajorReasonRequest is the body of POST /v1/referrals/{id}/major-reason
// (R-EXCL-4): free text about the student, sealed.
type MajorReasonRequest struct {
	Reason string `json:"reason"`
}

func (r *MajorReasonRequest) validate(calendar.Date) error {
	return domain.ValidateMajorReason(r.Reason)
}

func (s *Server) majorReason(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req MajorReasonRequest) (appResult, error) {
		return s.app.RecordMajorReason(ctx, m, c.Param("id"), req.Reason)
	})
}
