// Package pgcluster runs a local PostgreSQL cluster that a program
// initialises and starts itself: the development default (`make run`) and
// the throwaway databases of the tests. The server listens only on a Unix
// socket inside the cluster directory.
//
// PostgreSQL refuses to run as root; when the process is root, initdb and
// pg_ctl run as the `postgres` system user on a directory it owns.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/lib/pq"
)

// Options configure a cluster.
type Options struct {
	// Dir holds the cluster: data in Dir/data, the socket in Dir/run.
	Dir string
	// BinDir holds initdb and pg_ctl; empty: found automatically.
	BinDir string
	// Fsync off is for tests only.
	Fsync bool
	// Log receives initdb's and the server's output; nil discards it.
	Log io.Writer
}

// Cluster is a running local cluster.
type Cluster struct {
	dir, bin string
	cred     *syscall.Credential
	log      io.Writer
}

// FindBinDir returns the directory of the newest PostgreSQL server
// binaries under /usr/lib/postgresql/*/bin, or the one on PATH.
func FindBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("pgcluster: PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH; install PostgreSQL (e.g. apt-get install -y postgresql) or set DATABASE_URL")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initialises the cluster if Dir holds none, and starts it unless it
// is already running. Starting twice over the same Dir keeps the data.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("pgcluster: Dir is required")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	bin := o.BinDir
	if bin == "" {
		if bin, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	for _, tool := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			return nil, fmt.Errorf("pgcluster: %s not found in %s; install PostgreSQL (e.g. apt-get install -y postgresql)", tool, bin)
		}
	}
	c := &Cluster{dir: dir, bin: bin, log: o.Log}
	if c.log == nil {
		c.log = io.Discard
	}
	if sock := filepath.Join(dir, "run", ".s.PGSQL.5432"); len(sock) > 100 {
		return nil, fmt.Errorf("pgcluster: socket path %s is too long for a Unix socket; use a shorter directory", sock)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("pgcluster: running as root and no `postgres` system user exists to run PostgreSQL (install the postgresql package, or run as a normal user)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.run(ctx, "initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
			return nil, fmt.Errorf("pgcluster: initdb: %w", err)
		}
	}
	if c.running(ctx) {
		return c, nil
	}
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c max_connections=200", c.socketDir())
	if !o.Fsync {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "server.log"), "-o", opts); err != nil {
		return nil, fmt.Errorf("pgcluster: starting PostgreSQL (see %s): %w", filepath.Join(c.dir, "server.log"), err)
	}
	return c, nil
}

func (c *Cluster) dataDir() string   { return filepath.Join(c.dir, "data") }
func (c *Cluster) socketDir() string { return filepath.Join(c.dir, "run") }

// Dir returns the cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// prepareDirs creates the directories, owned by the server's user, and
// makes sure that user can reach them.
func (c *Cluster) prepareDirs() error {
	for _, d := range []string{c.dir, c.socketDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if c.cred == nil {
		return nil
	}
	for _, d := range []string{c.dir, c.socketDir()} {
		if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(c.dataDir()); err == nil {
		// Reclaim a data directory left by a run with other ownership.
		if err := chownTree(c.dataDir(), int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	// Every parent must be traversable by the server's user.
	for p := filepath.Dir(c.dir); p != "/"; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgcluster: %s is not traversable by the postgres user (mode %v); choose another directory", p, st.Mode().Perm())
		}
	}
	return nil
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func (c *Cluster) command(ctx context.Context, tool string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) error {
	var out bytes.Buffer
	cmd := c.command(ctx, tool, args...)
	cmd.Stdout = io.MultiWriter(&out, c.log)
	cmd.Stderr = io.MultiWriter(&out, c.log)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(lastLines(out.String(), 5)))
	}
	return nil
}

func (c *Cluster) running(ctx context.Context) bool {
	return c.command(ctx, "pg_ctl", "status", "-D", c.dataDir()).Run() == nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// DSN returns a lib/pq connection string for database dbname over the
// cluster's Unix socket.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s user=postgres dbname=%s sslmode=disable", c.socketDir(), dbname)
}

// CreateDatabase creates database name if it does not exist.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42P04" { // created concurrently
		return nil
	}
	return err
}

// DropDatabase drops database name, disconnecting its sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
	return err
}

// Stop stops the server (fast shutdown).
func (c *Cluster) Stop() error {
	return c.run(context.Background(), "pg_ctl", "stop", "-m", "fast", "-w", "-D", c.dataDir())
}
