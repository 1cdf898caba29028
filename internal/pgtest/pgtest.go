// Package pgtest gives tests a throwaway PostgreSQL: one cluster per test
// binary, started lazily in a temp dir with fsync off, and one database
// per test.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cihui/internal/pgcluster"
)

var (
	once     sync.Once
	cluster  *pgcluster.Cluster
	dir      string
	startErr error
	counter  atomic.Int64
)

// Main runs the tests, then stops the cluster if one was started and
// removes it. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop()
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// Cluster returns the package's cluster, starting it on first use.
func Cluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	once.Do(func() {
		dir, startErr = os.MkdirTemp("", "cihui-pg-")
		if startErr != nil {
			return
		}
		if startErr = os.Chmod(dir, 0o755); startErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cluster, startErr = pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Fsync: false})
	})
	if startErr != nil {
		t.Fatalf("pgtest: cannot start a throwaway PostgreSQL: %v", startErr)
	}
	return cluster
}

var unsafe = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDatabase creates a fresh database for the test, dropped when it ends,
// and returns its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Cluster(t)
	name := unsafe.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t%d_%s", counter.Add(1), name)
	ctx := context.Background()
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("pgtest: creating database: %v", err)
	}
	t.Cleanup(func() { _ = c.DropDatabase(context.Background(), name) })
	return c.DSN(name)
}
