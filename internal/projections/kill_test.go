package projections_test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"cihui/internal/jetstream"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// The projector binary is killed with SIGKILL at random moments — in the
// middle of batches among them — and started again, until it has caught
// up; the read models are then identical to a clean rebuild.
func TestProjectorProcessKilledAndRestartedEqualsRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the projector binary")
	}
	e := testenv.New(t, testenv.Options{NoProjector: true})
	last := seed(t, e, 60)

	bin := filepath.Join(t.TempDir(), "projector")
	build := exec.Command("go", "build", "-o", bin, "cihui/cmd/projector")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the projector: %v\n%s", err, out)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--batch", "4", "--metrics-addr", "", "--data-dir", t.TempDir())
		cmd.Env = append(os.Environ(),
			"DATABASE_URL="+e.DSN, "NATS_URL="+e.Server.ClientURL(),
			"NATS_NKEY_SEED_FILE="+jetstream.SeedFile(e.NATSAuthDir, jetstream.UserProjector),
			"CIHUI_LOG_LEVEL=error")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	checkpoint := func() uint64 {
		cp, err := projections.Checkpoint(context.Background(), e.DB)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	// Each kill comes 20–80 ms after the start, plus a delay that grows
	// while kills find no progress (a loaded machine starts the process
	// slowly) and starts again from nothing after progress.
	kills, moved := 0, 0
	var slow time.Duration
	for checkpoint() < last && kills < 200 {
		before := checkpoint()
		cmd := start()
		time.Sleep(time.Duration(20+rand.IntN(60))*time.Millisecond + slow)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kills++
		if checkpoint() > before {
			moved++
			slow = 0
		} else {
			slow += 20 * time.Millisecond
		}
	}
	// Let a last run finish the stream if the kills left some behind.
	if checkpoint() < last {
		cmd := start()
		waitFor(t, e, last)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	if moved < 3 {
		t.Fatalf("only %d of %d kills came after progress: the test proves too little", moved, kills)
	}
	t.Logf("%d kills, %d of them after progress", kills, moved)
	afterKills := dump(t, e)

	if err := projections.Reset(context.Background(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	waitFor(t, e, last)
	e.StopProjector()
	if rebuilt := dump(t, e); rebuilt != afterKills {
		t.Fatalf("read models after %d kills differ from a clean rebuild:\n--- killed\n%s\n--- rebuilt\n%s", kills, afterKills, rebuilt)
	}
}
