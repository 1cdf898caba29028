package app

import (
	"context"
	"errors"
	"slices"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// PersonCaseIndex lists the referrals of a person at a branch as the read
// models know them (projections.Reader). It only finds candidates among
// referrals filed before person streams were kept; each is verified
// against its own stream in the log.
type PersonCaseIndex interface {
	PersonCaseIDs(ctx context.Context, branch, personKey string) ([]string, error)
}

// maxFilingAttempts bounds how often a filing is decided again after a
// concurrent filing of the same student (or the same request) won.
const maxFilingAttempts = 8

// OpenReferral files a referral. One student holds at most one place
// (R-CAP-1): the filing is appended, in one atomic batch, with an entry on
// the student's person stream (cihui.<branch>.person.<person key>) under
// that stream's expected last sequence. So of two concurrent filings of
// one student exactly one is decided on a person stream that has not
// moved; the other is decided again and sees the first. The same school
// filing a student with an open referral at the branch is a conflict; a
// filing by another school is accepted and flagged to the branch's social
// workers as a possible duplicate, and its answer is the same as any
// other filing's.
func (s *Service) OpenReferral(ctx context.Context, m Meta, c domain.OpenReferral) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	c.Branch, c.Actor, c.Now = b, m.Actor, s.now()
	// A window ending on a day off runs to the next working day (R-SOY-2,
	// R-MID-1).
	if c.Calendar, err = s.Calendar(ctx, b.Code); err != nil {
		return Result{}, err
	}
	c.ReferralID = newID("r", m)
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateReferral, ID: c.ReferralID}
	var opened *events.ReferralOpened
	for range maxFilingAttempts {
		loaded, err := s.Store.Load(ctx, stream)
		if err != nil {
			return Result{}, storeError(err)
		}
		// A retry of the same request (Idempotency-Key) answers the first
		// result, before any rule: it is not a second filing.
		if res, ok, err := replay(loaded, stream.ID, m); ok || err != nil {
			return res, err
		}
		if loaded.Version > 0 {
			return Result{}, precondition(m, loaded.Version, domain.Errorf(domain.EConflict, "the referral already exists"))
		}
		if opened == nil {
			e, err := domain.Open(ctx, s.Sealer, c)
			if err := precondition(m, loaded.Version, err); err != nil {
				return Result{}, err
			}
			opened = &e
		}
		person := events.StreamID{Branch: b.Code, Type: events.AggregatePerson, ID: opened.PersonKey}
		if err := person.Validate(); err != nil {
			return Result{}, err
		}
		pl, err := s.Store.Load(ctx, person)
		if err != nil {
			return Result{}, storeError(err)
		}
		dups, err := s.duplicates(ctx, b.Code, pl, opened)
		if err != nil {
			return Result{}, err
		}
		// The person's entry first, the referral last: the answer's
		// position is the referral's own, its application time (R-SOY-5),
		// and covers both.
		envs, err := s.append(ctx,
			events.Append{Stream: person, ExpectedSeq: pl.LastSeq, ExpectedVersion: pl.Version, Meta: s.metadata(m),
				Events: []events.Event{events.PersonReferred{ReferralID: c.ReferralID, OriginSchool: opened.OriginSchool, PossibleDuplicateOf: dups}}},
			events.Append{Stream: stream, ExpectedSeq: loaded.LastSeq, ExpectedVersion: loaded.Version, Meta: s.metadata(m),
				Events: []events.Event{*opened}})
		if errors.Is(err, events.ErrConflict) {
			continue // decided on a stale person stream or a concurrent retry: decide again
		}
		if err != nil {
			return Result{}, storeError(err)
		}
		last := envs[len(envs)-1]
		return Result{ID: stream.ID, Version: last.Version, Position: last.Position}, nil
	}
	return Result{}, domain.Errorf(domain.EConflict, "the student's referrals changed while the filing ran; try again")
}

// duplicates folds the student's other referrals at the branch — those on
// the person stream, and those the read models know from before person
// streams were kept — each from its own stream, and applies R-CAP-1.
func (s *Service) duplicates(ctx context.Context, branch string, pl events.Loaded, opened *events.ReferralOpened) ([]string, error) {
	var p domain.PersonReferrals
	for _, env := range pl.Events {
		p.Apply(env)
	}
	ids := p.Cases
	if s.PersonCases != nil {
		legacy, err := s.PersonCases.PersonCaseIDs(ctx, branch, opened.PersonKey)
		if err != nil {
			return nil, domain.Errorf(domain.EUnavailable, "the read models are unavailable")
		}
		for _, id := range legacy {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	others := make([]*domain.Referral, 0, len(ids))
	for _, id := range ids {
		if id == opened.ReferralID || !domain.IsReferralID(id) {
			continue
		}
		loaded, err := s.Store.Load(ctx, events.StreamID{Branch: branch, Type: events.AggregateReferral, ID: id})
		if err != nil {
			return nil, storeError(err)
		}
		r := &domain.Referral{}
		for _, env := range loaded.Events {
			r.Apply(env)
		}
		if r.Exists() && r.PersonKey == opened.PersonKey {
			others = append(others, r)
		}
	}
	return domain.CheckDuplicate(opened.OriginSchool, others, s.today())
}

// CorrectCategories corrects the referral's statistical categories
// (R-STAT-2, issue 11); a correction that changes nothing records nothing
// and answers the referral's current version.
func (s *Service) CorrectCategories(ctx context.Context, m Meta, id string, patch domain.Categories) (Result, error) {
	if err := domain.ValidateCategories(patch); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, changed, err := r.CorrectCategories(m.Actor, patch)
		if err != nil {
			return nil, err
		}
		if !changed {
			return nil, unchanged{Result{ID: r.ID, Version: r.Version, Position: r.LastSeq}}
		}
		return []events.Event{e}, nil
	})
}
