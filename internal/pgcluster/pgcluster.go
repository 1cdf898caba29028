// Package pgcluster runs a local PostgreSQL cluster that a program
// initialises and starts itself: the development default (`make run`)
// and the throwaway databases of the tests.
//
// The cluster lives in one directory: the data in Dir/data, the server
// log in Dir/server.log and the server's Unix socket in Dir/run. The
// server listens on that socket only (no TCP) and trusts every local
// connection that reaches it; the socket directory is private (0700) to
// the user the server runs as.
//
// PostgreSQL refuses to run as root. When the process is root, initdb,
// pg_ctl and the server run as the `postgres` system user, and the
// cluster directory is handed to that user; every directory above it must
// be traversable by that user.
//
// PostgreSQL 13 or later is required.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// Superuser is the cluster's superuser, which DSN connects as.
const Superuser = "postgres"

// port is the server's port. With no TCP listener it only names the
// socket file (.s.PGSQL.5432); it is set explicitly so that a PGPORT in
// the environment changes neither the server nor the client.
const port = 5432

// maxSocketPath is the longest Unix socket path Linux accepts
// (sizeof(sun_path) - 1).
const maxSocketPath = 107

// Options configure a cluster.
type Options struct {
	// Dir holds the cluster. It is created if missing.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres; empty means FindBinDir.
	BinDir string
	// Fsync makes the cluster crash-safe. With Fsync false, fsync,
	// synchronous_commit and full_page_writes are off: for tests only.
	Fsync bool
	// Log receives the output of initdb, pg_ctl and the server; nil
	// discards it. The server log is also kept in Dir/server.log. The
	// server is configured not to log statements or error details, which
	// may quote data.
	Log io.Writer
	// Ephemeral clusters are stopped (immediate shutdown) and Dir is
	// removed when this process exits, however it exits: normally,
	// by a panic, a test timeout or a signal, even SIGKILL. For
	// throwaway test clusters; Dir must belong to nothing else.
	Ephemeral bool
}

// Cluster is a running local cluster.
type Cluster struct {
	dir  string // absolute
	bin  string
	cred *syscall.Credential // nil: run as the current user
	log  io.Writer           // goroutine-safe

	stopOnce sync.Once
	follow   *follower // copies server.log to Options.Log; may be nil
	// started is true when this process started the server; a cluster
	// found running belongs to whoever started it, and Stop leaves it.
	started bool
}

