package pgtest_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"cihui/internal/pgcluster"
	"cihui/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestDatabasesAreIsolated(t *testing.T) {
	a, err := sql.Open("postgres", pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sql.Open("postgres", pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Exec(`CREATE TABLE x (n int); INSERT INTO x VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(`SELECT * FROM x`); err == nil {
		t.Fatal("database b sees database a's table")
	}
}

// A cluster restarted over the same directory keeps its data, and Start
// on a running cluster reuses it.
func TestRestartKeepsData(t *testing.T) {
	dir, err := os.MkdirTemp("", "cihui-pgc-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDatabase(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateDatabase(ctx, "keep"); err != nil {
		t.Fatalf("CreateDatabase is not idempotent: %v", err)
	}
	db, _ := sql.Open("postgres", c.DSN("keep"))
	if _, err := db.Exec(`CREATE TABLE k (v text); INSERT INTO k VALUES ('kept')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	again, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		t.Fatalf("Start over a running cluster: %v", err)
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}
	c, err = pgcluster.Start(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	db, _ = sql.Open("postgres", c.DSN("keep"))
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT v FROM k`).Scan(&v); err != nil || v != "kept" {
		t.Fatalf("after restart: %q %v", v, err)
	}
}

func TestMissingBinariesIsAClearError(t *testing.T) {
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: t.TempDir(), BinDir: "/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), "install PostgreSQL") {
		t.Fatalf("err = %v", err)
	}
}
