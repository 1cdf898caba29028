package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

func meetingStream(branch, id string) events.StreamID {
	return events.StreamID{Branch: branch, Type: events.AggregateMeeting, ID: id}
}
func committeeStream(branch string) events.StreamID {
	return events.StreamID{Branch: branch, Type: events.AggregateCommittee}
}
func rosterStream(branch string) events.StreamID {
	return events.StreamID{Branch: branch, Type: events.AggregateRoster}
}
func referralStream(branch, id string) events.StreamID {
	return events.StreamID{Branch: branch, Type: events.AggregateReferral, ID: id}
}

// loaded is an aggregate with its stream position, for expected-sequence
// guards.
type loaded struct {
	id      events.StreamID
	version uint64
	seq     uint64
}

func (l loaded) append(evs []events.Event, meta events.Metadata) events.Append {
	return events.Append{Stream: l.id, ExpectedSeq: l.seq, ExpectedVersion: l.version, Events: evs, Meta: meta}
}

func (s *Service) load(ctx context.Context, id events.StreamID, apply func(events.Envelope)) (loaded, events.Loaded, error) {
	l, err := s.Store.Load(ctx, id)
	if err != nil {
		return loaded{}, l, storeError(err)
	}
	for _, env := range l.Events {
		apply(env)
	}
	return loaded{id: id, version: l.Version, seq: l.LastSeq}, l, nil
}

func (s *Service) loadReferral(ctx context.Context, branch, id string) (*domain.Referral, loaded, error) {
	var r domain.Referral
	stream := referralStream(branch, id)
	if !domain.IsReferralID(id) || stream.Validate() != nil {
		return nil, loaded{}, domain.Errorf(domain.ENotFound, "no such referral")
	}
	l, _, err := s.load(ctx, stream, r.Apply)
	if err != nil {
		return nil, l, err
	}
	if !r.Exists() {
		return nil, l, domain.Errorf(domain.ENotFound, "no such referral")
	}
	return &r, l, nil
}

func (s *Service) loadRoster(ctx context.Context, branch string) (*domain.Roster, loaded, error) {
	r := &domain.Roster{Seats: map[string]domain.Seat{}}
	l, _, err := s.load(ctx, rosterStream(branch), r.Apply)
	return r, l, err
}

// caseAndRoster loads a referral visible to the actor and the branch's
// roster, for commands that change both atomically.
func (s *Service) caseAndRoster(ctx context.Context, m Meta, branch, id string) (*domain.Referral, loaded, *domain.Roster, loaded, error) {
	r, l, err := s.loadReferral(ctx, branch, id)
	if err == nil && !r.VisibleTo(m.Actor) {
		err = domain.Errorf(domain.ENotFound, "no such referral")
	}
	if err != nil {
		return nil, l, nil, loaded{}, err
	}
	roster, rl, err := s.loadRoster(ctx, branch)
	return r, l, roster, rl, err
}

// multi runs a command that writes several aggregates in one atomic
// append. The primary stream carries the idempotency record; a conflict
// with a concurrent writer is retried on fresh state, since plan re-checks
// every rule, until it succeeds or maxAttempts is reached.
func (s *Service) multi(ctx context.Context, m Meta, primary events.StreamID, plan func() ([]events.Append, error)) (Result, error) {
	const maxAttempts = 50
	for attempt := 0; ; attempt++ {
		l, err := s.Store.Load(ctx, primary)
		if err != nil {
			return Result{}, storeError(err)
		}
		if res, ok, err := replay(l, primary.ID, m); ok || err != nil {
			return res, err
		}
		appends, err := plan()
		if err := precondition(m, l.Version, err); err != nil {
			return Result{}, err
		}
		envs, err := s.append(ctx, appends...)
		if errors.Is(err, events.ErrConflict) && attempt < maxAttempts {
			continue
		}
		if errors.Is(err, events.ErrConflict) {
			return Result{}, &domain.Error{Code: domain.EConflict, Message: "too many concurrent changes; try again"}
		}
		if err != nil {
			return Result{}, storeError(err)
		}
		res := Result{ID: primary.ID}
		for _, e := range envs {
			if e.AggregateType == primary.Type && e.AggregateID == primary.ID {
				res.Version = e.Version
			}
			res.Position = max(res.Position, e.Position)
		}
		return res, nil
	}
}

