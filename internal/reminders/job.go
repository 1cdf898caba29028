package reminders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/logsafe"
)

// PeopleLister lists the people not removed (postgres.People).
type PeopleLister interface {
	List(ctx context.Context, removed bool) ([]domain.Staff, error)
}

// Job sends the digests. Zero fields take defaults.
type Job struct {
	DB       *sqlx.DB
	People   PeopleLister
	Source   Source
	Calendar CalendarFunc
	Mailer   Mailer
	// From is the sender address; BaseURL prefixes the links.
	From    string
	BaseURL string
	// WorkingDays: a duty due within this many working days is included
	// (default 3); overdue ones always are.
	WorkingDays int
	// Weekday is the day weekly digests are for (default Monday).
	Weekday time.Weekday
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxAttempts sends of a digest before it is given up (default 5);
	// Backoff is the wait after the first failure, doubled after each
	// (default 5 min).
	MaxAttempts int
	Backoff     time.Duration
	// Interval between runs of Run (default 15 min).
	Interval time.Duration
	Log      *slog.Logger
}

func (j *Job) defaults() {
	if j.WorkingDays <= 0 {
		j.WorkingDays = 3
	}
	if j.Now == nil {
		j.Now = time.Now
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 5
	}
	if j.Backoff <= 0 {
		j.Backoff = 5 * time.Minute
	}
	if j.Interval <= 0 {
		j.Interval = 15 * time.Minute
	}
	if j.Log == nil {
		j.Log = slog.New(slog.DiscardHandler)
	}
}

// Stats counts what one run did.
type Stats struct {
	Sent, NothingDue, Failed int
}

// Run runs the job every Interval until ctx ends.
func (j *Job) Run(ctx context.Context) {
	j.defaults()
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		if st, err := j.guardedRun(ctx); err != nil {
			j.Log.Error("reminders: run failed", "err", logsafe.Err(err))
		} else if st.Sent+st.Failed > 0 {
			j.Log.Info("reminders", "sent", st.Sent, "failed", st.Failed, "nothing_due", st.NothingDue)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// guardedRun is RunOnce with a panic turned into an error naming its type
// only (a panic's value may carry an address or a name), so one bad run
// neither stops the reminders nor writes a value to the log.
func (j *Job) guardedRun(ctx context.Context) (st Stats, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = errors.New(logsafe.Panic(v))
		}
	}()
	return j.RunOnce(ctx)
}

// period returns the period a person's digest of today is for, if one is.
func (j *Job) period(freq string, today calendar.Date) (calendar.Date, bool) {
	switch freq {
	case domain.RemindDaily:
		return today, true
	case domain.RemindWeekly:
		wd := today.Time().Weekday()
		back := (int(wd) - int(j.Weekday) + 7) % 7
		return today.AddDays(-back), true
	}
	return calendar.Date{}, false
}

// RunOnce sends the digests owed now: for each active person with an
// address and reminders on, the digest of their current period unless it
// was sent (or found empty) already, or failed and is not yet due again.
func (j *Job) RunOnce(ctx context.Context) (Stats, error) {
	j.defaults()
	var st Stats
	people, err := j.People.List(ctx, false)
	if err != nil {
		return st, err
	}
	now := j.Now()
	today := calendar.DateOf(now, domain.Taipei)
	for _, p := range people {
		if p.Status != domain.PersonActive || p.Email == "" {
			continue
		}
		period, ok := j.period(p.Reminders, today)
		if !ok || (p.Reminders == domain.RemindDaily && !j.workday(ctx, p, today)) {
			continue // a daily digest is for working days only
		}
		attempt, claimed, err := j.claim(ctx, p.ID, period, p.Reminders, now)
		if err != nil {
			return st, err
		}
		if !claimed {
			continue
		}
		d, sendErr := j.digest(ctx, p, today, period)
		if sendErr == nil && d.Count == 0 {
			st.NothingDue++
			if err := j.finish(ctx, p.ID, period, "nothing_due", "", nil, d, now); err != nil {
				return st, err
			}
			continue
		}
		if sendErr == nil {
			msgID := fmt.Sprintf("reminder-%s-%s@cihui", period, p.ID)
			sendErr = j.Mailer.Send(ctx, j.From, p.Email, d.Message(j.From, p.Email, j.BaseURL, now, msgID))
		}
		if sendErr == nil {
			st.Sent++
			if err := j.finish(ctx, p.ID, period, "sent", "", nil, d, now); err != nil {
				return st, err
			}
			continue
		}
		st.Failed++
		status, next := "failed", new(now.Add(j.Backoff<<min(attempt-1, 16)))
		if attempt >= j.MaxAttempts {
			status, next = "gave_up", nil
		}
		// The error names a step and a reply code, never the address.
		j.Log.Warn("reminders: a digest was not sent", "person", p.ID, "attempt", attempt, "err", logsafe.Err(sendErr))
		if err := j.finish(ctx, p.ID, period, status, errorClass(sendErr), next, d, now); err != nil {
			return st, err
		}
	}
	return st, nil
}

