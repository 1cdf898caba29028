package projections_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/testenv"
)

// Issue 7: `bin/projector retry` exits 1 while the cause is there, leaving
// the quarantine as it is; after the fix it applies the quarantined event
// and the held one, exits 0, and /readyz is ready again.
func TestProjectorRetryCommandAfterFix(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the projector binary")
	}
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 1)
	waitFor(t, e, last)
	id := caseIDs(t, e)[0]
	if _, err := e.DB.Exec(`ALTER TABLE case_documents ADD CONSTRAINT test_poison CHECK (pages IS DISTINCT FROM 5000)`); err != nil {
		t.Fatal(err)
	}
	inject(t, e, id, events.DocumentSubmitted{Item: 4, Pages: 5000})
	held := inject(t, e, id, events.DocumentSubmitted{Item: 6, Pages: 1})
	waitFor(t, e, held)
	if _, body := readyz(t, e); body["status"] != "degraded" {
		t.Fatalf("readyz %v", body)
	}

	bin := filepath.Join(t.TempDir(), "projector")
	if out, err := exec.Command("go", "build", "-o", bin, "cihui/cmd/projector").CombinedOutput(); err != nil {
		t.Fatalf("building the projector: %v\n%s", err, out)
	}
	retry := func() (string, int) {
		cmd := exec.CommandContext(context.Background(), bin, "retry", "--metrics-addr", "", "--data-dir", t.TempDir())
		cmd.Env = append(os.Environ(),
			"DATABASE_URL="+e.DSN, "NATS_URL="+e.Server.ClientURL(),
			"NATS_NKEY_SEED_FILE="+jetstream.SeedFile(e.NATSAuthDir, jetstream.UserProjector), "CIHUI_LOG_LEVEL=error")
		out, err := cmd.Output()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := retry(); code != 1 || !strings.Contains(out, "applied 0, still quarantined 1, still held back 1") {
		t.Fatalf("retry before the fix: exit %d, %q", code, out)
	}
	if _, err := e.DB.Exec(`ALTER TABLE case_documents DROP CONSTRAINT test_poison`); err != nil {
		t.Fatal(err)
	}
	if out, code := retry(); code != 0 || !strings.Contains(out, "applied 2, still quarantined 0, still held back 0") {
		t.Fatalf("retry after the fix: exit %d, %q", code, out)
	}
	if got := submittedItems(t, e, id); fmt.Sprint(got) != "[1 2 3 4 6]" {
		t.Fatalf("items %v", got)
	}
	if _, body := readyz(t, e); body["status"] != "ready" {
		t.Fatalf("readyz after retry %v", body)
	}
}
