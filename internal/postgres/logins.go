package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/events"
)

// LoginPolicy bounds password sign-in attempts (issue 14).
type LoginPolicy struct {
	// MaxFailures in a row lock the person out for LockFor (default 5).
	MaxFailures int
	// LockFor is how long a lock-out lasts (default 15 min).
	LockFor time.Duration
}

func (p LoginPolicy) withDefaults() LoginPolicy {
	if p.MaxFailures <= 0 {
		p.MaxFailures = 5
	}
	if p.LockFor <= 0 {
		p.LockFor = 15 * time.Minute
	}
	return p
}

// Logins keeps the password and TOTP credentials of people and checks
// sign-in attempts with lock-out.
type Logins struct {
	db     *sqlx.DB
	policy LoginPolicy
}

// NewLogins returns the credential store.
func NewLogins(db *sqlx.DB, policy LoginPolicy) *Logins {
	return &Logins{db: db, policy: policy.withDefaults()}
}

// errSignIn is the one answer to every failed attempt: it says neither
// which part was wrong nor whether the person exists.
var errSignIn = domain.Errorf(domain.EUnauthorized, "the e-mail address, password or code is wrong")

// ErrLocked answers attempts while a person is locked out.
var ErrLocked = domain.Errorf(domain.ETooMany, "too many failed attempts; sign-in is locked for a while")

type loginRow struct {
	Hash     sql.NullString `db:"password_hash"`
	Secret   sql.NullString `db:"totp_secret"`
	Pending  sql.NullString `db:"totp_pending"`
	LastStep int64          `db:"totp_last_step"`
	Failed   int            `db:"failed_attempts"`
	Locked   sql.NullTime   `db:"locked_until"`
}

// lockRow locks (creating if need be) a person's credentials row.
func lockRow(ctx context.Context, tx *sqlx.Tx, personID string) (loginRow, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO person_logins (person_id) VALUES ($1) ON CONFLICT DO NOTHING`, personID); err != nil {
		return loginRow{}, fmt.Errorf("postgres: credentials: %w", err)
	}
	var r loginRow
	err := tx.GetContext(ctx, &r, `SELECT password_hash, totp_secret, totp_pending, totp_last_step, failed_attempts, locked_until
		FROM person_logins WHERE person_id = $1 FOR UPDATE`, personID)
	if err != nil {
		return r, fmt.Errorf("postgres: credentials: %w", err)
	}
	return r, nil
}

// SetPassword sets a person's password after the policy check (length,
// the common list), and records that it was set (never the password).
// With current non-nil, the current password must match first.
func (l *Logins) SetPassword(ctx context.Context, actor events.Actor, personID, password string, current *string) error {
	return l.setPassword(ctx, actor, personID, password, current, false)
}

// setPassword sets a password; with endSessions it also ends every
// session of the person, in the same transaction.
func (l *Logins) setPassword(ctx context.Context, actor events.Actor, personID, password string, current *string, endAll bool) error {
	if err := auth.CheckPassword(password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return inTx(ctx, l.db, func(tx *sqlx.Tx) error {
		before, err := getPerson(ctx, tx, personID, true)
		if err != nil {
			return err
		}
		if before.Status != domain.PersonActive {
			return domain.Errorf(domain.EConflict, "the person is not active")
		}
		r, err := lockRow(ctx, tx, personID)
		if err != nil {
			return err
		}
		if current != nil && r.Hash.Valid && !auth.VerifyPassword(r.Hash.String, *current) {
			return domain.Invalid(map[string]string{"current": "is not the current password"})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE person_logins SET password_hash = $2, failed_attempts = 0, locked_until = NULL, updated_at = now() WHERE person_id = $1`, personID, hash); err != nil {
			return fmt.Errorf("postgres: setting a password: %w", err)
		}
		if endAll {
			if err := endSessions(ctx, tx, personID); err != nil {
				return err
			}
		}
		after, err := getPerson(ctx, tx, personID, false)
		if err != nil {
			return err
		}
		return recordChange(ctx, tx, actor, &before, after)
	})
}

