package pgcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindBinDirNone(t *testing.T) {
	t.Setenv("PATH", "")
	_, err := findBinDir(filepath.Join(t.TempDir(), "*", "bin"))
	if err == nil || !strings.Contains(err.Error(), "install PostgreSQL (e.g. apt-get install -y postgresql)") {
		t.Fatalf("err = %v", err)
	}
}

func TestFindBinDirPicksNewest(t *testing.T) {
	t.Setenv("PATH", "")
	root := t.TempDir()
	for _, v := range []string{"9.6", "15", "10", "16"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		tools := serverTools
		if v == "16" {
			tools = tools[:2] // incomplete: no postgres
		}
		for _, tool := range tools {
			if err := os.WriteFile(filepath.Join(bin, tool), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := findBinDir(filepath.Join(root, "*", "bin"))
	if want := filepath.Join(root, "15", "bin"); got != want || err != nil {
		t.Fatalf("findBinDir = %q, %v; want %q", got, err, want)
	}
}

func TestNoServerUserAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	defer func(u string) { serverUser = u }(serverUser)
	serverUser = "no-such-user-pgcluster"
	_, err := serverCredential()
	if err == nil || !strings.Contains(err.Error(), `no "no-such-user-pgcluster" system user`) {
		t.Fatalf("err = %v", err)
	}
}

func TestDSNQuoting(t *testing.T) {
	c := &Cluster{dir: "/tmp/a b"}
	want := `host='/tmp/a b/run' port=5432 user=postgres dbname='it\'s a\\b' sslmode=disable`
	if got := c.DSN(`it's a\b`); got != want {
		t.Fatalf("DSN = %s, want %s", got, want)
	}
}
