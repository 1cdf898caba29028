package pgcluster_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"cihui/internal/pgcluster"
)

// newDir returns a fresh directory the server's user can reach (unlike
// t.TempDir, which is 0700 and so closed to `postgres` when tests run as
// root), removed when the test ends.
func newDir(t *testing.T, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// start starts a cluster, stopped when the test ends.
func start(t *testing.T, opt pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, opt)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryString(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

func TestStart(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	var log bytes.Buffer
	t0 := time.Now()
	c := start(t, pgcluster.Options{Dir: filepath.Join(dir, "pg"), Log: &log})
	t.Logf("cold Start (initdb + start): %v", time.Since(t0))

	if got, want := c.Dir(), filepath.Join(dir, "pg"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	if want := "host=" + filepath.Join(dir, "pg", "run") + " "; !strings.HasPrefix(c.DSN("postgres"), want) {
		t.Errorf("DSN = %q, want prefix %q", c.DSN("postgres"), want)
	}
	db := open(t, c.DSN("postgres"))
	for _, q := range []struct{ query, want string }{
		{"SELECT current_user", "postgres"},
		{"SELECT current_database()", "postgres"},
		{"SHOW listen_addresses", ""},
		{"SHOW server_encoding", "UTF8"},
		{"SHOW fsync", "off"},
		{"SHOW synchronous_commit", "off"},
		{"SHOW full_page_writes", "off"},
		{"SELECT 1 + 1", "2"},
	} {
		if got := queryString(t, db, q.query); got != q.want {
			t.Errorf("%s = %q, want %q", q.query, got, q.want)
		}
	}
	// Byte order, whatever the character classes (issue 13).
	if got := queryString(t, db, "SHOW lc_collate"); got != "C" {
		t.Errorf("lc_collate = %q, want C", got)
	}
	if got := queryString(t, db, "SHOW lc_ctype"); got != "C.UTF-8" && got != "C" {
		t.Errorf("lc_ctype = %q, want C.UTF-8 or C", got)
	}

	st, err := os.Stat(filepath.Join(c.Dir(), "run"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode = %v, want 0700", st.Mode().Perm())
	}
	if os.Geteuid() == 0 {
		st, err := os.Stat(filepath.Join(c.Dir(), "data"))
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid == 0 {
			t.Errorf("data directory owned by root; want the postgres user")
		}
	}

	db.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, want := range []string{"Success.", "database system is ready to accept connections", "database system is shut down"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("Log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	ctx := t.Context()
	c := start(t, pgcluster.Options{Dir: dir, Fsync: true})
	if err := c.CreateDatabase(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	db := open(t, c.DSN("keep"))
	if got := queryString(t, db, "SHOW fsync"); got != "on" {
		t.Errorf("fsync = %q with Options.Fsync", got)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE k (v text); INSERT INTO k VALUES ('kept')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	c = start(t, pgcluster.Options{Dir: dir, Fsync: true})
	if got := queryString(t, open(t, c.DSN("keep")), `SELECT v FROM k`); got != "kept" {
		t.Fatalf("after restart: %q", got)
	}
}

// Start over a directory where initdb was interrupted, or that has an
// empty data directory, makes the cluster.
func TestStartAfterInterruptedInitdb(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	for _, d := range []string{"data", "data.initdb/base"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c := start(t, pgcluster.Options{Dir: dir})
	mustServe(t, c)
	if exists(filepath.Join(dir, "data.initdb")) {
		t.Error("data.initdb left behind")
	}
}

func TestStartRefusesForeignDataDir(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "no PG_VERSION") {
		t.Fatalf("err = %v", err)
	}
	if !exists(filepath.Join(dir, "data", "precious")) {
		t.Fatal("Start removed a file it did not make")
	}
}

func TestStartReusesRunningCluster(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	a := start(t, pgcluster.Options{Dir: dir})
	started := queryString(t, open(t, a.DSN("postgres")), "SELECT pg_postmaster_start_time()::text")

	b := start(t, pgcluster.Options{Dir: dir})
	if got := queryString(t, open(t, b.DSN("postgres")), "SELECT pg_postmaster_start_time()::text"); got != started {
		t.Errorf("second Start started a new server (%s, first %s)", got, started)
	}
	if b.Started() || !a.Started() {
		t.Errorf("Started: first %v, second %v; want true, false", a.Started(), b.Started())
	}
	// Issue 12: a process that reused a running cluster never stops it.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, open(t, a.DSN("postgres")), "SELECT pg_postmaster_start_time()::text"); got != started {
		t.Errorf("after the reusing Stop the server is %s, want the first one (%s) still running", got, started)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Errorf("Stop of a cluster already stopped: %v", err)
	}
}

func TestStartAfterStalePostmasterPid(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	c := start(t, pgcluster.Options{Dir: dir})
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// As left by a crash: the file names the dead postmaster, which may
	// still be a zombie if init is slow to reap it.
	if err := os.WriteFile(pidFile, pid, 0o600); err != nil {
		t.Fatal(err)
	}
	chownLikeDataDir(t, pidFile)
	c = start(t, pgcluster.Options{Dir: dir})
	mustServe(t, c)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// A postmaster.pid naming a zombie of the server's user: a postmaster
	// that has exited but that its parent has not reaped (yet).
	z := exec.Command("true")
	if os.Geteuid() == 0 {
		st, err := os.Stat(filepath.Join(dir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		z.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sys.Uid, Gid: sys.Gid}}
	}
	if err := z.Start(); err != nil {
		t.Fatal(err)
	}
	defer z.Wait()
	for !isZombie(z.Process.Pid) {
		time.Sleep(10 * time.Millisecond)
	}
	_, rest, _ := strings.Cut(string(pid), "\n")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(z.Process.Pid)+"\n"+rest), 0o600); err != nil {
		t.Fatal(err)
	}
	chownLikeDataDir(t, pidFile)
	c = start(t, pgcluster.Options{Dir: dir})
	mustServe(t, c)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// A postmaster.pid naming a process that is gone for good.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(gone.Process.Pid)+"\n"+rest), 0o600); err != nil {
		t.Fatal(err)
	}
	chownLikeDataDir(t, pidFile)
	c = start(t, pgcluster.Options{Dir: dir})
	mustServe(t, c)
}

// mustServe checks that the cluster answers a query.
func mustServe(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	if got := queryString(t, open(t, c.DSN("postgres")), "SELECT 'up'"); got != "up" {
		t.Fatal(got)
	}
}

// chownLikeDataDir gives path the owner of the data directory beside it.
func chownLikeDataDir(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if err := os.Chown(path, int(sys.Uid), int(sys.Gid)); err != nil {
		t.Fatal(err)
	}
}

func TestCreateAndDropDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := start(t, pgcluster.Options{Dir: newDir(t, "pgc-")})
	for _, name := range []string{"plain", `We"ird name; DROP DATABASE postgres --`, `it's`, "中文"} {
		if err := c.CreateDatabase(ctx, name); err != nil {
			t.Fatalf("CreateDatabase(%q): %v", name, err)
		}
		if err := c.CreateDatabase(ctx, name); err != nil {
			t.Fatalf("CreateDatabase(%q) again: %v", name, err)
		}
		db := open(t, c.DSN(name))
		if got := queryString(t, db, "SELECT current_database()"); got != name {
			t.Fatalf("connected to %q, want %q", got, name)
		}
		// The open session does not stop the drop.
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Fatalf("DropDatabase(%q): %v", name, err)
		}
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Fatalf("DropDatabase(%q) again: %v", name, err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&n); err == nil {
			t.Fatalf("database %q still answers after DropDatabase", name)
		}
	}
	if got := queryString(t, open(t, c.DSN("postgres")), "SELECT count(*)::text FROM pg_database WHERE datname = 'postgres'"); got != "1" {
		t.Fatal("the postgres database is gone")
	}
}

func TestDirWithSpaces(t *testing.T) {
	t.Parallel()
	c := start(t, pgcluster.Options{Dir: filepath.Join(newDir(t, "pgc-"), "my data", "p g")})
	if got := queryString(t, open(t, c.DSN("postgres")), "SELECT 'ok'"); got != "ok" {
		t.Fatal(got)
	}
}

// The server log keeps no values: neither error messages that quote them
// nor the failing statements.
func TestServerLogKeepsNoData(t *testing.T) {
	t.Parallel()
	dir := newDir(t, "pgc-")
	var log bytes.Buffer
	c := start(t, pgcluster.Options{Dir: dir, Log: &log})
	db := open(t, c.DSN("postgres"))
	const secret = "A123456789"
	for _, q := range []string{
		`CREATE TABLE p (id text PRIMARY KEY)`,
		`INSERT INTO p VALUES ('` + secret + `')`,
		`INSERT INTO p VALUES ('` + secret + `')`, // duplicate key: DETAIL quotes it
		`SELECT '` + secret + `'::int`,            // invalid input: the message quotes it
	} {
		_, _ = db.ExecContext(t.Context(), q)
	}
	db.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"Log": log.String(), "server.log": string(file)} {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds the value:\n%s", name, s)
		}
	}
}