// BeginTOTP makes a new TOTP secret pending for a person and returns it
// with its otpauth:// URL; ConfirmTOTP enrols it.
func (l *Logins) BeginTOTP(ctx context.Context, personID string) (secret, url string, err error) {
	if secret, url, err = auth.NewTOTP(personID); err != nil {
		return "", "", err
	}
	err = inTx(ctx, l.db, func(tx *sqlx.Tx) error {
		p, err := getPerson(ctx, tx, personID, true)
		if err != nil {
			return err
		}
		if p.Status != domain.PersonActive {
			return domain.Errorf(domain.EConflict, "the person is not active")
		}
		if _, err := lockRow(ctx, tx, personID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE person_logins SET totp_pending = $2, updated_at = now() WHERE person_id = $1`, personID, secret)
		return err
	})
	return secret, url, err
}

// ConfirmTOTP enrols the pending secret once a code of it is shown, and
// records the change.
func (l *Logins) ConfirmTOTP(ctx context.Context, actor events.Actor, personID, code string, now time.Time) error {
	return inTx(ctx, l.db, func(tx *sqlx.Tx) error {
		before, err := getPerson(ctx, tx, personID, true)
		if err != nil {
			return err
		}
		r, err := lockRow(ctx, tx, personID)
		if err != nil {
			return err
		}
		if !r.Pending.Valid {
			return domain.Errorf(domain.EConflict, "no second factor is being enrolled")
		}
		step, ok := auth.CheckTOTP(r.Pending.String, code, now, 0)
		if !ok {
			return domain.Invalid(map[string]string{"code": "is not the current code of the authenticator"})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE person_logins SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2, updated_at = now() WHERE person_id = $1`, personID, step); err != nil {
			return err
		}
		after, err := getPerson(ctx, tx, personID, false)
		if err != nil {
			return err
		}
		return recordChange(ctx, tx, actor, &before, after)
	})
}

// CheckPassword checks a sign-in attempt at now: the person with that
// e-mail address, active, with that password, and — when they have
// enrolled one or hold the admin role — the current TOTP code. Failures
// count; MaxFailures in a row lock the person out for LockFor, during
// which even a right attempt is refused. Every failure gives the same
// answer, after the same work, whether or not the person exists.
func (l *Logins) CheckPassword(ctx context.Context, email, password, code string, now time.Time) (domain.Staff, error) {
	p, err := NewPeople(l.db).ByEmail(ctx, email)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.ENotFound {
		auth.VerifyPassword("", password)
		return domain.Staff{}, errSignIn
	}
	if err != nil {
		return domain.Staff{}, err
	}
	var result error
	err = inTx(ctx, l.db, func(tx *sqlx.Tx) error {
		r, err := lockRow(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if r.Locked.Valid && now.Before(r.Locked.Time) {
			auth.VerifyPassword("", password)
			result = ErrLocked
			return nil
		}
		hash := ""
		if r.Hash.Valid {
			hash = r.Hash.String
		}
		ok := auth.VerifyPassword(hash, password) && p.Status == domain.PersonActive
		var step int64
		if ok && (r.Secret.Valid || p.IsAdmin()) {
			// TOTP is required for admins: one without it cannot sign in
			// with a password until enrolled (bin/api people totp).
			if !r.Secret.Valid {
				ok = false
			} else {
				step, ok = auth.CheckTOTP(r.Secret.String, code, now, r.LastStep)
			}
		}
		if !ok {
			result = errSignIn
			failed, locked := r.Failed+1, sql.NullTime{}
			if failed >= l.policy.MaxFailures {
				failed, locked = 0, sql.NullTime{Time: now.Add(l.policy.LockFor), Valid: true}
				result = ErrLocked
			}
			_, err := tx.ExecContext(ctx, `UPDATE person_logins SET failed_attempts = $2, locked_until = $3, updated_at = now() WHERE person_id = $1`, p.ID, failed, locked)
			return err
		}
		if step == 0 {
			step = r.LastStep
		}
		_, err = tx.ExecContext(ctx, `UPDATE person_logins SET failed_attempts = 0, locked_until = NULL, totp_last_step = $2, updated_at = now() WHERE person_id = $1`, p.ID, step)
		return err
	})
	if err != nil {
		return domain.Staff{}, err
	}
	if result != nil {
		return domain.Staff{}, result
	}
	return p, nil
}