// ScheduleMeeting schedules a second-review meeting; it warns when the
// year would have more than four (R-MTG-1). The committee stream records
// the schedule too, so the count is exact.
func (s *Service) ScheduleMeeting(ctx context.Context, m Meta, year int, kind string, date calendar.Date, title string) (Result, []string, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, nil, err
	}
	id := newID("m", m)
	var warnings []string
	res, err := s.multi(ctx, m, meetingStream(b.Code, id), func() ([]events.Append, error) {
		var mt domain.Meeting
		ml, _, err := s.load(ctx, meetingStream(b.Code, id), mt.Apply)
		if err != nil {
			return nil, err
		}
		if ml.version > 0 {
			return nil, domain.Errorf(domain.EConflict, "the meeting already exists")
		}
		var c domain.Committee
		cl, _, err := s.load(ctx, committeeStream(b.Code), c.Apply)
		if err != nil {
			return nil, err
		}
		e, w, err := domain.Schedule(m.Actor, id, year, kind, date, title, c.PerYear[year], b.MeetingMonths, s.today())
		if err != nil {
			return nil, err
		}
		warnings = w
		meta := s.metadata(m)
		return []events.Append{ml.append([]events.Event{e}, meta), cl.append([]events.Event{e}, meta)}, nil
	})
	return res, warnings, err
}

func (s *Service) loadMeeting(ctx context.Context, branch, id string) (*domain.Meeting, loaded, error) {
	var mt domain.Meeting
	stream := meetingStream(branch, id)
	if !domain.IsMeetingID(id) || stream.Validate() != nil {
		return nil, loaded{}, domain.Errorf(domain.ENotFound, "no such meeting")
	}
	l, _, err := s.load(ctx, stream, mt.Apply)
	if err == nil && l.version == 0 {
		err = domain.Errorf(domain.ENotFound, "no such meeting")
	}
	return &mt, l, err
}

// meetingAndCommittee loads a meeting and its branch's committee.
func (s *Service) meetingAndCommittee(ctx context.Context, branch, id string) (*domain.Meeting, loaded, *domain.Committee, loaded, error) {
	mt, ml, err := s.loadMeeting(ctx, branch, id)
	if err != nil {
		return nil, ml, nil, loaded{}, err
	}
	var c domain.Committee
	cl, _, err := s.load(ctx, committeeStream(branch), c.Apply)
	return mt, ml, &c, cl, err
}

// OpenMeeting opens a meeting for resolutions; the committee stream guards
// that only one is open at a time.
func (s *Service) OpenMeeting(ctx context.Context, m Meta, id string) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	if !domain.IsMeetingID(id) {
		return Result{}, domain.Errorf(domain.ENotFound, "no such meeting")
	}
	return s.multi(ctx, m, meetingStream(b.Code, id), func() ([]events.Append, error) {
		mt, ml, c, cl, err := s.meetingAndCommittee(ctx, b.Code, id)
		if err != nil {
			return nil, err
		}
		e, err := domain.OpenMeeting(m.Actor, c, mt)
		if err != nil {
			return nil, err
		}
		meta := s.metadata(m)
		return []events.Append{ml.append([]events.Event{e}, meta), cl.append([]events.Event{e}, meta)}, nil
	})
}

// Resolve records a resolution on a docket case (R-MTG-3).
func (s *Service) Resolve(ctx context.Context, m Meta, meetingID, caseID, resolution, reason string) (Result, error) {
	return s.ResolveWithFinding(ctx, m, meetingID, caseID, resolution, reason, "")
}

// ResolveWithFinding is Resolve with a committee finding a reject cites
// (R-EXCL-3).
func (s *Service) ResolveWithFinding(ctx context.Context, m Meta, meetingID, caseID, resolution, reason, finding string) (Result, error) {
	return s.ResolveCase(ctx, m, meetingID, Resolution{CaseID: caseID, Resolution: resolution, Reason: reason, Finding: finding})
}

