package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cihui/internal/testenv"
)

// Issue 12, through the commands: `api backup DIR` runs beside the live
// system (found by its endpoints file) and leaves it serving; `api
// restore DIR` refuses a data directory whose API is running, and brings
// the backup into a fresh data directory, where the API and the projector
// start as usual: the restored tokens work and the referral reads back
// whole (its key came with the key ring; the master key was given apart).
func TestBackupAndRestoreCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system twice on data directories and builds the projector")
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	t.Setenv("CIHUI_MASTER_KEY", base64.StdEncoding.EncodeToString(master))
	dir := atRestDataDir(t)
	sys := startAtRestSystem(t, dir)
	res := sys.must(t, http.StatusCreated, "POST", "/v1/referrals", "origin_school", testenv.ValidReferral("A123456789"))
	id := res["id"].(string)

	backupDir := filepath.Join(t.TempDir(), "backup-1")
	if err := run(context.Background(), []string{"backup", "--data-dir", dir, "--log-level", "error", backupDir}); err != nil {
		t.Fatalf("backup beside the live system: %v", err)
	}
	if r, err := http.Get(sys.api + "/readyz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("the live system after the backup: %v %v", r, err)
	}
	// min_position: the projector may not have applied the referral yet.
	sys.must(t, http.StatusOK, "GET", fmt.Sprintf("/v1/referrals/%s?min_position=%.0f", id, res["position"]), "social_worker", nil)
	if err := run(context.Background(), []string{"restore", "--data-dir", dir, "--log-level", "error", backupDir}); err == nil || !strings.Contains(err.Error(), "running") {
		t.Fatalf("restore onto the running system: %v, want a refusal", err)
	}
	sys.stopAPI()

	fresh := atRestDataDir(t)
	if err := run(context.Background(), []string{"restore", "--data-dir", fresh, "--nats-listen", "127.0.0.1:-1", "--log-level", "error", backupDir}); err != nil {
		t.Fatalf("restore into a fresh data directory: %v", err)
	}
	// The dev tokens of the first system are restored tokens: the API on
	// the fresh directory keeps the file because they authenticate.
	b, err := os.ReadFile(filepath.Join(dir, "dev-tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fresh, "dev-tokens.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := startAtRestSystem(t, fresh)
	for role, tok := range sys.tokens {
		if restored.tokens[role] != tok {
			t.Errorf("%s: the restored system made a new token: the backed-up one does not authenticate", role)
		}
	}
	var got map[string]any
	for i := 0; ; i++ { // the projector rebuilds the read models
		status, out := restored.do(t, "GET", "/v1/referrals/"+id, "social_worker", nil)
		if status == http.StatusOK {
			got = out
			break
		}
		if i > 300 {
			t.Fatalf("the restored referral: %d %v", status, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _ := got["student"].(map[string]any); st == nil || st["national_id"] != "A123456789" {
		t.Fatalf("the restored referral does not open: %v", got)
	}
}
