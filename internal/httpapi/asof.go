package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// A case as of any date (issue 11): GET /v1/referrals/{id}?as_of=D and
// GET /v1/referrals/{id}/events?until=D fold the case's own events that
// occurred by the end of day D (Asia/Taipei) with the projector's own
// code and answer with the same shape as today's read, under the same
// access rules and sealing.

// detail builds the case detail from cs read through rd, what depends on
// the date counted on day.
func (s *Server) detail(ctx context.Context, rd *projections.Reader, cs projections.Case, a events.Actor, day calendar.Date) (ReferralView, error) {
	if err := s.openCase(ctx, &cs, a); err != nil {
		return ReferralView{}, err
	}
	cal, calErr := s.calendarFor(ctx, a)
	v := s.viewOn(cs, cal, calErr, a, day)
	if err := s.addDropoutsOn(ctx, rd, &v, day); err != nil {
		return ReferralView{}, err
	}
	return v, nil
}

// dateParam parses a required date query parameter.
func dateParam(c echo.Context, name string) (calendar.Date, error) {
	var ck domain.Check
	d, ok := ck.Date(name, c.QueryParam(name))
	if !ok {
		return d, ck.Err()
	}
	return d, nil
}

// eventsUntil returns the case's own events that occurred by the end of
// day (Taipei), after checking the caller may see the case today: another
// school's case, or one not yet filed by then, is not found.
func (s *Server) eventsUntil(c echo.Context, day calendar.Date) ([]events.Envelope, error) {
	ctx := c.Request().Context()
	id := c.Param("id")
	today, err := s.reader.Case(ctx, id, scope(actorOf(c)), false)
	if err != nil {
		return nil, err
	}
	l, err := s.app.Store.Load(ctx, events.StreamID{Branch: today.Branch, Type: events.AggregateReferral, ID: id})
	if err != nil {
		return nil, err
	}
	end := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, domain.Taipei).AddDate(0, 0, 1)
	var out []events.Envelope
	for _, env := range l.Events {
		if env.OccurredAt.Before(end) {
			out = append(out, env)
		}
	}
	if len(out) == 0 {
		return nil, domain.Errorf(domain.ENotFound, "no such referral on that date")
	}
	return out, nil
}

func (s *Server) getReferralAsOf(c echo.Context) error {
	day, err := dateParam(c, "as_of")
	if err != nil {
		return err
	}
	envs, err := s.eventsUntil(c, day)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a := actorOf(c)
	var v ReferralView
	err = s.reader.AsOf(ctx, envs, func(rd *projections.Reader) error {
		cs, err := rd.Case(ctx, c.Param("id"), scope(a), seesPersonal(a))
		if err != nil {
			return err
		}
		v, err = s.detail(ctx, rd, cs, a, day)
		return err
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(v.Version, 10)+`"`)
	v.ReadPosition = s.waiter.Position()
	if err := s.recordAccess(c, v.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) referralEventsUntil(c echo.Context) error {
	day, err := dateParam(c, "until")
	if err != nil {
		return err
	}
	envs, err := s.eventsUntil(c, day)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var evs []projections.TimelineEntry
	err = s.reader.AsOf(ctx, envs, func(rd *projections.Reader) error {
		evs, err = rd.Timeline(ctx, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Timeline{ID: c.Param("id"), Events: evs, ReadPosition: s.waiter.Position()})
}
