package app

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Rollover is what rolling an academic year over did.
type Rollover struct {
	Result
	Year      int                      `json:"year"`
	Done      bool                     `json:"already_rolled_over"`
	Advanced  []string                 `json:"advanced"`
	Graduated []string                 `json:"graduated"`
	Lapsed    []string                 `json:"lapsed"`
	Proposal  []events.ClassAssignment `json:"class_proposal"`
}

// RollOver records the roll-over into academic year year for the actor's
// branch (R-CAP-1, R-SUS-1 decision), in one atomic append over the
// roster and every case it touches: grades advance, grade-9 seats end on
// Jul 31 (graduated), waiting-list entries of earlier years lapse, and
// classes are proposed. Idempotent per year: a second run appends
// nothing and says so.
func (s *Service) RollOver(ctx context.Context, m Meta, year int) (Rollover, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Rollover{}, err
	}
	out := Rollover{Year: year}
	res, err := s.multi(ctx, m, rosterStream(b.Code), func() ([]events.Append, error) {
		roster, rl, err := s.loadRoster(ctx, b.Code)
		if err != nil {
			return nil, err
		}
		if roster.RolledOver[year] {
			out.Done = true
			return nil, nil
		}
		cases := map[string]*domain.Referral{}
		loads := map[string]loaded{}
		ids := make([]string, 0, len(roster.Seats)+len(roster.Waiting))
		for id := range roster.Seats {
			ids = append(ids, id)
		}
		for _, w := range roster.Waiting {
			ids = append(ids, w.CaseID)
		}
		for _, id := range ids {
			if !domain.IsReferralID(id) {
				continue // a seat recorded without a case (tests, imports): roster only
			}
			r, l, err := s.loadReferral(ctx, b.Code, id)
			if domain.ErrorCode(err) == domain.ENotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			cases[id], loads[id] = r, l
		}
		plan, err := domain.PlanRollover(m.Actor, year, roster, cases, s.today())
		if err != nil {
			return nil, err
		}
		if plan.Done {
			out.Done = true
			return nil, nil
		}
		out.Advanced, out.Graduated, out.Lapsed, out.Proposal = plan.Event.Advanced, plan.Event.Graduated, plan.Event.Lapsed, plan.Event.Proposal
		meta := s.metadata(m)
		appends := []events.Append{rl.append(plan.Roster, meta)}
		caseIDs := make([]string, 0, len(plan.Cases))
		for id := range plan.Cases {
			caseIDs = append(caseIDs, id)
		}
		slices.Sort(caseIDs)
		for _, id := range caseIDs {
			appends = append(appends, loads[id].append(plan.Cases[id], meta))
		}
		return appends, nil
	})
	if err != nil {
		return Rollover{}, err
	}
	out.Result = res
	out.ID = strconv.Itoa(year)
	return out, nil
}

// ConfirmClasses confirms the class proposal of the roll-over into year,
// with the social worker's changes, recording each case's class.
func (s *Service) ConfirmClasses(ctx context.Context, m Meta, year int, changes []events.ClassAssignment) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	res, err := s.multi(ctx, m, rosterStream(b.Code), func() ([]events.Append, error) {
		roster, rl, err := s.loadRoster(ctx, b.Code)
		if err != nil {
			return nil, err
		}
		e, per, err := domain.ConfirmClasses(m.Actor, year, roster, changes, b.ClassNorms)
		if err != nil {
			return nil, err
		}
		meta := s.metadata(m)
		appends := []events.Append{rl.append([]events.Event{e}, meta)}
		for _, a := range e.Assignments {
			if !domain.IsReferralID(a.CaseID) {
				continue
			}
			_, l, err := s.loadReferral(ctx, b.Code, a.CaseID)
			if domain.ErrorCode(err) == domain.ENotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			appends = append(appends, l.append([]events.Event{per[a.CaseID]}, meta))
		}
		return appends, nil
	})
	res.ID = strconv.Itoa(year)
	return res, err
}

// RecordMajorReason records a major reason for a grade-9 transfer in the
// second semester (R-EXCL-4), sealed with the student's key.
func (s *Service) RecordMajorReason(ctx context.Context, m Meta, id, reason string) (Result, error) {
	if err := domain.ValidateMajorReason(reason); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, strings.TrimSpace(reason))
		if err != nil {
			return nil, err
		}
		e, err := r.RecordMajorReason(m.Actor, sealed)
		return []events.Event{e}, err
	})
}

// CapacityOn is the branch's places on day on, from the roster stream
// itself (R-CAP-1 dated): the read model (projections) serves the API.
func (s *Service) CapacityOn(ctx context.Context, a events.Actor, on calendar.Date) (Capacity, error) {
	b, err := s.branch(a)
	if err != nil {
		return Capacity{}, err
	}
	roster, l, err := s.loadRoster(ctx, b.Code)
	if err != nil {
		return Capacity{}, err
	}
	held := roster.HoldersOn(on)
	enrolled := 0
	for _, h := range held {
		if h.Enrolled && !h.EnrolledOn.After(on) {
			enrolled++
		}
	}
	c := Capacity{Cap: b.Cap, On: on.String(), Held: len(held), Enrolled: enrolled, AdmittedAwaiting: len(held) - enrolled,
		Free: max(0, b.Cap-len(held)), Waiting: roster.Waiting, RosterVersion: l.version}
	if c.Waiting == nil {
		c.Waiting = []domain.WaitEntry{}
	}
	return c, nil
}

// BranchCap is the cap of the actor's branch (R-CAP-1, a branch setting).
func (s *Service) BranchCap(a events.Actor) (int, error) {
	b, err := s.branch(a)
	return b.Cap, err
}

// RosterPosition is the position of the last event of the actor's
// branch's roster stream (0: none), for reads that must reflect it. The
// stream is loaded (from the store's cache, checked in one round trip)
// but not folded: folding every admission of the branch's history into a
// roster for each capacity answer was most of its time once the roster
// held a few thousand events (issue 13).
func (s *Service) RosterPosition(ctx context.Context, a events.Actor) (uint64, error) {
	b, err := s.branch(a)
	if err != nil {
		return 0, err
	}
	l, err := s.Store.Load(ctx, rosterStream(b.Code))
	if err != nil {
		return 0, storeError(err)
	}
	return l.LastSeq, nil
}
