package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/logsafe"
)

// heldReferral runs a legal-hold command on an existing referral: it folds
// the referral (scope) and its hold state.
func (s *Service) heldReferral(ctx context.Context, m Meta, id string, decide func(r *domain.Referral, h domain.LegalHold) ([]events.Event, error)) (Result, error) {
	stream, err := s.referralStream(m, id)
	if err != nil {
		return Result{}, err
	}
	return s.execute(ctx, stream, m, func(loaded events.Loaded) ([]events.Event, error) {
		var r domain.Referral
		var h domain.LegalHold
		for _, env := range loaded.Events {
			r.Apply(env)
			h.Apply(env)
		}
		if !r.Exists() || !r.VisibleTo(m.Actor) {
			return nil, domain.Errorf(domain.ENotFound, "no such referral")
		}
		return decide(&r, h)
	})
}

// PlaceLegalHold defers the case's erasure by retention; the free-text
// note is sealed with the student's key.
func (s *Service) PlaceLegalHold(ctx context.Context, m Meta, id, reason, note string) (Result, error) {
	if err := domain.CheckNote("note", note); err != nil {
		return Result{}, err
	}
	return s.heldReferral(ctx, m, id, func(r *domain.Referral, h domain.LegalHold) ([]events.Event, error) {
		if _, err := h.PlaceHold(m.Actor, reason, events.Sealed{}); err != nil {
			return nil, err // checked before sealing anything
		}
		sealed, err := s.seal(ctx, r, note)
		if err != nil {
			return nil, err
		}
		e, err := h.PlaceHold(m.Actor, reason, sealed)
		return []events.Event{e}, err
	})
}

// LiftLegalHold lifts the case's legal hold.
func (s *Service) LiftLegalHold(ctx context.Context, m Meta, id string) (Result, error) {
	return s.heldReferral(ctx, m, id, func(_ *domain.Referral, h domain.LegalHold) ([]events.Event, error) {
		e, err := h.LiftHold(m.Actor)
		return []events.Event{e}, err
	})
}

// RetentionSource lists the retention facts of every case whose person is
// not erased yet (projections.Reader).
type RetentionSource interface {
	RetentionFacts(ctx context.Context) ([]domain.RetentionFacts, error)
}

// RetentionJob erases the people whose every case is past its retention
// (學生輔導法施行細則 §10) and not under a legal hold, by the same path as an
// admin's erasure, with reason retention_expired.
type RetentionJob struct {
	App    *Service
	Source RetentionSource
	Clock  domain.Clock
	// Interval between runs (Run); the first run is at start.
	Interval time.Duration
	// CaughtUp, when set, returns an error unless the read models reflect
	// every event recorded so far (a hold just placed must be seen).
	CaughtUp func(ctx context.Context) error
	Log      *slog.Logger

	// running is held by a run: the scheduled ones wait for it, one asked
	// for (RunNow) is refused while it is held.
	running sync.Mutex
}

// RetentionReport is what one retention run did: counts only, never who.
type RetentionReport struct {
	// CasesPastRetention is how many cases of people not erased yet were
	// past their retention on the run's day.
	CasesPastRetention int `json:"cases_past_retention"`
	// CasesOnHold of them were under a legal hold.
	CasesOnHold int `json:"cases_on_hold"`
	// PeopleDue had every case past retention and none on hold.
	PeopleDue int `json:"people_due"`
	// PeopleErased of them were erased by this run; Failed were not (the
	// next run tries them again).
	PeopleErased int       `json:"people_erased"`
	Failed       int       `json:"failed"`
	Today        string    `json:"today"`
	StartedAt    time.Time `json:"started_at"`
	FinishedAt   time.Time `json:"finished_at"`
}

// ErrRetentionRunning refuses a run asked for while another is in progress.
var ErrRetentionRunning = domain.Errorf(domain.EConflict, "a retention run is in progress; try again when it has finished")

// DuePeople groups facts by person and returns, for each person due for
// erasure on today, one of their cases (the erasure destroys the
// person's key, which erases every case of theirs).
func DuePeople(facts []domain.RetentionFacts, today calendar.Date) []domain.RetentionFacts {
	byPerson := map[string][]domain.RetentionFacts{}
	var order []string
	for _, f := range facts {
		if _, ok := byPerson[f.PersonKey]; !ok {
			order = append(order, f.PersonKey)
		}
		byPerson[f.PersonKey] = append(byPerson[f.PersonKey], f)
	}
	var out []domain.RetentionFacts
	for _, k := range order {
		if domain.PersonDue(byPerson[k], today) {
			out = append(out, byPerson[k][0])
		}
	}
	return out
}

// RunOnce erases every person due today and returns how many it erased,
// after any run in progress. It is idempotent: erased people leave the
// source, and an erasure interrupted after the key was destroyed is
// completed by the next run.
func (j *RetentionJob) RunOnce(ctx context.Context) (int, error) {
	j.running.Lock()
	defer j.running.Unlock()
	r, err := j.run(ctx)
	return r.PeopleErased, err
}

// RunNow runs once now, as an admin asks (POST /v1/retention/runs), and
// reports what it did; while another run is in progress it is refused
// with ErrRetentionRunning.
func (j *RetentionJob) RunNow(ctx context.Context) (RetentionReport, error) {
	if !j.running.TryLock() {
		return RetentionReport{}, ErrRetentionRunning
	}
	defer j.running.Unlock()
	return j.run(ctx)
}

func (j *RetentionJob) run(ctx context.Context) (RetentionReport, error) {
	r := RetentionReport{StartedAt: j.Clock.Now().UTC()}
	if j.CaughtUp != nil {
		if err := j.CaughtUp(ctx); err != nil {
			return r, err
		}
	}
	facts, err := j.Source.RetentionFacts(ctx)
	if err != nil {
		return r, err
	}
	today := calendar.DateOf(j.Clock.Now(), domain.Taipei)
	r.Today = today.String()
	for _, f := range facts {
		if domain.RetentionDue(f, today) {
			r.CasesPastRetention++
			if f.OnHold {
				r.CasesOnHold++
			}
		}
	}
	var firstErr error
	due := DuePeople(facts, today)
	r.PeopleDue = len(due)
	for _, f := range due {
		m := Meta{Actor: events.Actor{Role: events.RoleSystem, Branch: f.Branch, UserID: "retention-job"}}
		if _, err := j.App.ErasePerson(ctx, m, f.CaseID, domain.ErasureRetention); err != nil {
			// One person's failure does not stop the others.
			j.log().Error("retention erasure failed", "case", f.CaseID, "err", logsafe.Err(err))
			if firstErr == nil {
				firstErr = err
			}
			r.Failed++
			continue
		}
		j.log().Info("retention erasure", "case", f.CaseID)
		r.PeopleErased++
	}
	r.FinishedAt = j.Clock.Now().UTC()
	return r, firstErr
}

// Run runs the job at start and then every Interval until ctx is done.
func (j *RetentionJob) Run(ctx context.Context) {
	runEvery(ctx, j.Interval, 24*time.Hour, j.log(), "retention", j.RunOnce)
}

func (j *RetentionJob) log() *slog.Logger { return orDiscard(j.Log) }