func TestMissingBinDir(t *testing.T) {
	t.Parallel()
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: newDir(t, "pgc-"), BinDir: "/nonexistent/bin"})
	if err == nil || !strings.Contains(err.Error(), "install PostgreSQL") || !strings.Contains(err.Error(), "/nonexistent/bin/initdb") {
		t.Fatalf("err = %v, want one naming /nonexistent/bin/initdb and telling to install PostgreSQL", err)
	}
}

func TestSocketPathTooLong(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(newDir(t, "pgc-"), strings.Repeat("d", 100))
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "107-byte limit") {
		t.Fatalf("err = %v, want the socket path limit", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Start created %s before failing: %v", dir, err)
	}
}

func TestUnsupportedDirCharacters(t *testing.T) {
	t.Parallel()
	for _, name := range []string{`a"b`, "a$b", "a,b", "a\nb"} {
		_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: filepath.Join(os.TempDir(), name)})
		if err == nil || !strings.Contains(err.Error(), "character") {
			t.Errorf("Dir %q: err = %v", name, err)
		}
	}
}

// As root, the server runs as postgres, which must be able to reach Dir.
func TestUnreachableDirAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	t.Parallel()
	closed := filepath.Dir(t.TempDir()) // 0700, root's
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: filepath.Join(closed, "pg")})
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+closed+" ") {
		t.Fatalf("err = %v", err)
	}
}

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	dir, err := pgcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			t.Error(err)
		}
	}
}

// An ephemeral cluster is stopped and its directory removed when the
// process that started it dies, here by SIGKILL.
func TestEphemeralRemovedOnExit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(newDir(t, "pgc-"), "pg")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestEphemeralHelper$")
	cmd.Env = append(os.Environ(), "PGCLUSTER_EPHEMERAL_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if !strings.HasPrefix(line, "ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	pidText, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(pidText), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	if !alive(pid) {
		t.Fatal("the server is not running")
	}
	cmd.Process.Kill()
	cmd.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) || exists(dir) {
		if time.Now().After(deadline) {
			t.Fatalf("30s after the process died: server alive %v, directory left %v", alive(pid), exists(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEphemeralHelper runs in the child process of
// TestEphemeralRemovedOnExit.
func TestEphemeralHelper(t *testing.T) {
	dir := os.Getenv("PGCLUSTER_EPHEMERAL_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	if _, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Ephemeral: true}); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(time.Hour) // until killed
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil && !isZombie(pid)
}

// isZombie reports whether process pid has exited but not been reaped.
func isZombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')') // "pid (comm) state ..."
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