// CloseMeeting makes the resolutions take effect in one atomic append over
// the meeting, the committee, the roster and every resolved case: places
// in order of application time up to the cap, the rest on the waiting list
// (R-SOY-5, R-CAP-1). reportBy is the reporting date of the admissions
// (R-SOY-6), required when the close admits anyone.
func (s *Service) CloseMeeting(ctx context.Context, m Meta, id string, reportBy *calendar.Date) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	today := s.today()
	report, err := s.reportingDate(ctx, b.Code, reportBy, today)
	if err != nil {
		return Result{}, err
	}
	if !domain.IsMeetingID(id) {
		return Result{}, domain.Errorf(domain.ENotFound, "no such meeting")
	}
	return s.multi(ctx, m, meetingStream(b.Code, id), func() ([]events.Append, error) {
		mt, ml, _, cl, err := s.meetingAndCommittee(ctx, b.Code, id)
		if err != nil {
			return nil, err
		}
		roster, rl, err := s.loadRoster(ctx, b.Code)
		if err != nil {
			return nil, err
		}
		cases := map[string]*domain.Referral{}
		caseLoads := map[string]loaded{}
		for _, x := range mt.Resolutions {
			r, l, err := s.loadReferral(ctx, b.Code, x.CaseID)
			if err != nil {
				return nil, err
			}
			cases[x.CaseID], caseLoads[x.CaseID] = r, l
		}
		if err := s.loadWaiting(ctx, b.Code, mt, roster, b.Cap, cases, caseLoads); err != nil {
			return nil, err
		}
		plan, err := domain.PlanClose(m.Actor, mt, roster, cases, b.Cap, today, report)
		if err != nil {
			return nil, err
		}
		meta := s.metadata(m)
		out := []events.Append{ml.append(plan.Meeting, meta), cl.append(plan.Committee, meta)}
		if len(plan.Roster) > 0 {
			out = append(out, rl.append(plan.Roster, meta))
		}
		ids := make([]string, 0, len(plan.Cases))
		for id := range plan.Cases {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			out = append(out, caseLoads[id].append(plan.Cases[id], meta))
		}
		return out, nil
	})
}

// reportingDate checks a reporting date given by the caller (R-SOY-6): a
// working day of the branch's office calendar on or after today. None
// given is the zero date.
func (s *Service) reportingDate(ctx context.Context, branch string, d *calendar.Date, today calendar.Date) (calendar.Date, error) {
	if d == nil {
		return calendar.Date{}, nil
	}
	if err := domain.ValidateReportingDate(*d, today); err != nil {
		return calendar.Date{}, err
	}
	cal, err := s.Calendar(ctx, branch)
	if err != nil {
		return calendar.Date{}, err
	}
	if err := domain.CheckReportingDate(cal, *d, today); err != nil {
		return calendar.Date{}, err
	}
	return *d, nil
}

// ReleasePlace records that a student leaves the place (declined, left),
// and offers it to the first on the waiting list, atomically (R-SOY-5).
// reportBy is the reporting date of that offer (R-SOY-6), required when a
// place is offered.
func (s *Service) ReleasePlace(ctx context.Context, m Meta, caseID, reason string, reportBy *calendar.Date) (Result, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, err
	}
	if err := domain.ValidateRelease(reason); err != nil {
		return Result{}, err
	}
	today := s.today()
	report, err := s.reportingDate(ctx, b.Code, reportBy, today)
	if err != nil {
		return Result{}, err
	}
	if !domain.IsReferralID(caseID) {
		return Result{}, domain.Errorf(domain.ENotFound, "no such referral")
	}
	return s.multi(ctx, m, referralStream(b.Code, caseID), func() ([]events.Append, error) {
		r, l, roster, rl, err := s.caseAndRoster(ctx, m, b.Code, caseID)
		if err != nil {
			return nil, err
		}
		var first *domain.Referral
		var fl loaded
		if len(roster.Waiting) > 0 {
			if first, fl, err = s.loadReferral(ctx, b.Code, roster.Waiting[0].CaseID); err != nil {
				return nil, err
			}
		}
		reason = strings.TrimSpace(reason)
		sealed, err := s.sealIfAlive(ctx, r, reason)
		if err != nil {
			return nil, err
		}
		p, err := domain.PlanRelease(m.Actor, r, roster, first, b.Cap, sealed, reason != "", today, report)
		if err != nil {
			return nil, err
		}
		meta := s.metadata(m)
		out := []events.Append{l.append(p.Case, meta), rl.append(p.Roster, meta)}
		if p.Offered != "" {
			out = append(out, fl.append(p.OfferEvents, meta))
		}
		return out, nil
	})
}

