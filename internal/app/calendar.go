package app

import (
	"context"
	"io"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

func calendarStream(branch string) events.StreamID {
	return events.StreamID{Branch: branch, Type: events.AggregateCalendar}
}

// Calendar returns the branch's working-day calendar: the built-in table,
// imported years and recorded closures.
//
// The built calendar is kept per branch with the calendar stream's
// version it was built from (the load still checks the stream, so an
// import or a closure is seen at once); a calendar is never changed once
// built.
func (s *Service) Calendar(ctx context.Context, branch string) (*calendar.Calendar, error) {
	l, err := s.Store.Load(ctx, calendarStream(branch))
	if err != nil {
		return nil, storeError(err)
	}
	if v, ok := s.calendars.Load(branch); ok {
		if b := v.(builtCalendar); b.version == l.Version && b.lastSeq == l.LastSeq {
			return b.cal, nil
		}
	}
	var c domain.OfficeCalendar
	for _, env := range l.Events {
		c.Apply(env)
	}
	cal := c.Calendar()
	s.calendars.Store(branch, builtCalendar{version: l.Version, lastSeq: l.LastSeq, cal: cal})
	return cal, nil
}

// builtCalendar is a branch's calendar as built from its stream's version.
type builtCalendar struct {
	version, lastSeq uint64
	cal              *calendar.Calendar
}

// ImportCalendar imports (or re-imports) one year's official office
// calendar file; open due dates follow it. An imported year is official:
// it replaces a provisional built-in year (issue 12). bin/api calendar
// import runs this too.
func (s *Service) ImportCalendar(ctx context.Context, m Meta, year int, body io.Reader) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	e, err := domain.ImportCalendarYear(m.Actor, year, body)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, calendarStream(b.Code), m, func(events.Loaded) ([]events.Event, error) {
		return []events.Event{e}, nil
	})
}

// CloseOffice records an ad-hoc office closure (typhoon day).
func (s *Service) CloseOffice(ctx context.Context, m Meta, d calendar.Date, reason string) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	res, err := s.execute(ctx, calendarStream(b.Code), m, func(l events.Loaded) ([]events.Event, error) {
		var c domain.OfficeCalendar
		for _, env := range l.Events {
			c.Apply(env)
		}
		e, err := c.CloseOffice(m.Actor, d, reason)
		return []events.Event{e}, err
	})
	if err != nil {
		return Result{}, err
	}
	// Issue 12: a closure is named by its date (a branch closes a day
	// once), not by its stream, which has no id.
	res.ID = d.String()
	return res, nil
}
