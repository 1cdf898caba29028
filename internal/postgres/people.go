package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// People stores the people behind the roles and every change of them
// (issue 14).
type People struct{ db *sqlx.DB }

// NewPeople returns the people store.
func NewPeople(db *sqlx.DB) *People { return &People{db: db} }

// NewPersonID returns a fresh opaque person id: "per_" and 16 hex digits.
// It holds nothing of the person.
func NewPersonID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "per_" + hex.EncodeToString(b[:])
}

const personCols = `id, name, email, roles, status, reminders, COALESCE(oidc_subject, '') AS oidc_subject, created_at, updated_at`

type personRow struct {
	ID        string    `db:"id"`
	Name      string    `db:"name"`
	Email     string    `db:"email"`
	Roles     []byte    `db:"roles"`
	Status    string    `db:"status"`
	Reminders string    `db:"reminders"`
	Subject   string    `db:"oidc_subject"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

func (r personRow) person() (domain.Staff, error) {
	p := domain.Staff{ID: r.ID, Name: r.Name, Email: r.Email, Status: domain.StaffStatus(r.Status),
		Reminders: r.Reminders, Subject: r.Subject, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Roles, &p.Roles); err != nil {
		return p, fmt.Errorf("postgres: the roles of person %s: %w", r.ID, err)
	}
	return p, nil
}

// queryer is what both *sqlx.DB and *sqlx.Tx offer.
type queryer interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func getPerson(ctx context.Context, q queryer, id string, forUpdate bool) (domain.Staff, error) {
	var r personRow
	query := `SELECT ` + personCols + ` FROM people WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	err := q.GetContext(ctx, &r, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Staff{}, domain.Errorf(domain.ENotFound, "no such person")
	}
	if err != nil {
		return domain.Staff{}, fmt.Errorf("postgres: reading a person: %w", err)
	}
	p, err := r.person()
	if err != nil {
		return p, err
	}
	return p, loginFlags(ctx, q, &p)
}

// loginFlags fills whether p has a password and TOTP.
func loginFlags(ctx context.Context, q queryer, p *domain.Staff) error {
	var f struct {
		Password bool `db:"password"`
		TOTP     bool `db:"totp"`
	}
	err := q.GetContext(ctx, &f, `SELECT password_hash IS NOT NULL AS password, totp_secret IS NOT NULL AS totp FROM person_logins WHERE person_id = $1`, p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("postgres: reading sign-in flags: %w", err)
	}
	p.Password, p.TOTP = f.Password, f.TOTP
	return nil
}

// Get returns a person.
func (s *People) Get(ctx context.Context, id string) (domain.Staff, error) {
	return getPerson(ctx, s.db, id, false)
}

