package app

import (
	"context"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// OpenReferral files a referral.
func (s *Service) OpenReferral(ctx context.Context, m Meta, c domain.OpenReferral) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	c.Branch, c.Actor, c.Now = b, m.Actor, s.now()
	c.ReferralID = newID("r", m)
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateReferral, ID: c.ReferralID}
	return s.execute(ctx, stream, m, func(loaded events.Loaded) ([]events.Event, error) {
		if loaded.Version > 0 {
			return nil, domain.Errorf(domain.EConflict, "the referral already exists")
		}
		e, err := domain.Open(ctx, s.Sealer, c)
		if err != nil {
			return nil, err
		}
		return []events.Event{e}, nil
	})
}

// referral runs a command on an existing referral visible to the actor.
func (s *Service) referral(ctx context.Context, m Meta, id string, decide func(r *domain.Referral) ([]events.Event, error)) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateReferral, ID: id}
	if stream.Validate() != nil {
		return Result{}, domain.Errorf(domain.ENotFound, "no such referral")
	}
	return s.execute(ctx, stream, m, func(loaded events.Loaded) ([]events.Event, error) {
		var r domain.Referral
		for _, env := range loaded.Events {
			r.Apply(env)
		}
		if !r.Exists() || !r.VisibleTo(m.Actor) {
			return nil, domain.Errorf(domain.ENotFound, "no such referral")
		}
		return decide(&r)
	})
}

// SubmitDocument records a checklist item handed in by the origin school.
func (s *Service) SubmitDocument(ctx context.Context, m Meta, id string, item, pages int, issuedOn *calendar.Date) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.SubmitDocument(m.Actor, item, pages, issuedOn)
		return []events.Event{e}, err
	})
}

// CheckDocument records a social worker's check of a checklist item.
func (s *Service) CheckDocument(ctx context.Context, m Meta, id string, item int, conforms bool, note string) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		var sealed events.Sealed
		if note != "" {
			var err error
			if sealed, err = s.Sealer.Seal(ctx, r.PersonKey, note); err != nil {
				return nil, err
			}
		}
		e, err := r.CheckDocument(m.Actor, item, conforms, sealed)
		return []events.Event{e}, err
	})
}
