package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// binGlob is where Debian and Ubuntu install the server binaries, one
// directory per major version.
const binGlob = "/usr/lib/postgresql/*/bin"

// installHint ends the errors about missing binaries.
const installHint = "install PostgreSQL (e.g. apt-get install -y postgresql)"

// serverTools are the binaries a cluster needs.
var serverTools = []string{"initdb", "pg_ctl", "postgres"}

// FindBinDir returns the directory holding the PostgreSQL server binaries
// (initdb, pg_ctl, postgres): the newest version under
// /usr/lib/postgresql/*/bin, else the directory of initdb on PATH.
func FindBinDir() (string, error) {
	return findBinDir(binGlob)
}

func findBinDir(glob string) (string, error) {
	dirs, _ := filepath.Glob(glob)
	slices.SortFunc(dirs, func(a, b string) int { return slices.Compare(version(b), version(a)) })
	for _, d := range dirs {
		if checkBinDir(d) == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if d := filepath.Dir(p); checkBinDir(d) == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgcluster: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under %s or on PATH; %s", glob, installHint)
}

// checkBinDir reports whether dir holds the server binaries.
func checkBinDir(dir string) error {
	for _, t := range serverTools {
		st, err := os.Stat(filepath.Join(dir, t))
		if err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			continue
		}
		if err == nil || errors.Is(err, os.ErrNotExist) {
			err = errors.New("missing or not executable")
		}
		return fmt.Errorf("pgcluster: PostgreSQL server binary %s: %v; %s", filepath.Join(dir, t), err, installHint)
	}
	return nil
}

// version returns the numbers of the version directory above binDir
// ("15" in /usr/lib/postgresql/15/bin, [9 6] for 9.6).
func version(binDir string) []int {
	var v []int
	for f := range strings.SplitSeq(filepath.Base(filepath.Dir(binDir)), ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil
		}
		v = append(v, n)
	}
	return v
}
