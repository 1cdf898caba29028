package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"

	"cihui/internal/postgres"
)

// Restore brings the backup in dir into a fresh system: db migrated and
// empty, none of the streams present. It checks everything first (the
// manifest's checksums, the schema version, that nothing would be
// overwritten), then loads the tables in one transaction, restores the
// streams and commits. The read models are left to the projector, which
// rebuilds them from the restored log (its checkpoint starts at zero).
func Restore(ctx context.Context, nc *nats.Conn, db *sqlx.DB, dir string) (Manifest, error) {
	return RestoreWith(ctx, nc, db, dir, Options{})
}

// Options tune a restore.
type Options struct {
	// Replicas, if set, is the streams' replica count on the target (a
	// backup of a three-node cluster restored on one server, or back).
	Replicas int
}

// RestoreWith is Restore with options.
func RestoreWith(ctx context.Context, nc *nats.Conn, db *sqlx.DB, dir string, o Options) (Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return Manifest{}, err
	}
	v, _, err := postgres.MigrationStatus(ctx, db)
	if err != nil {
		return Manifest{}, err
	}
	if m.SchemaVersion > v {
		return Manifest{}, fmt.Errorf("restore: the backup has schema version %d, this program %d: restore with the version that took it", m.SchemaVersion, v)
	}
	// Never overwrite live data.
	busy, err := nonEmptyTables(ctx, db)
	if err != nil {
		return Manifest{}, err
	}
	if len(busy) > 0 {
		return Manifest{}, fmt.Errorf("%w: tables %v hold rows; restore into a fresh database", errNotEmpty, busy)
	}
	for _, s := range m.Streams {
		exists, st, err := streamInfo(ctx, nc, s.Name)
		if err != nil {
			return Manifest{}, err
		}
		if exists {
			// An existing stream cannot be replaced (nobody may delete
			// one), even an empty one: restore before the API first starts.
			return Manifest{}, fmt.Errorf("%w: stream %s exists (%d messages); restore into a fresh data directory before the API starts", errNotEmpty, s.Name, st.Messages)
		}
	}

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return Manifest{}, err
	}
	defer func() { _ = tx.Rollback() }()
	// A backup taken before people (migration 00019) has tokens without a
	// person: they get one each, named after the label, as the migration
	// gave the tokens of a running system.
	beforePeople := !hasTable(m, "people")
	if beforePeople {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE api_tokens ALTER COLUMN person_id DROP NOT NULL`); err != nil {
			return Manifest{}, err
		}
	}
	for _, t := range m.Tables {
		if err := loadTable(ctx, tx, t.Name, filepath.Join(dir, t.File), t.Rows); err != nil {
			return Manifest{}, err
		}
	}
	if beforePeople {
		if err := peopleForTokens(ctx, tx); err != nil {
			return Manifest{}, err
		}
	}
	for _, s := range m.Streams {
		f, err := os.Open(filepath.Join(dir, s.File))
		if err != nil {
			return Manifest{}, err
		}
		cfg, err := withReplicas(s.Config, o.Replicas)
		if err != nil {
			f.Close()
			return Manifest{}, fmt.Errorf("restore: config of %s: %w", s.Name, err)
		}
		err = restore(ctx, nc, s.Name, cfg, s.State, f)
		f.Close()
		if err != nil {
			return Manifest{}, err
		}
		exists, st, err := streamInfo(ctx, nc, s.Name)
		if err != nil {
			return Manifest{}, err
		}
		if !exists || st.LastSeq != s.LastSeq || st.Messages != s.Messages {
			return Manifest{}, fmt.Errorf("restore: stream %s restored with %d messages up to %d, the manifest says %d up to %d", s.Name, st.Messages, st.LastSeq, s.Messages, s.LastSeq)
		}
	}
	return m, tx.Commit()
}

func hasTable(m Manifest, name string) bool {
	for _, t := range m.Tables {
		if t.Name == name {
			return true
		}
	}
	return false
}

// peopleForTokens gives every token without a person one of its own, as
// migration 00019 does, and restores the constraint.
func peopleForTokens(ctx context.Context, tx *sqlx.Tx) error {
	for _, q := range []string{
		`INSERT INTO people (id, name, roles, status, created_at, updated_at)
		 SELECT 'per_' || substr(md5(id), 1, 16), CASE WHEN label = '' THEN id ELSE label END,
		        jsonb_build_array(jsonb_build_object('role', role, 'school', school, 'branch', branch)),
		        CASE WHEN revoked_at IS NULL THEN 'active' ELSE 'removed' END, created_at, now()
		 FROM api_tokens WHERE person_id IS NULL`,
		`INSERT INTO people_changes (person_id, seq, actor_role, actor_id, after)
		 SELECT p.id, 1, 'system', 'restore-before-people',
		        jsonb_build_object('id', p.id, 'name', p.name, 'email', p.email, 'roles', p.roles, 'status', p.status, 'reminders', p.reminders)
		 FROM people p JOIN api_tokens t ON p.id = 'per_' || substr(md5(t.id), 1, 16) WHERE t.person_id IS NULL`,
		`UPDATE api_tokens SET person_id = 'per_' || substr(md5(id), 1, 16) WHERE person_id IS NULL`,
		`ALTER TABLE api_tokens ALTER COLUMN person_id SET NOT NULL`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("restore: people for the tokens of a backup before people: %w", err)
		}
	}
	return nil
}

// withReplicas sets the replica count of a stream config (JSON), keeping
// every other field as the backup has it.
func withReplicas(cfg json.RawMessage, replicas int) (json.RawMessage, error) {
	if replicas <= 0 {
		return cfg, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(cfg, &m); err != nil {
		return nil, err
	}
	m["num_replicas"] = json.RawMessage(strconv.Itoa(replicas))
	return json.Marshal(m)
}
