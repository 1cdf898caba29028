package projections

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// notCaseScoped are the read-model tables with a case_id that no event of
// a case's own stream writes: an as-of read leaves them as they are.
var notCaseScoped = map[string]string{
	"case_duplicates": "the person stream (R-CAP-1)",
	"roster_seats":    "the roster stream",
	"roster_waiting":  "the roster stream",
}

// Issue 11, a case as of any date: every read-model table that holds a
// case's rows is shadowed by the as-of read (or named above with the
// stream that writes it), so a new projected table cannot be forgotten
// and an as-of read never writes a real table.
func TestAsOfShadowsEveryCaseTable(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	var withCase []string
	if err := db.Select(&withCase, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'case_id' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	models := ResetTables()
	for _, table := range withCase {
		if !slices.Contains(models, table) || strings.HasPrefix(table, "projection_") {
			continue // the API's own tables, the quarantine
		}
		if !slices.Contains(caseTables, table) && notCaseScoped[table] == "" {
			t.Errorf("read-model table %s has case rows but is not shadowed by the as-of read (caseTables)", table)
		}
	}
	for _, table := range caseTables {
		if !slices.Contains(models, table) {
			t.Errorf("caseTables names %s, which is not a read-model table", table)
		}
	}
	// Shadowing works on the migrated schema and leaves nothing behind.
	r := NewReader(db)
	if err := r.AsOf(ctx, nil, func(rd *Reader) error {
		var n int
		return rd.db.GetContext(ctx, &n, `SELECT count(*) FROM cases`)
	}); err != nil {
		t.Fatal(err)
	}
}
