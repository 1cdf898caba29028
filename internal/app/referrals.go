package app

import (
	"context"
	"errors"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// referral runs a command on an existing referral visible to the actor.
func (s *Service) referral(ctx context.Context, m Meta, id string, decide func(r *domain.Referral) ([]events.Event, error)) (Result, error) {
	return s.referralRun(ctx, m, id, true, decide)
}

// referralRun is referral, optimistic or on the server's state (run).
func (s *Service) referralRun(ctx context.Context, m Meta, id string, optimistic bool, decide func(r *domain.Referral) ([]events.Event, error)) (Result, error) {
	stream, err := s.referralStream(m, id)
	if err != nil {
		return Result{}, err
	}
	key := stream.Subject()
	return s.run(ctx, stream, m, optimistic, func(loaded events.Loaded) ([]events.Event, error) {
		r := s.referralFolds.fold(key, loaded)
		if !r.Exists() || !r.VisibleTo(m.Actor) {
			return nil, domain.Errorf(domain.ENotFound, "no such referral")
		}
		return decide(r)
	})
}

// SubmitDocument records a checklist item handed in by the origin school.
func (s *Service) SubmitDocument(ctx context.Context, m Meta, id string, item, pages int, issuedOn *calendar.Date, withDropoutFile bool) (Result, error) {
	return s.SubmitDocumentWith(ctx, m, id, item, pages, issuedOn, domain.Enclosures{DropoutFile: withDropoutFile})
}

// SubmitDocumentWith is SubmitDocument with every enclosure an item may
// carry (R-DOC-1: item 9's accident-insurance copy for mid-year).
func (s *Service) SubmitDocumentWith(ctx context.Context, m Meta, id string, item, pages int, issuedOn *calendar.Date, enc domain.Enclosures) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.SubmitDocumentWith(m.Actor, item, pages, issuedOn, enc, s.today())
		return []events.Event{e}, err
	})
}

// CheckDocument records a social worker's check of a checklist item.
func (s *Service) CheckDocument(ctx context.Context, m Meta, id string, item int, conforms bool, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.CheckDocument(m.Actor, item, conforms, sealed)
		return []events.Event{e}, err
	})
}

// seal seals text with the referral's person key; empty text stays empty.
func (s *Service) seal(ctx context.Context, r *domain.Referral, text string) (events.Sealed, error) {
	if text == "" {
		return events.Sealed{}, nil
	}
	sealed, err := s.Sealer.Seal(ctx, r.PersonKey, text)
	if errors.Is(err, events.ErrKeyDestroyed) {
		return sealed, domain.Errorf(domain.EConflict, "the student's personal data has been erased: notes can no longer be recorded")
	}
	return sealed, err
}

// sealIfAlive is seal for a reason that accompanies a step the process
// still needs for an erased student (a place released, a class joined):
// the step is recorded, the reason not (it could not be kept sealed).
func (s *Service) sealIfAlive(ctx context.Context, r *domain.Referral, text string) (events.Sealed, error) {
	if text == "" {
		return events.Sealed{}, nil
	}
	sealed, err := s.Sealer.Seal(ctx, r.PersonKey, text)
	if errors.Is(err, events.ErrKeyDestroyed) {
		return events.Sealed{}, nil
	}
	return sealed, err
}

// LogVisit records a home-visit contact, visit, interview or the finished
// assessment report (R-MID-4).
func (s *Service) LogVisit(ctx context.Context, m Meta, id, kind string, on calendar.Date, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.LogVisit(m.Actor, kind, on, s.today(), sealed)
		return []events.Event{e}, err
	})
}

// DecideFirstReview records the first review (R-SOY-3, R-MID-5).
func (s *Service) DecideFirstReview(ctx context.Context, m Meta, id, outcome, reasons string) (Result, error) {
	if err := domain.CheckNote("reasons", reasons); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, reasons)
		if err != nil {
			return nil, err
		}
		e, err := r.DecideFirstReview(m.Actor, outcome, sealed, reasons != "", s.today(), "")
		return []events.Event{e}, err
	})
}

func (s *Service) today() calendar.Date { return calendar.DateOf(s.now(), domain.Taipei) }

// unchanged is returned by a decision that finds its effect already
// recorded: execute answers res and appends nothing.
type unchanged struct{ res Result }

func (unchanged) Error() string { return "already recorded" }

// ErasePerson destroys the student's data key, erasing the person from the
// immutable log and from every case's read model, and records it. The key
// is destroyed before the event is appended: if the append fails, the data
// is erased all the same and a retry records it.
//
// The key is destroyed on the server's state of the case, never on a
// cached one (issue 13): the destruction cannot be undone if the append
// then conflicts.
func (s *Service) ErasePerson(ctx context.Context, m Meta, id, reason string) (Result, error) {
	return s.referralRun(ctx, m, id, false, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.Erase(m.Actor, reason)
		if err != nil {
			return nil, err
		}
		if r.Erased != nil {
			// Issue 12: erasing again changes nothing and records nothing;
			// the answer is the first erasure's (an idempotent command).
			return nil, unchanged{Result{ID: r.ID, Version: r.Erased.Version, Position: r.Erased.Position}}
		}
		if err := s.Sealer.Erase(ctx, r.PersonKey); err != nil {
			return nil, err
		}
		return []events.Event{e}, nil
	})
}

// referralStream is the stream of referral id in the actor's branch; an id
// that cannot be a referral's is not found.
func (s *Service) referralStream(m Meta, id string) (events.StreamID, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return events.StreamID{}, err
	}
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateReferral, ID: id}
	if !domain.IsReferralID(id) || stream.Validate() != nil {
		return events.StreamID{}, domain.Errorf(domain.ENotFound, "no such referral")
	}
	return stream, nil
}
