// Package pgtest gives tests a throwaway PostgreSQL: one cluster per test
// binary, started on first use in a fresh temporary directory with fsync
// off, and one database per test.
//
// Call Main from the package's TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and NewDatabase from each test that needs a database. The PostgreSQL
// server binaries must be installed (see pgcluster.FindBinDir); without
// them the tests fail, they are not skipped.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"cihui/internal/pgcluster"
)

// startTimeout bounds starting the cluster.
const startTimeout = 2 * time.Minute

// The cluster goes in ramDir, a RAM file system on Linux, when that has
// minRAMRoom bytes free, and in os.TempDir otherwise (e.g. in a container
// with the default 64 MB /dev/shm). Even with fsync off, PostgreSQL can
// be several times slower on disk: initdb, CREATE DATABASE and WAL
// segments write tens of megabytes.
const (
	ramDir     = "/dev/shm"
	minRAMRoom = 1 << 30
)

var (
	once     sync.Once
	cluster  *pgcluster.Cluster // nil until started
	startErr error
	seq      atomic.Int64 // numbers the databases
)

// Main runs the tests, then stops the cluster if one was started and
// removes its directory, and exits with the tests' exit code. Should the
// test binary die first (a panic, a timeout, a signal), the cluster is
// cleaned up all the same: it is ephemeral (see pgcluster.Options).
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		if err := os.RemoveAll(cluster.Dir()); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// Cluster returns the test binary's cluster, starting it on first use.
// If it cannot start, the test fails with the reason.
func Cluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	once.Do(func() { cluster, startErr = start() })
	if startErr != nil {
		t.Fatalf("pgtest: cannot start a throwaway PostgreSQL: %v", startErr)
	}
	return cluster
}

// start starts a cluster in a new directory. The directory is made 0755,
// unlike t.TempDir's 0700, so that the postgres user, which the server
// runs as when the tests run as root, can reach it.
func start() (*pgcluster.Cluster, error) {
	dir, err := newDir()
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Ephemeral: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// NewDatabase creates an empty database for the test, dropped when the
// test and its subtests end, and returns its lib/pq DSN. The database is
// named after the test.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Cluster(t)
	name := databaseName(t.Name(), seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// databaseName returns "t<n>_" followed by the test name in lower case
// with each run of other characters than [a-z0-9] replaced by one "_",
// within PostgreSQL's 63-byte limit on names.
func databaseName(testName string, n int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t%d_", n)
	sep := false
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 63 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			sep = false
		} else if !sep {
			b.WriteByte('_')
			sep = true
		}
	}
	return strings.TrimRight(b.String(), "_")
}

// newDir creates the cluster directory, in ramDir if it has room.
func newDir() (string, error) {
	if roomFor(ramDir, minRAMRoom) {
		if dir, err := os.MkdirTemp(ramDir, "pgtest-"); err == nil {
			return dir, nil
		}
	}
	base := os.TempDir()
	if len(base) > 64 { // the socket path must stay under 108 bytes
		base = "/tmp"
	}
	return os.MkdirTemp(base, "pgtest-")
}

// roomFor reports whether the file system of dir has n bytes available.
func roomFor(dir string, n uint64) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return uint64(st.Bavail)*uint64(st.Bsize) >= n
}
