package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/logsafe"
)

// windowOf returns the application window of a referral's route and
// academic year, and the branch's office calendar, which extends a window
// ending on a day off (R-SOY-2, R-MID-1).
func (s *Service) windowOf(ctx context.Context, a events.Actor, r *domain.Referral) (domain.Window, *calendar.Calendar, error) {
	b, err := s.branch(a)
	if err != nil {
		return domain.Window{}, nil, err
	}
	cal, err := s.Calendar(ctx, b.Code)
	if err != nil {
		return domain.Window{}, nil, err
	}
	return b.Window(r.Route, r.AcademicYear), cal, nil
}

// ReturnApplication returns an incomplete application (退件, R-MID-3) with
// a letter naming what is missing and the window's last day.
func (s *Service) ReturnApplication(ctx context.Context, m Meta, id, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		w, cal, err := s.windowOf(ctx, m.Actor, r)
		if err != nil {
			return nil, err
		}
		last, err := w.LastDay(cal)
		if err != nil {
			return nil, err
		}
		if _, err := r.ReturnApplication(m.Actor, events.Sealed{}, last, s.today()); err != nil {
			return nil, err // refused before anything is sealed
		}
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.ReturnApplication(m.Actor, sealed, last, s.today())
		return []events.Event{e}, err
	})
}

// Resubmit records the re-submission of a returned application, inside
// its window (R-MID-3).
func (s *Service) Resubmit(ctx context.Context, m Meta, id string) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		w, cal, err := s.windowOf(ctx, m.Actor, r)
		if err != nil {
			return nil, err
		}
		e, err := r.Resubmit(m.Actor, s.now(), w, cal)
		return []events.Event{e}, err
	})
}

// AcceptIncomplete accepts an application missing documents for a special
// reason, sealed with the student's key, recording the items still owed
// (R-ELIG-4).
func (s *Service) AcceptIncomplete(ctx context.Context, m Meta, id, reason string, owed []int) (Result, error) {
	if err := domain.ValidateAcceptance(reason, owed); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		if _, err := r.AcceptIncomplete(m.Actor, events.Sealed{}, true, owed, s.today()); err != nil {
			return nil, err // refused before anything is sealed
		}
		sealed, err := s.seal(ctx, r, reason)
		if err != nil {
			return nil, err
		}
		e, err := r.AcceptIncomplete(m.Actor, sealed, true, owed, s.today())
		return []events.Event{e}, err
	})
}

// LapseReturned closes a returned application whose window has ended
// without a re-submission (R-MID-3). It appends nothing when there is
// nothing to do, so running it again is harmless; lapsed reports whether
// it recorded the lapse.
func (s *Service) LapseReturned(ctx context.Context, m Meta, id string) (res Result, lapsed bool, err error) {
	res, err = s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		w, cal, err := s.windowOf(ctx, m.Actor, r)
		if err != nil {
			return nil, err
		}
		last, err := w.LastDay(cal)
		if err != nil {
			return nil, err
		}
		e, ok, err := r.Lapse(m.Actor, last, s.today())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, unchanged{Result{ID: r.ID, Version: r.Version, Position: r.LastSeq}}
		}
		lapsed = true
		return []events.Event{e}, nil
	})
	return res, lapsed && err == nil, err
}

// ReturnedSource lists the returned cases waiting for a re-submission
// (projections.Reader).
type ReturnedSource interface {
	ReturnedCases(ctx context.Context) ([]domain.CaseRef, error)
}

// LapseJob closes the returned applications not re-submitted by the end
// of their window (R-MID-3 Decision), each by LapseReturned. Idempotent: a
// lapsed case leaves the source, and the command itself appends nothing
// for a case that is not returned or whose window is open.
type LapseJob struct {
	App    *Service
	Source ReturnedSource
	// Interval between runs (Run); the first run is at start.
	Interval time.Duration
	// CaughtUp, when set, returns an error unless the read models reflect
	// every event recorded so far.
	CaughtUp func(ctx context.Context) error
	Log      *slog.Logger
}

// RunOnce lapses every returned application whose window has ended and
// returns how many it closed.
func (j *LapseJob) RunOnce(ctx context.Context) (int, error) {
	if j.CaughtUp != nil {
		if err := j.CaughtUp(ctx); err != nil {
			return 0, err
		}
	}
	cases, err := j.Source.ReturnedCases(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var firstErr error
	for _, c := range cases {
		m := Meta{Actor: events.Actor{Role: events.RoleSystem, Branch: c.Branch, UserID: "lapse-job"}}
		_, lapsed, err := j.App.LapseReturned(ctx, m, c.ID)
		if err != nil {
			var de *domain.Error
			if errors.As(err, &de) && de.Code == domain.ENotFound {
				continue
			}
			// One case's failure does not stop the others.
			j.log().Error("lapse failed", "case", c.ID, "err", logsafe.Err(err))
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if lapsed {
			j.log().Info("returned application lapsed", "case", c.ID)
			n++
		}
	}
	return n, firstErr
}

// Run runs the job at start and then every Interval until ctx is done.
func (j *LapseJob) Run(ctx context.Context) {
	runEvery(ctx, j.Interval, time.Hour, j.log(), "lapse", j.RunOnce)
}

func (j *LapseJob) log() *slog.Logger { return orDiscard(j.Log) }
