package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUser is the system user the server runs as when this process is
// root. A variable for the tests.
var serverUser = "postgres"

// serverCredential returns the credential to run the PostgreSQL tools
// with: nil (this process's user) unless this process is root, which
// PostgreSQL refuses to run as.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, and PostgreSQL refuses to run as root, but there is no %q system user to run it as (%v); "+
			"install PostgreSQL (e.g. apt-get install -y postgresql), which creates it, or run as a non-root user", serverUser, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgcluster: user %q: %w", serverUser, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("pgcluster: the %q user is root; PostgreSQL refuses to run as root", serverUser)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareDirs creates the cluster and socket directories and, when the
// server runs as another user, hands them (and a data directory left by
// another user) to it and checks that it can reach them.
func (c *Cluster) prepareDirs() error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	// Private: whoever reaches the socket is superuser (trust auth).
	if err := os.Mkdir(c.socketDir(), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.Chmod(c.socketDir(), 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if c.cred == nil {
		return nil
	}
	uid, gid := int(c.cred.Uid), int(c.cred.Gid)
	for _, d := range []string{c.dir, c.socketDir()} {
		if err := os.Chown(d, uid, gid); err != nil {
			return fmt.Errorf("pgcluster: handing %s to the %s user: %w", d, serverUser, err)
		}
	}
	// A data directory created by another user (e.g. a run as non-root):
	// the server only starts on a data directory it owns.
	if st, err := os.Stat(c.dataDir()); err == nil && !ownedBy(st, uid) {
		if err := chownTree(c.dataDir(), uid, gid); err != nil {
			return fmt.Errorf("pgcluster: handing %s to the %s user: %w", c.dataDir(), serverUser, err)
		}
	}
	if f, err := os.Stat(c.serverLog()); err == nil && !ownedBy(f, uid) {
		if err := os.Chown(c.serverLog(), uid, gid); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	return c.checkTraversable(uid, gid)
}

// checkTraversable checks that the user uid (group gid) can search every
// directory above the cluster directory.
func (c *Cluster) checkTraversable(uid, gid int) error {
	for p := filepath.Dir(c.dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		perm := st.Mode().Perm()
		var ok bool
		switch {
		case sys == nil:
			ok = true // cannot tell; let the server report it
		case int(sys.Uid) == uid:
			ok = perm&0o100 != 0
		case int(sys.Gid) == gid:
			ok = perm&0o010 != 0
		default:
			ok = perm&0o001 != 0
		}
		if !ok {
			return fmt.Errorf("pgcluster: the %s user, which the server runs as since this process is root, cannot enter %s (mode %v), above the cluster directory %s; "+
				"use a directory it can reach (e.g. under /tmp, made with os.MkdirTemp and chmod 0755) or `chmod o+x %s`",
				serverUser, p, perm, c.dir, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func ownedBy(fi fs.FileInfo, uid int) bool {
	sys, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(sys.Uid) == uid
}

func chownTree(root string, uid, gid int) error {
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
