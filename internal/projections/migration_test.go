package projections_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"cihui/internal/pgtest"
	"cihui/internal/postgres"
	"cihui/migrations"
)

// Migration 00008 (issue 8, finding 1): the plaintext personal data an
// earlier projector wrote is gone from the read-model files, the
// personal columns hold sealed values only, and the checkpoint is reset
// so that the projector rebuilds from the first event.
func TestMigration00008RemovesPlaintextAndResetsCheckpoint(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	const name, nid, note, visit = "舊版明文甲", "K200731841", "舊版檢核備註", "舊版家訪紀錄"
	for _, q := range []string{
		`INSERT INTO cases (id, branch, origin_school, academic_year, route, grade, sex, stage, received_on, person_key, version, position, opened_at, updated_at)
		 VALUES ('r1', 'xiucai', '034501', 114, 'mid_year', 8, 'F', 'intake', '2026-02-11', 'p_1', 3, 3, now(), now())`,
		`INSERT INTO case_personal (case_id, student_name, national_id, guardian_name, guardian_relation, reason) VALUES ('r1', '` + name + `', '` + nid + `', '家長', '母', '原因')`,
		`INSERT INTO case_documents (case_id, item, note) VALUES ('r1', 1, '` + note + `')`,
		`INSERT INTO case_visits (position, case_id, kind, on_date, note) VALUES (3, 'r1', 'visit', '2026-02-11', '` + visit + `')`,
		`INSERT INTO projection_checkpoints (name, position) VALUES ('read_models', 3)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var dataDir string
	if err := db.Get(&dataDir, `SHOW data_directory`); err != nil {
		t.Fatal(err)
	}
	var oldFiles []string
	if err := db.Select(&oldFiles, `
		SELECT pg_relation_filepath(c.oid) FROM pg_class c
		WHERE c.oid IN ('case_personal'::regclass, 'case_documents'::regclass, 'case_visits'::regclass)
		   OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relname IN ('case_personal', 'case_documents', 'case_visits'))`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CHECKPOINT`); err != nil { // the plaintext is on disk
		t.Fatal(err)
	}
	if !anyFileHolds(t, dataDir, oldFiles, []byte(nid)) {
		t.Fatal("test setup: the plaintext did not reach the relation files")
	}

	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{name, nid, note, visit} {
		if anyFileHolds(t, dataDir, oldFiles, []byte(plain)) {
			t.Errorf("an old relation file still holds plaintext after the migration")
		}
	}
	var rows, checkpoints int
	_ = db.Get(&rows, `SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM case_personal) + (SELECT count(*) FROM case_documents) + (SELECT count(*) FROM case_visits)`)
	_ = db.Get(&checkpoints, `SELECT count(*) FROM projection_checkpoints WHERE name = 'read_models'`)
	if rows != 0 || checkpoints != 0 {
		t.Fatalf("after the migration: %d read-model rows, %d checkpoints; want both 0 (rebuild from the first event)", rows, checkpoints)
	}
	var types []string
	if err := db.Select(&types, `
		SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_name IN ('case_personal', 'case_documents', 'case_visits') AND data_type IN ('text', 'date', 'jsonb')
		  AND column_name NOT IN ('case_id', 'kind', 'on_date', 'issued_on', 'submitted_on')
		ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(types) != 0 {
		t.Fatalf("personal columns still plain: %v", types)
	}
}

// anyFileHolds reports whether any of the relation files (every segment)
// holds b.
func anyFileHolds(t *testing.T, dataDir string, rels []string, b []byte) bool {
	t.Helper()
	for _, rel := range rels {
		matches, _ := filepath.Glob(filepath.Join(dataDir, rel) + "*")
		for _, f := range matches {
			data, err := os.ReadFile(f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, b) {
				return true
			}
		}
	}
	return false
}
