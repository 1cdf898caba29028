package app

import (
	"context"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// ScoreSheet is what a reviewer fills in (R-AWD-1).
type ScoreSheet struct {
	AcademicYear int
	Ratings      map[string]int
	Reviewer     string
	Comments     string
}

// scoreSheetStream is the stream of a score sheet of the actor's branch.
func (s *Service) scoreSheetStream(m Meta, id string) (events.StreamID, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return events.StreamID{}, err
	}
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateScoreSheet, ID: id}
	if !domain.IsScoreSheetID(id) || stream.Validate() != nil {
		return stream, domain.Errorf(domain.ENotFound, "no such score sheet")
	}
	return stream, nil
}

// FillScoreSheet records a new score sheet. The reviewer's name and the
// comments are sealed with a fresh data key of the sheet's own: they are
// about a person, never about a student, and can be erased with the key.
func (s *Service) FillScoreSheet(ctx context.Context, m Meta, sh ScoreSheet) (Result, error) {
	if m.Actor.Role != domain.RoleBureau {
		return Result{}, domain.Errorf(domain.EForbidden, "score sheets are filled in by the bureau's reviewers")
	}
	if !domain.ValidAcademicYear(sh.AcademicYear) {
		return Result{}, domain.Invalid(map[string]string{"academic_year": "must be an ROC academic year such as 114"})
	}
	if err := domain.ValidateScoreSheet(sh.Ratings, sh.Reviewer, sh.Comments); err != nil {
		return Result{}, err
	}
	stream, err := s.scoreSheetStream(m, newID("s", m))
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, stream, m, func(l events.Loaded) ([]events.Event, error) {
		if l.Version > 0 {
			return nil, domain.Errorf(domain.EConflict, "the score sheet exists already")
		}
		reviewer, comments, err := s.sealSheet(ctx, events.NewKeyID(), sh)
		if err != nil {
			return nil, err
		}
		_, total := domain.AwardScore(sh.Ratings)
		return []events.Event{events.ScoreSheetFilled{AcademicYear: sh.AcademicYear, Ratings: sh.Ratings, Total: total,
			Reviewer: reviewer, Comments: comments}}, nil
	})
}

// CorrectScoreSheet supersedes a sheet's ratings, reviewer and comments;
// the academic year stays. The earlier version stays in the log.
func (s *Service) CorrectScoreSheet(ctx context.Context, m Meta, id string, sh ScoreSheet) (Result, error) {
	if m.Actor.Role != domain.RoleBureau {
		return Result{}, domain.Errorf(domain.EForbidden, "score sheets are corrected by the bureau's reviewers")
	}
	stream, err := s.scoreSheetStream(m, id)
	if err != nil {
		return Result{}, err
	}
	if err := domain.ValidateScoreSheet(sh.Ratings, sh.Reviewer, sh.Comments); err != nil {
		return Result{}, err
	}
	return s.execute(ctx, stream, m, func(l events.Loaded) ([]events.Event, error) {
		keyID := ""
		for _, env := range l.Events {
			if f, ok := env.Payload.(events.ScoreSheetFilled); ok {
				keyID = f.Reviewer.KeyID
			}
		}
		if keyID == "" {
			return nil, domain.Errorf(domain.ENotFound, "no such score sheet")
		}
		reviewer, comments, err := s.sealSheet(ctx, keyID, sh)
		if err != nil {
			return nil, err
		}
		_, total := domain.AwardScore(sh.Ratings)
		return []events.Event{events.ScoreSheetCorrected{Ratings: sh.Ratings, Total: total, Reviewer: reviewer, Comments: comments}}, nil
	})
}

func (s *Service) sealSheet(ctx context.Context, keyID string, sh ScoreSheet) (events.Sealed, events.Sealed, error) {
	reviewer, err := s.Sealer.Seal(ctx, keyID, sh.Reviewer)
	if err != nil {
		return events.Sealed{}, events.Sealed{}, err
	}
	if sh.Comments == "" {
		return reviewer, events.Sealed{}, nil
	}
	comments, err := s.Sealer.Seal(ctx, keyID, sh.Comments)
	return reviewer, comments, err
}
