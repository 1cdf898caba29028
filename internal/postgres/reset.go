package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// errResetSelf refuses an admin's reset of their own credentials: they
// change them as themselves (PUT /v1/me/password, POST /v1/me/totp), not
// by ending their own sessions.
var errResetSelf = domain.Errorf(domain.EConflict, "a person cannot reset their own credentials this way; change them under /v1/me")

// ResetPassword is an admin's (or the operator's) reset of a person's
// password: it sets password, clears a lock-out and ends every session of
// the person, in one transaction, recorded in the person's history like
// any change of them (never the password). bin/api people password and
// POST /v1/people/{id}/password-reset both call it.
func (l *Logins) ResetPassword(ctx context.Context, actor events.Actor, personID, password string) error {
	if actor.UserID == personID {
		return errResetSelf
	}
	return l.setPassword(ctx, actor, personID, password, nil, true)
}

// ResetTOTP clears a person's second factor, enrolled or pending, and ends
// every session of the person, recorded in their history. A person who is
// not an admin then signs in with their password and enrols a new one; an
// admin, for whom a second factor is required, is enrolled again by the
// operator (bin/api people totp). bin/api people totp --reset and DELETE
// /v1/people/{id}/totp both call it.
func (l *Logins) ResetTOTP(ctx context.Context, actor events.Actor, personID string) error {
	if actor.UserID == personID {
		return errResetSelf
	}
	return inTx(ctx, l.db, func(tx *sqlx.Tx) error {
		before, err := getPerson(ctx, tx, personID, true)
		if err != nil {
			return err
		}
		if before.Status == domain.PersonRemoved {
			return domain.Errorf(domain.EConflict, "the person has been removed")
		}
		if _, err := lockRow(ctx, tx, personID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE person_logins SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0, updated_at = now() WHERE person_id = $1`, personID); err != nil {
			return fmt.Errorf("postgres: clearing a second factor: %w", err)
		}
		if err := endSessions(ctx, tx, personID); err != nil {
			return err
		}
		after, err := getPerson(ctx, tx, personID, false)
		if err != nil {
			return err
		}
		return recordChange(ctx, tx, actor, &before, after)
	})
}