// List returns the people not removed, or every person with removed.
func (s *People) List(ctx context.Context, removed bool) ([]domain.Staff, error) {
	var rows []personRow
	q := `SELECT ` + personCols + ` FROM people`
	if !removed {
		q += ` WHERE status <> 'removed'`
	}
	if err := s.db.SelectContext(ctx, &rows, q+` ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("postgres: listing people: %w", err)
	}
	out := make([]domain.Staff, 0, len(rows))
	for _, r := range rows {
		p, err := r.person()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ByEmail returns the person, not removed, with that e-mail address.
func (s *People) ByEmail(ctx context.Context, email string) (domain.Staff, error) {
	var id string
	err := s.db.GetContext(ctx, &id, `SELECT id FROM people WHERE lower(email) = lower($1) AND email <> '' AND status <> 'removed'`, email)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Staff{}, domain.Errorf(domain.ENotFound, "no such person")
	}
	if err != nil {
		return domain.Staff{}, fmt.Errorf("postgres: finding a person: %w", err)
	}
	return s.Get(ctx, id)
}

// BySubject returns the person, not removed, an OpenID Connect claim
// value is mapped to.
func (s *People) BySubject(ctx context.Context, subject string) (domain.Staff, error) {
	var id string
	err := s.db.GetContext(ctx, &id, `SELECT id FROM people WHERE oidc_subject = $1 AND status <> 'removed'`, subject)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Staff{}, domain.Errorf(domain.ENotFound, "no such person")
	}
	if err != nil {
		return domain.Staff{}, fmt.Errorf("postgres: finding a person: %w", err)
	}
	return s.Get(ctx, id)
}

func (s *People) knownBranches(ctx context.Context) (func(string) bool, error) {
	var codes []string
	if err := s.db.SelectContext(ctx, &codes, `SELECT code FROM branches`); err != nil {
		return nil, fmt.Errorf("postgres: listing branches: %w", err)
	}
	known := map[string]bool{}
	for _, c := range codes {
		known[c] = true
	}
	return func(c string) bool { return known[c] }, nil
}

// Invite records a new person, active, with the change that made them.
func (s *People) Invite(ctx context.Context, actor events.Actor, p domain.Staff) (domain.Staff, error) {
	known, err := s.knownBranches(ctx)
	if err != nil {
		return p, err
	}
	if err := domain.ValidateStaff(&p, known); err != nil {
		return p, err
	}
	p.ID, p.Status = NewPersonID(), domain.PersonActive
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := insertPerson(ctx, tx, p); err != nil {
			return err
		}
		after, err := getPerson(ctx, tx, p.ID, false)
		if err != nil {
			return err
		}
		p = after
		return recordChange(ctx, tx, actor, nil, p)
	})
	return p, err
}

func insertPerson(ctx context.Context, tx *sqlx.Tx, p domain.Staff) error {
	roles, err := json.Marshal(p.Roles)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO people (id, name, email, roles, status, reminders, oidc_subject) VALUES ($1,$2,$3,$4,$5,$6,NULLIF($7,''))`,
		p.ID, p.Name, p.Email, roles, p.Status, p.Reminders, p.Subject)
	return uniqueConflict(err)
}

// uniqueConflict turns a unique violation (e-mail or subject in use) into
// a conflict that names the field, not the value.
func uniqueConflict(err error) error {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		switch pe.Constraint {
		case "people_email":
			return domain.Errorf(domain.EConflict, "another person has that e-mail address")
		case "people_subject":
			return domain.Errorf(domain.EConflict, "another person has that OpenID Connect subject")
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: writing a person: %w", err)
	}
	return nil
}

func recordChange(ctx context.Context, tx *sqlx.Tx, actor events.Actor, before *domain.Staff, after domain.Staff) error {
	var b []byte
	if before != nil {
		var err error
		if b, err = json.Marshal(before); err != nil {
			return err
		}
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO people_changes (person_id, seq, actor_role, actor_id, before, after)
		SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM people_changes WHERE person_id = $1`,
		after.ID, string(actor.Role), actor.UserID, b, a)
	if err != nil {
		return fmt.Errorf("postgres: recording a change of a person: %w", err)
	}
	return nil
}

// PersonPatch is a change of a person; nil fields stay as they are.
type PersonPatch struct {
	Name      *string         `json:"name,omitempty"`
	Email     *string         `json:"email,omitempty"`
	Roles     *[]domain.Scope `json:"roles,omitempty"`
	Reminders *string         `json:"reminders,omitempty"`
	Subject   *string         `json:"oidc_subject,omitempty"`
}

// Change applies patch to a person who is not removed, and records it.
// A role taken away takes the person's tokens of that role with it (the
// token check requires the person to hold the token's scope).
func (s *People) Change(ctx context.Context, actor events.Actor, id string, patch PersonPatch) (domain.Staff, error) {
	known, err := s.knownBranches(ctx)
	if err != nil {
		return domain.Staff{}, err
	}
	var out domain.Staff
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		before, err := getPerson(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Status == domain.PersonRemoved {
			return domain.Errorf(domain.EConflict, "the person has been removed")
		}
		p := before
		p.Roles = append([]domain.Scope(nil), before.Roles...)
		if patch.Name != nil {
			p.Name = *patch.Name
		}
		if patch.Email != nil {
			p.Email = *patch.Email
		}
		if patch.Roles != nil {
			p.Roles = *patch.Roles
		}
		if patch.Reminders != nil {
			p.Reminders = *patch.Reminders
			if p.Reminders == "" {
				return domain.Invalid(map[string]string{"reminders": "must be daily, weekly or off"})
			}
		}
		if patch.Subject != nil {
			p.Subject = *patch.Subject
		}
		if err := domain.ValidateStaff(&p, known); err != nil {
			return err
		}
		roles, err := json.Marshal(p.Roles)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET name=$2, email=$3, roles=$4, reminders=$5, oidc_subject=NULLIF($6,''), updated_at=now() WHERE id=$1`,
			id, p.Name, p.Email, roles, p.Reminders, p.Subject); err != nil {
			return uniqueConflict(err)
		}
		if out, err = getPerson(ctx, tx, id, false); err != nil {
			return err
		}
		if err := touchTokens(ctx, tx, id); err != nil {
			return err
		}
		return recordChange(ctx, tx, actor, &before, out)
	})
	return out, err
}

