package app

import (
	"context"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// HoldAdaptationMeeting records an adaptation meeting (R-ENR-4); a
// propose_end outcome opens the suspension procedure in the same append.
// The notes are sealed with the student's key.
func (s *Service) HoldAdaptationMeeting(ctx context.Context, m Meta, id string, on calendar.Date, outcome string, grounds []int, notes string) (Result, error) {
	if err := domain.CheckNote("notes", notes); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, notes)
		if err != nil {
			return nil, err
		}
		return r.HoldAdaptationMeeting(m.Actor, on, outcome, grounds, sealed, s.today())
	})
}

// OpenSuspension opens the 中止就讀 procedure (R-SUS-1, R-SUS-2).
func (s *Service) OpenSuspension(ctx context.Context, m Meta, id string, grounds []int, on calendar.Date, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.OpenSuspension(m.Actor, grounds, on, sealed, s.today())
		return []events.Event{e}, err
	})
}

// LogSuspensionVisit records the home or origin-school visit of the
// procedure (R-SUS-2).
func (s *Service) LogSuspensionVisit(ctx context.Context, m Meta, id, kind string, on calendar.Date, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := r.LogSuspensionVisit(m.Actor, kind, on, sealed, s.today())
		return []events.Event{e}, err
	})
}

// SendSuspensionReport records the evaluation report sent to the origin
// school (R-SUS-2); the case goes on the next meeting's docket (R-SUS-3).
func (s *Service) SendSuspensionReport(ctx context.Context, m Meta, id string, on calendar.Date, report string) (Result, error) {
	if err := domain.CheckNote("report", report); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, report)
		if err != nil {
			return nil, err
		}
		e, err := r.SendSuspensionReport(m.Actor, on, sealed, s.today())
		return []events.Event{e}, err
	})
}

// Resolution is a resolution as the committee gives it: the reason is
// free text, sealed with the student's key.
type Resolution struct {
	CaseID, Resolution, Reason string
	Finding                    string // reject: R-EXCL-3
	Destination                string // suspend: R-SUS-4
}

// ResolveCase records a resolution on a docket case (R-MTG-3): admission
// cases admit, waitlist or reject; suspension cases suspend (with the
// destination) or continue (R-SUS-3, R-SUS-4, R-EXCL-4).
func (s *Service) ResolveCase(ctx context.Context, m Meta, meetingID string, in Resolution) (Result, error) {
	if err := domain.ValidateDestination(in.Resolution, in.Destination); err != nil {
		return Result{}, err
	}
	if err := domain.ValidateFinding(in.Resolution, in.Finding); err != nil {
		return Result{}, err
	}
	if err := domain.CheckNote("reason", in.Reason); err != nil {
		return Result{}, err
	}
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	if !domain.IsMeetingID(meetingID) {
		return Result{}, domain.Errorf(domain.ENotFound, "no such meeting")
	}
	return s.multi(ctx, m, meetingStream(b.Code, meetingID), func() ([]events.Append, error) {
		mt, ml, err := s.loadMeeting(ctx, b.Code, meetingID)
		if err != nil {
			return nil, err
		}
		r, _, err := s.loadReferral(ctx, b.Code, in.CaseID)
		if err != nil {
			return nil, err
		}
		sealed, err := s.seal(ctx, r, in.Reason)
		if err != nil {
			return nil, err
		}
		e, err := mt.ResolveCase(m.Actor, r, domain.ResolutionInput{Resolution: in.Resolution, Destination: in.Destination,
			Finding: in.Finding, Reason: sealed, HasReason: in.Reason != ""}, s.today())
		if err != nil {
			return nil, err
		}
		return []events.Append{ml.append([]events.Event{e}, s.metadata(m))}, nil
	})
}

// loadWaiting adds to cases the first waiting cases a close may seat
// (R-SOY-5): seats free now and those its suspensions free.
func (s *Service) loadWaiting(ctx context.Context, branch string, mt *domain.Meeting, roster *domain.Roster, capacity int,
	cases map[string]*domain.Referral, loads map[string]loaded) error {
	for _, w := range roster.Waiting[:domain.WaitingToLoad(mt, roster, capacity, s.today())] {
		if _, ok := cases[w.CaseID]; ok {
			continue
		}
		r, l, err := s.loadReferral(ctx, branch, w.CaseID)
		if err != nil {
			return err
		}
		cases[w.CaseID], loads[w.CaseID] = r, l
	}
	return nil
}