// Start initialises a cluster in opt.Dir if there is none yet and starts
// it, unless it is already running, in which case it is reused. Starting
// twice over the same Dir keeps the data. A reused cluster is never
// stopped by this process: Stop stops only a server Start started.
func Start(ctx context.Context, opt Options) (*Cluster, error) {
	if opt.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is required")
	}
	dir, err := filepath.Abs(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	bin := opt.BinDir
	if bin == "" {
		if bin, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	if err := checkBinDir(bin); err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, cred: cred, log: io.Discard}
	if opt.Log != nil {
		c.log = &syncWriter{w: opt.Log}
	}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx, opt.Fsync); err != nil {
			return nil, err
		}
	}
	if err := c.start(ctx, opt); err != nil {
		return nil, err
	}
	if opt.Ephemeral {
		if err := c.removeOnExit(); err != nil {
			_ = c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// Started reports whether this process started the server (rather than
// reusing one that was running).
func (c *Cluster) Started() bool { return c.started }

// Dir returns the absolute path of the cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// DataDir returns the cluster's data directory (its postmaster.pid).
func (c *Cluster) DataDir() string { return c.dataDir() }

func (c *Cluster) dataDir() string      { return filepath.Join(c.dir, "data") }
func (c *Cluster) socketDir() string    { return filepath.Join(c.dir, "run") }
func (c *Cluster) serverLog() string    { return filepath.Join(c.dir, "server.log") }
func (c *Cluster) tool(t string) string { return filepath.Join(c.bin, t) }

// initdb creates the cluster, in the C.UTF-8 locale where the system
// has it and with no locale (C) otherwise. Its collation is C either way:
// byte order, which for UTF-8 is the code-point order C.UTF-8 sorts by,
// so every ORDER BY answers as before and as Go's string comparison does,
// but PostgreSQL compares text keys with memcmp and abbreviated keys
// instead of strcoll. Building the rebuild's largest index (375,000 case
// ids) took 0.28-0.31 s instead of 0.38-0.44 s (issue 13). It
// initialises a scratch directory and renames it into place, so that an
// interrupted run leaves no half-made cluster behind.
func (c *Cluster) initdb(ctx context.Context, fsync bool) error {
	// A data directory with files but no PG_VERSION is not a cluster.
	if entries, err := os.ReadDir(c.dataDir()); err == nil && len(entries) > 0 {
		return fmt.Errorf("pgcluster: %s holds files but no cluster (no PG_VERSION); move it away", c.dataDir())
	}
	scratch := c.dataDir() + ".initdb"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	args := []string{"-D", scratch, "-U", Superuser, "--auth=trust", "-E", "UTF8"}
	if !fsync {
		args = append(args, "--no-sync")
	}
	out, err := c.run(ctx, "initdb", append(args, "--locale=C.UTF-8", "--lc-collate=C")...)
	if err != nil && strings.Contains(out, "invalid locale name") {
		// initdb failed before writing anything.
		out, err = c.run(ctx, "initdb", append(args, "--no-locale")...)
	}
	if err != nil {
		os.RemoveAll(scratch)
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, lastLines(out, 5))
	}
	// An empty data directory may stand in the way.
	if err := os.Remove(c.dataDir()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.RemoveAll(scratch)
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.Rename(scratch, c.dataDir()); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if fsync {
		if err := syncDir(c.dir); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	return nil
}

// syncDir makes the entries of directory dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// start starts the server unless it is running already.
func (c *Cluster) start(ctx context.Context, opt Options) error {
	if c.status(ctx) == statusRunning {
		if running, err := c.reuse(ctx); running || err != nil {
			return err
		}
	}
	rotate(c.serverLog(), 16<<20)
	var off int64
	if st, err := os.Stat(c.serverLog()); err == nil {
		off = st.Size()
	}
	if opt.Log != nil {
		c.follow = startFollower(c.serverLog(), off, c.log)
	}
	out, err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-s",
		"-D", c.dataDir(), "-l", c.serverLog(), "-o", c.serverOptions(opt.Fsync))
	if err == nil {
		c.started = true
		return nil
	}
	c.follow.stop()
	// Another process may have started it meanwhile.
	if c.status(ctx) == statusRunning && c.ping(ctx) == nil {
		return nil
	}
	msg := lastLines(out, 3)
	if l := lastLines(readFrom(c.serverLog(), off), 5); l != "" {
		msg += "\nserver log (" + c.serverLog() + "):\n" + l
	}
	return fmt.Errorf("pgcluster: starting PostgreSQL in %s: %w: %s", c.dataDir(), err, msg)
}

// serverOptions returns pg_ctl's -o argument: server settings, quoted for
// the shell pg_ctl passes them through.
func (c *Cluster) serverOptions(fsync bool) string {
	settings := []string{
		"listen_addresses=",
		"port=" + strconv.Itoa(port),
		// A list setting: the double quotes keep the path one element.
		`unix_socket_directories="` + strings.ReplaceAll(c.socketDir(), `"`, `""`) + `"`,
		"unix_socket_permissions=0700",
		"max_connections=200",
		// Keep data out of the log: no failing statements, no
		// DETAIL/CONTEXT lines, no ERROR or WARNING messages (their
		// text can quote values; the client receives them anyway).
		"log_min_messages=log",
		"log_min_error_statement=panic",
		"log_error_verbosity=terse",
		"log_checkpoints=off",
	}
	if !fsync {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	}
	var b strings.Builder
	for i, s := range settings {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("-c ")
		b.WriteString(shellQuote(s))
	}
	return b.String()
}

// reuse waits for the server that postmaster.pid names to answer on the
// socket, and reports whether it does. It reports false, removing
// postmaster.pid, if that process turns out to be a zombie (a server that
// has exited but that its parent, often init, has not reaped yet): the
// file is stale, but the server would take the zombie for a live
// postmaster and refuse to start.
func (c *Cluster) reuse(ctx context.Context) (bool, error) {
	// It may have been started an instant ago and still be starting up.
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pidFile := filepath.Join(c.dataDir(), "postmaster.pid")
	for {
		err := c.ping(ctx)
		if err == nil {
			return true, nil
		}
		pid, ok := readPid(pidFile)
		switch {
		case !ok || !processExists(pid):
			return false, nil // stopped meanwhile; pg_ctl start copes
		case zombie(pid):
			if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return false, fmt.Errorf("pgcluster: removing stale %s: %w", pidFile, err)
			}
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("pgcluster: %s names a live process, but no server answers on %s (%v); "+
				"stop that server, or remove postmaster.pid if no PostgreSQL runs there", pidFile, c.socketDir(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readPid returns the process ID in the first line of a postmaster.pid.
func readPid(pidFile string) (int, bool) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	return pid, err == nil && pid > 0
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// zombie reports whether process pid has exited and awaits reaping
// (Linux only; elsewhere it reports false).
func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func (c *Cluster) ping(ctx context.Context) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// DSN returns a lib/pq connection string for database dbname, as the
// superuser, over the cluster's Unix socket.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		dsnQuote(c.socketDir()), port, Superuser, dsnQuote(dbname))
}

// CreateDatabase creates database name; it is not an error if it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	return c.admin(ctx, func(db *sql.DB) error {
		var exists bool
		err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
		if err != nil || exists {
			return err
		}
		_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
		if pqErr, ok := errors.AsType[*pq.Error](err); ok && pqErr.Code == "42P04" {
			return nil // duplicate_database: created concurrently
		}
		return err
	})
}

// DropDatabase drops database name if it exists, terminating its
// sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	return c.admin(ctx, func(db *sql.DB) error {
		_, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
		return err
	})
}

