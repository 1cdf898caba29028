package app

import (
	"context"
	"fmt"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// The parties record what they did; GET /v1/duties shows what is still
// owed (issue 10).

// dutyCase runs a duty command on a referral visible to the actor, with
// the case's duty facts folded.
func (s *Service) dutyCase(ctx context.Context, m Meta, id string, decide func(f *domain.DutyFacts) (events.Event, error)) (Result, error) {
	stream, err := s.referralStream(m, id)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, stream, m, func(loaded events.Loaded) ([]events.Event, error) {
		var r domain.Referral
		var f domain.DutyFacts
		for _, env := range loaded.Events {
			r.Apply(env)
			f.Apply(env)
		}
		if !r.Exists() || !r.VisibleTo(m.Actor) {
			return nil, domain.Errorf(domain.ENotFound, "no such referral")
		}
		e, err := decide(&f)
		if err != nil {
			return nil, err
		}
		return []events.Event{e}, nil
	})
}

// onOrToday is the date a duty was done: the one given, else today.
func (s *Service) onOrToday(on *calendar.Date) calendar.Date {
	if on != nil {
		return *on
	}
	return s.today()
}

// SendRecords records that the branch school sent a semester's records to
// the origin school (R-ENR-2).
func (s *Service) SendRecords(ctx context.Context, m Meta, id, semester string, kinds []string, on *calendar.Date) (Result, error) {
	return s.dutyCase(ctx, m, id, func(f *domain.DutyFacts) (events.Event, error) {
		return f.SendRecords(m.Actor, semester, kinds, s.onOrToday(on), s.today())
	})
}

// InformNetworkUnits records that the origin school informed the network
// units of a result (R-SOY-7, R-MID-5, R-SUS-4).
func (s *Service) InformNetworkUnits(ctx context.Context, m Meta, id, result string, on *calendar.Date) (Result, error) {
	return s.dutyCase(ctx, m, id, func(f *domain.DutyFacts) (events.Event, error) {
		return f.InformNetworkUnits(m.Actor, result, s.onOrToday(on), s.today())
	})
}

// RecordAccompaniment records that the origin school accompanied the
// student reporting (R-ORG-2).
func (s *Service) RecordAccompaniment(ctx context.Context, m Meta, id, by string, on *calendar.Date) (Result, error) {
	return s.dutyCase(ctx, m, id, func(f *domain.DutyFacts) (events.Event, error) {
		return f.Accompany(m.Actor, by, s.onOrToday(on), s.today())
	})
}

// RecordLeaveAssisted records that the origin school helped a suspended
// student leave (R-ORG-6).
func (s *Service) RecordLeaveAssisted(ctx context.Context, m Meta, id string, on *calendar.Date) (Result, error) {
	return s.dutyCase(ctx, m, id, func(f *domain.DutyFacts) (events.Event, error) {
		return f.AssistLeave(m.Actor, s.onOrToday(on), s.today())
	})
}

// CoveredCase is a case a co-counselling visit covered, with an optional
// note (sealed with the student's key).
type CoveredCase struct {
	CaseID string
	Note   string
}

// RecordCoCounselling records an origin school's co-counselling visit to
// the branch (R-ORG-5) on the stream cihui.<branch>.cocounselling.<school>.
// Every case covered must be a student of the school enrolled on that day.
func (s *Service) RecordCoCounselling(ctx context.Context, m Meta, on *calendar.Date, cases []CoveredCase) (Result, error) {
	if m.Actor.Role != domain.RoleOriginSchool {
		return Result{}, domain.Errorf(domain.EForbidden, "co-counselling visits are recorded by the origin school")
	}
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	day, today := s.onOrToday(on), s.today()
	ids, notes := make([]string, len(cases)), make([]string, len(cases))
	for i, c := range cases {
		ids[i], notes[i] = c.CaseID, c.Note
	}
	if err := domain.ValidateCoCounselling(day, today, ids, notes); err != nil {
		return Result{}, err
	}
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateCoCounselling, ID: m.Actor.School}
	if stream.Validate() != nil {
		return Result{}, domain.Errorf(domain.EForbidden, "the token's school code cannot record visits")
	}
	return s.execute(ctx, stream, m, func(events.Loaded) ([]events.Event, error) {
		e := events.CoCounsellingVisited{School: m.Actor.School, On: day, Cases: make([]events.CoveredCase, len(cases))}
		for i, c := range cases {
			r, f, err := s.enrolledCase(ctx, b.Code, c.CaseID)
			if err != nil {
				return nil, err
			}
			// Another school's case, an unknown one and one not enrolled
			// that day get the same answer: nothing is revealed.
			if r == nil || r.OriginSchool != m.Actor.School || f.Enrolment == nil || !f.Enrolment.EnrolledOnDay(day) {
				return nil, &domain.Error{Code: domain.ERule, Rule: "R-ORG-5",
					Message: fmt.Sprintf("cases[%d] is not a student of this school enrolled at the branch on %s", i, day),
					Fields:  map[string]string{fmt.Sprintf("cases[%d].case_id", i): "not a student of this school enrolled on that day"}}
			}
			sealed, err := s.seal(ctx, r, c.Note)
			if err != nil {
				return nil, err
			}
			e.Cases[i] = events.CoveredCase{CaseID: c.CaseID, Note: sealed}
		}
		return []events.Event{e}, nil
	})
}

// enrolledCase loads a referral of the branch with its duty facts; nil
// when there is none.
func (s *Service) enrolledCase(ctx context.Context, branch, id string) (*domain.Referral, *domain.DutyFacts, error) {
	var r domain.Referral
	var f domain.DutyFacts
	_, l, err := s.load(ctx, referralStream(branch, id), func(env events.Envelope) { r.Apply(env); f.Apply(env) })
	if err != nil || l.Version == 0 || !r.Exists() {
		return nil, nil, err
	}
	return &r, &f, nil
}

// FileAdmittedList records that the list a meeting admitted was filed with
// the education bureau (R-SOY-7), on cihui.<branch>.filing.<meeting>.
func (s *Service) FileAdmittedList(ctx context.Context, m Meta, meetingID string, on *calendar.Date) (Result, error) {
	if m.Actor.Role != domain.RoleSocialWorker && m.Actor.Role != domain.RoleBureau {
		return Result{}, domain.Errorf(domain.EForbidden, "the filing is recorded by the branch school or the bureau")
	}
	day := s.onOrToday(on)
	if err := domain.ValidateDoneOn("on", day, s.today()); err != nil {
		return Result{}, err
	}
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	mt, _, err := s.loadMeeting(ctx, b.Code, meetingID)
	if err != nil {
		return Result{}, err
	}
	admitted := false
	for _, r := range mt.Resolutions {
		admitted = admitted || r.Resolution == domain.ResolutionAdmit
	}
	if mt.Status != "closed" || !admitted {
		return Result{}, domain.RuleError("R-SOY-7", "only a closed meeting that admitted students has a list to file")
	}
	stream := events.StreamID{Branch: b.Code, Type: events.AggregateFiling, ID: meetingID}
	return s.execute(ctx, stream, m, func(l events.Loaded) ([]events.Event, error) {
		if l.Version > 0 {
			return nil, domain.Errorf(domain.EConflict, "this meeting's admitted list is already filed")
		}
		return []events.Event{events.AdmittedListFiled{MeetingID: meetingID, On: day}}, nil
	})
}