// errorClass is what admins are shown of a failure.
func errorClass(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return se.Error()
	}
	return "duties could not be read"
}

// branchOf is the branch whose office calendar counts a person's
// working days: of their first branch role, else the default branch.
func branchOf(p domain.Staff) string {
	for _, r := range p.Roles {
		if r.Branch != "" {
			return r.Branch
		}
	}
	return domain.DefaultBranchCode
}

// workday reports whether day is a working day for p (true when the
// calendar cannot tell).
func (j *Job) workday(ctx context.Context, p domain.Staff, day calendar.Date) bool {
	if j.Calendar == nil {
		return true
	}
	cal, err := j.Calendar(ctx, branchOf(p))
	if err != nil {
		return true
	}
	ok, err := cal.IsWorkday(day)
	return err != nil || ok
}

// digest builds a person's digest for today.
func (j *Job) digest(ctx context.Context, p domain.Staff, today, period calendar.Date) (Digest, error) {
	items, err := j.Source.DutiesOf(ctx, p, today)
	if err != nil {
		return Digest{}, err
	}
	cutoff := today.AddDays(j.WorkingDays)
	if j.Calendar != nil {
		if cal, err := j.Calendar(ctx, branchOf(p)); err == nil {
			if c, err := cal.AddWorkdays(today, j.WorkingDays); err == nil {
				cutoff = c
			}
		}
	}
	return Build(period, cutoff, items), nil
}

// claim takes a person's digest of a period for sending: a new one, or a
// failed one whose retry is due. It reports the attempt's number.
func (j *Job) claim(ctx context.Context, personID string, period calendar.Date, freq string, now time.Time) (int, bool, error) {
	var attempt int
	err := j.DB.GetContext(ctx, &attempt, `
		INSERT INTO reminder_sends (person_id, period, frequency, status, attempts, updated_at)
		VALUES ($1, $2, $3, 'sending', 1, $4)
		ON CONFLICT (person_id, period) DO UPDATE SET status = 'sending', attempts = reminder_sends.attempts + 1, updated_at = $4
		WHERE reminder_sends.status = 'failed' AND reminder_sends.next_attempt_at <= $4
		RETURNING attempts`, personID, period.String(), freq, now)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reminders: claiming a digest: %w", err)
	}
	return attempt, true, nil
}

func (j *Job) finish(ctx context.Context, personID string, period calendar.Date, status, lastErr string, next *time.Time, d Digest, now time.Time) error {
	_, err := j.DB.ExecContext(ctx, `UPDATE reminder_sends SET status = $3, last_error = $4, next_attempt_at = $5, due_count = $6, overdue_count = $7, updated_at = $8
		WHERE person_id = $1 AND period = $2`, personID, period.String(), status, lastErr, next, d.Count, d.Overdue, now)
	if err != nil {
		return fmt.Errorf("reminders: recording a digest: %w", err)
	}
	return nil
}

// Failure is a digest that could not be sent, as admins see it.
type Failure struct {
	PersonID    string     `db:"person_id" json:"person_id"`
	Period      string     `db:"period" json:"period"`
	Status      string     `db:"status" json:"status"`
	Attempts    int        `db:"attempts" json:"attempts"`
	LastError   string     `db:"last_error" json:"last_error"`
	NextAttempt *time.Time `db:"next_attempt_at" json:"next_attempt_at,omitempty"`
	UpdatedAt   time.Time  `db:"updated_at" json:"updated_at"`
}

// Failures lists the digests failing or given up, newest first.
func Failures(ctx context.Context, db *sqlx.DB) ([]Failure, error) {
	out := []Failure{}
	err := db.SelectContext(ctx, &out, `SELECT person_id, to_char(period, 'YYYY-MM-DD') AS period, status, attempts, last_error, next_attempt_at, updated_at
		FROM reminder_sends WHERE status IN ('failed', 'gave_up') ORDER BY updated_at DESC, person_id LIMIT 1000`)
	return out, err
}