// admin runs f on a connection to the postgres database.
func (c *Cluster) admin(ctx context.Context, f func(*sql.DB) error) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := f(db); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// Stop stops the server (fast shutdown: sessions are terminated) and
// waits until it has exited. Stopping a stopped cluster does nothing, and
// so does stopping a cluster this process found running (Started false):
// it belongs to the process that started it.
func (c *Cluster) Stop() error {
	ctx := context.Background()
	defer c.stopOnce.Do(c.follow.stop)
	if !c.started || c.status(ctx) != statusRunning {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "stop", "-m", "fast", "-w", "-t", "60", "-s", "-D", c.dataDir()); err != nil {
		if c.status(ctx) != statusRunning {
			return nil // stopped by someone else meanwhile
		}
		return fmt.Errorf("pgcluster: stopping PostgreSQL in %s: %w: %s", c.dataDir(), err, lastLines(out, 3))
	}
	return nil
}

type serverStatus int

const (
	statusRunning serverStatus = iota
	statusStopped
	statusUnknown
)

// status asks pg_ctl whether the server is running: postmaster.pid
// exists and names a live process.
func (c *Cluster) status(ctx context.Context) serverStatus {
	err := c.command(ctx, "pg_ctl", "status", "-D", c.dataDir()).Run()
	if err == nil {
		return statusRunning
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.ExitCode() == 3 {
		return statusStopped
	}
	return statusUnknown
}

// command returns a command running tool as the server's user, in the
// cluster directory, with the PG* variables removed from its environment.
func (c *Cluster) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.tool(tool), args...)
	// On cancellation, let initdb remove what it made, and pg_ctl stop
	// waiting, rather than SIGKILL them.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = c.dir
	cmd.Env = c.env()
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *Cluster) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	// English messages, which initdb's locale fallback recognises.
	return append(env, "LC_ALL=C")
}

// run runs tool, copying its output to the log, and also returns it.
func (c *Cluster) run(ctx context.Context, tool string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := c.command(ctx, tool, args...)
	cmd.Stdout = io.MultiWriter(&out, c.log)
	cmd.Stderr = cmd.Stdout
	err := cmd.Run()
	return out.String(), err
}

// checkDir rejects directories the server's socket path cannot hold and
// characters that pg_ctl's shell command line or lib/pq's host list
// would misread.
func checkDir(dir string) error {
	if strings.ContainsAny(dir, "\"$`\\,") || strings.ContainsFunc(dir, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("pgcluster: directory %q holds a character PostgreSQL tools cannot take (one of \" $ ` \\ , or a control character); choose another directory", dir)
	}
	sock := filepath.Join(dir, "run", ".s.PGSQL."+strconv.Itoa(port))
	if len(sock) > maxSocketPath {
		return fmt.Errorf("pgcluster: the socket path %s would be %d bytes, over the %d-byte limit of Unix sockets; choose a shorter directory",
			sock, len(sock), maxSocketPath)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dsnQuote quotes a value for a key=value connection string.
func dsnQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, ` '\`+"\t\n\r\f\v") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
