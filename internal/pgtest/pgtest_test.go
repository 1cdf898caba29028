package pgtest_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"cihui/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func currentDatabase(t testing.TB, db *sql.DB) string {
	t.Helper()
	var name string
	if err := db.QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestDatabasesAreIsolated(t *testing.T) {
	t0 := time.Now()
	a := open(t, pgtest.NewDatabase(t)) // may start the cluster
	t.Logf("first NewDatabase (with the cluster's start): %v", time.Since(t0))
	t0 = time.Now()
	b := open(t, pgtest.NewDatabase(t))
	t.Logf("NewDatabase: %v", time.Since(t0))

	if currentDatabase(t, a) == currentDatabase(t, b) {
		t.Fatal("both calls returned the same database")
	}
	if _, err := a.Exec(`CREATE TABLE x (n int); INSERT INTO x VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(`SELECT * FROM x`); err == nil {
		t.Fatal("database b sees database a's table")
	}
}

func TestDatabaseIsDroppedAfterTheTest(t *testing.T) {
	var name string
	t.Run("Sub/with Odd-NAME é", func(t *testing.T) {
		db := open(t, pgtest.NewDatabase(t))
		name = currentDatabase(t, db)
		if !strings.HasSuffix(name, "_sub_with_odd_name") {
			t.Errorf("database name %q does not follow the test name", name)
		}
		// A session still open at the end does not stop the drop.
		db.SetMaxIdleConns(1)
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	admin := open(t, pgtest.Cluster(t).DSN("postgres"))
	if err := admin.QueryRow(`SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %q outlived its test", name)
	}
}

func TestParallelDatabases(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			db := open(t, pgtest.NewDatabase(t))
			name := currentDatabase(t, db)
			mu.Lock()
			defer mu.Unlock()
			if seen[name] {
				t.Errorf("database %q handed out twice", name)
			}
			seen[name] = true
		})
	}
}

func TestLongTestNameFitsPostgreSQLNames(t *testing.T) {
	t.Run(strings.Repeat("long", 30), func(t *testing.T) {
		name := currentDatabase(t, open(t, pgtest.NewDatabase(t)))
		if len(name) > 63 {
			t.Errorf("name %q is %d bytes", name, len(name))
		}
	})
}

func TestClusterSettings(t *testing.T) {
	c := pgtest.Cluster(t)
	if base := filepath.Base(c.Dir()); !strings.HasPrefix(base, "pgtest-") {
		t.Errorf("cluster in %s, not in a directory of its own", c.Dir())
	}
	var fsync string
	if err := open(t, c.DSN("postgres")).QueryRow(`SHOW fsync`).Scan(&fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" {
		t.Errorf("fsync = %s in the test cluster", fsync)
	}
}

func BenchmarkNewDatabase(b *testing.B) {
	pgtest.Cluster(b)
	for b.Loop() {
		pgtest.NewDatabase(b)
	}
}
