package app

import (
	"context"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// OpenDropout opens a dropout episode of an enrolled student and writes
// the letter to the origin school (R-ORG-4). The note is sealed with the
// student's key. It returns the episode's number, also for a retry that
// replays the first result.
func (s *Service) OpenDropout(ctx context.Context, m Meta, id string, o domain.OpenDropout, note string) (Result, int, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, 0, err
	}
	res, err := s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		// Rules first: no note is sealed for a command that is refused.
		if _, err := r.OpenDropout(m.Actor, o, events.Sealed{}, s.today()); err != nil {
			return nil, err
		}
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.OpenDropout(m.Actor, o, sealed, s.today())
		return []events.Event{e}, err
	})
	if err != nil {
		return res, 0, err
	}
	stream, err := s.referralStream(m, id)
	if err != nil {
		return res, 0, err
	}
	loaded, err := s.Store.Load(ctx, stream)
	if err != nil {
		return res, 0, storeError(err)
	}
	n := 0
	for _, env := range loaded.Events {
		if env.Version > res.Version {
			break
		}
		if e, ok := env.Payload.(events.DropoutOpened); ok {
			n = e.Episode
		}
	}
	return res, n, nil
}

// ReportDropout records the origin school's national dropout report for
// episode n (R-ORG-4).
func (s *Service) ReportDropout(ctx context.Context, m Meta, id string, n int, on calendar.Date) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.ReportDropout(m.Actor, n, on, s.today())
		return []events.Event{e}, err
	})
}

// LogDropoutFollowUp records a follow-up, search or counselling of
// episode n by the actor's school (R-ORG-4); the note is sealed.
func (s *Service) LogDropoutFollowUp(ctx context.Context, m Meta, id string, n int, kind string, on calendar.Date, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		if _, err := r.LogDropoutFollowUp(m.Actor, n, kind, on, events.Sealed{}, s.today()); err != nil {
			return nil, err
		}
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.LogDropoutFollowUp(m.Actor, n, kind, on, sealed, s.today())
		return []events.Event{e}, err
	})
}

// FindDropout records that the whereabouts-unknown student of episode n
// was found.
func (s *Service) FindDropout(ctx context.Context, m Meta, id string, n int, on calendar.Date) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.FindDropout(m.Actor, n, on, s.today())
		return []events.Event{e}, err
	})
}

// ReturnDropout records the student's return to school (復學).
func (s *Service) ReturnDropout(ctx context.Context, m Meta, id string, n int, on calendar.Date) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.ReturnDropout(m.Actor, n, on, s.today())
		return []events.Event{e}, err
	})
}

// CloseDropout ends episode n's follow-up.
func (s *Service) CloseDropout(ctx context.Context, m Meta, id string, n int, on calendar.Date, outcome string) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.CloseDropout(m.Actor, n, on, outcome, s.today())
		return []events.Event{e}, err
	})
}

// RecordGround records a suspension ground (1), (2), (3) or (6) of
// R-SUS-1 with its evidence, sealed with the student's key.
func (s *Service) RecordGround(ctx context.Context, m Meta, id string, ground int, on calendar.Date, evidence string) (Result, error) {
	if err := domain.CheckNote("evidence", evidence); err != nil {
		return Result{}, err
	}
	has := strings.TrimSpace(evidence) != ""
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		if _, err := r.RecordGround(m.Actor, ground, on, events.Sealed{}, has, s.today()); err != nil {
			return nil, err
		}
		sealed, err := s.seal(ctx, r, evidence)
		if err != nil {
			return nil, err
		}
		e, err := r.RecordGround(m.Actor, ground, on, sealed, has, s.today())
		return []events.Event{e}, err
	})
}