// touchTokens updates a person's token rows without changing them, in
// the transaction that changes the person: a verified-token cache that
// listens for changes of api_tokens (a trigger's NOTIFY, issue 13) then
// drops them at once, so that a suspension or a role taken away is not
// outlived by a cached token.
func touchTokens(ctx context.Context, tx *sqlx.Tx, personID string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET person_id = person_id WHERE person_id = $1 AND revoked_at IS NULL`, personID); err != nil {
		return fmt.Errorf("postgres: marking a person's tokens changed: %w", err)
	}
	return nil
}

// SetStatus suspends, reinstates or removes a person, and records it.
// Suspending or removing ends the person's sessions at once and, with
// removal, revokes their tokens; a suspended person's tokens are refused
// until reinstated (the token check requires an active person).
func (s *People) SetStatus(ctx context.Context, actor events.Actor, id string, status domain.StaffStatus) (domain.Staff, error) {
	var out domain.Staff
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		before, err := getPerson(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if before.Status == domain.PersonRemoved {
			return domain.Errorf(domain.EConflict, "the person has been removed")
		}
		if before.Status == status {
			out = before
			return nil
		}
		if actor.UserID == id && status != domain.PersonActive {
			return domain.Errorf(domain.EConflict, "a person cannot suspend or remove themselves")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET status=$2, updated_at=now() WHERE id=$1`, id, status); err != nil {
			return fmt.Errorf("postgres: changing a person's status: %w", err)
		}
		if status == domain.PersonRemoved {
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE person_id = $1 AND revoked_at IS NULL`, id); err != nil {
				return fmt.Errorf("postgres: revoking a person's tokens: %w", err)
			}
		}
		if status != domain.PersonActive {
			if err := endSessions(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := touchTokens(ctx, tx, id); err != nil {
			return err
		}
		if out, err = getPerson(ctx, tx, id, false); err != nil {
			return err
		}
		return recordChange(ctx, tx, actor, &before, out)
	})
	return out, err
}

// endSessions deletes a person's sessions.
func endSessions(ctx context.Context, tx *sqlx.Tx, id string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE person_id = $1`, id); err != nil {
		return fmt.Errorf("postgres: ending a person's sessions: %w", err)
	}
	return nil
}

// History returns the recorded changes of a person, oldest first.
func (s *People) History(ctx context.Context, id string) ([]domain.StaffChange, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, changed_at, actor_role, actor_id, before, after FROM people_changes WHERE person_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: reading a person's history: %w", err)
	}
	defer rows.Close()
	out := []domain.StaffChange{}
	for rows.Next() {
		ch := domain.StaffChange{PersonID: id}
		var before, after []byte
		if err := rows.Scan(&ch.Seq, &ch.At, &ch.ActorRole, &ch.ActorID, &before, &after); err != nil {
			return nil, err
		}
		if before != nil {
			ch.Before = new(domain.Staff)
			if err := json.Unmarshal(before, ch.Before); err != nil {
				return nil, err
			}
		}
		if err := json.Unmarshal(after, &ch.After); err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, rows.Err()
}