// Appeal records stakeholders' request to attend the second review.
func (s *Service) Appeal(ctx context.Context, m Meta, id string, attendees []string, documents int, details string) (Result, error) {
	if err := domain.CheckNote("details", details); err != nil {
		return Result{}, err
	}
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		sealed, err := s.seal(ctx, r, details)
		if err != nil {
			return nil, err
		}
		e, err := r.Appeal(m.Actor, attendees, documents, sealed)
		return []events.Event{e}, err
	})
}

// RecordHealthCheck records the admission health check (R-ENR-1).
func (s *Service) RecordHealthCheck(ctx context.Context, m Meta, id string, examined calendar.Date, infectious bool, cleared *calendar.Date) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.RecordHealthCheck(m.Actor, examined, infectious, cleared, s.today())
		return []events.Event{e}, err
	})
}

// Enrol enrols an admitted student in a class (R-ENR-1, R-CAP-2).
func (s *Service) Enrol(ctx context.Context, m Meta, id string, grade int, class, override string) (Result, []string, error) {
	b, err := s.branch(m.Actor)
	if err != nil {
		return Result{}, nil, err
	}
	if err := domain.ValidateEnrolment(grade, class, override); err != nil {
		return Result{}, nil, err
	}
	if !domain.IsReferralID(id) {
		return Result{}, nil, domain.Errorf(domain.ENotFound, "no such referral")
	}
	var warnings []string
	res, err := s.multi(ctx, m, referralStream(b.Code, id), func() ([]events.Append, error) {
		r, l, roster, rl, err := s.caseAndRoster(ctx, m, b.Code, id)
		if err != nil {
			return nil, err
		}
		override = strings.TrimSpace(override)
		sealed, err := s.sealIfAlive(ctx, r, override)
		if err != nil {
			return nil, err
		}
		e, seat, w, err := r.Enrol(m.Actor, roster, grade, class, sealed, override != "", b.ClassNorms, s.today())
		if err != nil {
			return nil, err
		}
		warnings = w
		meta := s.metadata(m)
		return []events.Append{l.append([]events.Event{e}, meta), rl.append([]events.Event{seat}, meta)}, nil
	})
	return res, warnings, err
}

// RecordRegistration records a semester's registration at the origin
// school (R-ENR-2).
func (s *Service) RecordRegistration(ctx context.Context, m Meta, id, semester string) (Result, error) {
	return s.referral(ctx, m, id, func(r *domain.Referral) ([]events.Event, error) {
		e, err := r.RecordRegistration(m.Actor, semester, s.today())
		return []events.Event{e}, err
	})
}

// Capacity is the branch's places on a date as the roster stream holds
// them (R-CAP-1 dated; rollover.go CapacityOn).
type Capacity struct {
	Cap              int                `json:"cap"`
	On               string             `json:"on"`
	Held             int                `json:"held"`
	Enrolled         int                `json:"enrolled"`
	AdmittedAwaiting int                `json:"admitted_awaiting_enrolment"`
	Free             int                `json:"free"`
	Waiting          []domain.WaitEntry `json:"waiting_list"`
	RosterVersion    uint64             `json:"roster_version"`
}

// Capacity reads today's places from the event store itself.
func (s *Service) Capacity(ctx context.Context, a events.Actor) (Capacity, error) {
	return s.CapacityOn(ctx, a, s.today())
}
