package config_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cihui/internal/config"
)

// Issue 8, finding 2: outside --dev the master key comes from
// CIHUI_MASTER_KEY or a key file, and a missing key is a clear error;
// a key left in the data directory is not used but named in the error;
// only --dev creates one there.
func TestMasterKeyNotKeptWithTheDataOutsideDev(t *testing.T) {
	t.Setenv("CIHUI_MASTER_KEY", "")
	dir := t.TempDir()
	devFile := filepath.Join(dir, "master.key")

	if _, err := config.MasterKey(config.MasterKeyOptions{DevFile: devFile}); !errors.Is(err, config.ErrNoMasterKey) {
		t.Fatalf("no key, not dev: %v", err)
	}
	if _, err := os.Stat(devFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a key was created outside --dev")
	}

	k, err := config.MasterKey(config.MasterKeyOptions{Dev: true, DevFile: devFile})
	if err != nil || len(k) != 32 {
		t.Fatalf("dev: %d bytes, %v", len(k), err)
	}
	if again, _ := config.MasterKey(config.MasterKeyOptions{Dev: true, DevFile: devFile}); !bytes.Equal(again, k) {
		t.Fatal("dev: the key changed between starts")
	}
	_, err = config.MasterKey(config.MasterKeyOptions{DevFile: devFile})
	if !errors.Is(err, config.ErrNoMasterKey) || !strings.Contains(err.Error(), devFile) {
		t.Fatalf("a dev key in the data directory, not dev: %v", err)
	}

	file := filepath.Join(t.TempDir(), "secret.key")
	if err := config.WriteMasterKey(file, k); err != nil {
		t.Fatal(err)
	}
	if got, err := config.MasterKey(config.MasterKeyOptions{File: file, DevFile: devFile}); err != nil || !bytes.Equal(got, k) {
		t.Fatalf("key file: %v", err)
	}
	other := bytes.Repeat([]byte{7}, 32)
	t.Setenv("CIHUI_MASTER_KEY", base64.StdEncoding.EncodeToString(other))
	if got, err := config.MasterKey(config.MasterKeyOptions{File: file}); err != nil || !bytes.Equal(got, other) {
		t.Fatalf("CIHUI_MASTER_KEY takes precedence: %v", err)
	}
	t.Setenv("CIHUI_MASTER_KEY", "short")
	if _, err := config.MasterKey(config.MasterKeyOptions{}); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("a bad key: %v (and the value must not be echoed)", err)
	}
}

// Issue 12: flags work before and after the subcommand.
func TestParseAnywhereTakesFlagsAfterTheSubcommand(t *testing.T) {
	for _, args := range [][]string{
		{"--database-url", "X", "token", "list"},
		{"token", "list", "--database-url", "X"},
		{"token", "--database-url=X", "list"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		url := fs.String("database-url", "", "")
		pos, err := config.ParseAnywhere(fs, args)
		if err != nil || *url != "X" || strings.Join(pos, " ") != "token list" {
			t.Errorf("%q: url %q, positional %q, err %v", args, *url, pos, err)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("database-url", "", "")
	pos, err := config.ParseAnywhere(fs, []string{"token", "--", "revoke", "--database-url"})
	if err != nil || strings.Join(pos, " ") != "token revoke --database-url" {
		t.Errorf("after --: %q, %v", pos, err)
	}
}

// Issue 12: the endpoints file counts only while its process lives.
func TestRunningEndpointsNeedsALiveProcess(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := config.RunningEndpoints(dir); ok || err != nil {
		t.Fatalf("no file: ok %v, err %v", ok, err)
	}
	if err := config.WriteEndpoints(dir, config.Endpoints{DatabaseURL: "db", NATSURL: "nats", PID: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := config.RunningEndpoints(dir); !ok || err != nil || e.DatabaseURL != "db" {
		t.Fatalf("live: %+v %v %v", e, ok, err)
	}
	// A process that has exited: a crash leaves the file behind.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := config.WriteEndpoints(dir, config.Endpoints{PID: cmd.Process.Pid}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := config.RunningEndpoints(dir); ok || err != nil {
		t.Fatalf("dead process: ok %v, err %v", ok, err)
	}
	// The projector waits past a file left by a crashed API.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := config.WaitEndpoints(ctx, dir, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("WaitEndpoints took a file naming a dead process")
	}
}

// Issue 12: the binaries' own flags are taken wherever they stand, and the
// subcommand keeps its own flags and arguments in order.
func TestSplitFlagsLeavesTheSubcommandItsFlags(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	url := fs.String("database-url", "", "")
	dev := fs.Bool("dev", false, "")
	rest, err := config.SplitFlags(fs, []string{"token", "--dev", "create", "--role", "admin", "--database-url", "X", "--label=a"})
	if err != nil || *url != "X" || !*dev || strings.Join(rest, " ") != "token create --role admin --label=a" {
		t.Errorf("url %q, dev %v, rest %q, err %v", *url, *dev, rest, err)
	}
}
