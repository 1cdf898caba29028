package config_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
