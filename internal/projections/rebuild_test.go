package projections_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// dumpAll renders every read-model table, every column, rows sorted.
func dumpAll(t *testing.T, e *testenv.Env) string {
	t.Helper()
	var b strings.Builder
	for _, table := range projections.ResetTables() {
		var rows []string
		if err := e.DB.Select(&rows, `SELECT to_jsonb(x)::text FROM `+pq.QuoteIdentifier(table)+` x`); err != nil {
			t.Fatal(err)
		}
		sort.Strings(rows)
		b.WriteString(table + "\n" + strings.Join(rows, "\n") + "\n")
	}
	cp, err := projections.Checkpoint(context.Background(), e.DB)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "checkpoint %d\n", cp)
	return b.String()
}

func rebuildOptions(t *testing.T, e *testenv.Env, slow bool, batch int) projections.RebuildOptions {
	j, err := js.New(e.ProjectorNC)
	if err != nil {
		t.Fatal(err)
	}
	return projections.RebuildOptions{DB: e.DB, JetStream: j, Stream: e.Store.StreamName(), Codec: e.Codec, BatchSize: batch, Slow: slow}
}

// Issue 13: the rebuild builds beside the live read models and switches
// in one transaction; what it builds equals, table by table and column by
// column, what the live projector built event by event.
func TestIssue13RebuildEqualsLiveProjection(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 10)
	waitFor(t, e, last)
	live := dumpAll(t, e)
	e.StopProjector()
	for _, slow := range []bool{false, true} {
		for _, batch := range []int{5, 4096} {
			res, err := projections.Rebuild(context.Background(), rebuildOptions(t, e, slow, batch))
			if err != nil {
				t.Fatal(err)
			}
			if res.Position != last {
				t.Fatalf("switched at %d, want %d", res.Position, last)
			}
			if got := dumpAll(t, e); got != live {
				t.Fatalf("slow=%v batch=%d: the rebuilt read models differ from the live ones:\n--- live\n%s\n--- rebuilt\n%s", slow, batch, live, got)
			}
			var shadow bool
			if err := e.DB.Get(&shadow, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, projections.ShadowSchema); err != nil || shadow {
				t.Fatalf("the shadow schema is left after the switch (%v)", err)
			}
		}
	}
}

// Issue 13: until the switch the API is served the live tables: a rebuild
// stopped before its switch leaves them as they were, and the live
// projector goes on after the switch from the rebuild's checkpoint.
func TestIssue13RebuildLeavesLiveTablesUntilTheSwitch(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 4)
	waitFor(t, e, last)
	before := dumpAll(t, e)
	stop := errStop{}
	o := rebuildOptions(t, e, false, 3)
	n := 0
	projections.SetRebuildBeforeCommit(&o, func([]events.Envelope) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if _, err := projections.Rebuild(context.Background(), o); err == nil {
		t.Fatal("the interrupted rebuild reported success")
	}
	if got := dumpAll(t, e); got != before {
		t.Fatalf("an unfinished rebuild changed the live read models:\n%s\n---\n%s", before, got)
	}
	// The live projector keeps following; the rebuild resumes and switches.
	more := seed(t, e, 2)
	res, err := projections.Rebuild(context.Background(), rebuildOptions(t, e, false, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.From == 0 {
		t.Fatalf("the rebuild did not resume from its checkpoint: %+v", res)
	}
	waitFor(t, e, more)
	after := dumpAll(t, e)
	e.StopProjector()
	if err := projections.Reset(context.Background(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	waitFor(t, e, more)
	if clean := dumpAll(t, e); clean != after {
		t.Fatalf("after the switch the read models differ from a clean replay:\n%s\n---\n%s", clean, after)
	}
}

type errStop struct{}

func (errStop) Error() string { return "stopped before the commit" }

// Issue 13: `projector rebuild` killed with SIGKILL at random moments of
// the shadow build (batches of 2), then started again, switches in read
// models equal to the live projection: no event lost or applied twice; and
// the live tables are untouched while the shadow build runs.
func TestIssue13RebuildProcessKilledEqualsLiveProjection(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the projector binary")
	}
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 40)
	waitFor(t, e, last)
	e.StopProjector()
	live := dumpAll(t, e)

	bin := filepath.Join(t.TempDir(), "projector")
	if out, err := exec.Command("go", "build", "-o", bin, "cihui/cmd/projector").CombinedOutput(); err != nil {
		t.Fatalf("building the projector: %v\n%s", err, out)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "rebuild", "--rebuild-batch", "2", "--metrics-addr", "", "--data-dir", t.TempDir())
		cmd.Env = append(os.Environ(),
			"DATABASE_URL="+e.DSN, "NATS_URL="+e.Server.ClientURL(),
			"NATS_NKEY_SEED_FILE="+jetstream.SeedFile(e.NATSAuthDir, jetstream.UserProjector),
			"CIHUI_LOG_LEVEL=error")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	shadowAt := func() (uint64, bool) {
		var ok bool
		if err := e.DB.Get(&ok, `SELECT to_regclass('rebuild.projection_checkpoints') IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if !ok {
			return 0, false
		}
		var pos uint64
		if err := e.DB.Get(&pos, `SELECT coalesce((SELECT position FROM rebuild.projection_checkpoints WHERE name = 'read_models'), 0)`); err != nil {
			t.Fatal(err)
		}
		return pos, true
	}
	kills, moved, seen := 0, 0, false
	for kills < 200 {
		before, _ := shadowAt()
		cmd := start()
		time.Sleep(time.Duration(60+rand.IntN(120)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kills++
		pos, building := shadowAt()
		if !building && seen {
			break // switched: the rebuild finished before this kill
		}
		seen = seen || building
		if pos > before {
			moved++
		}
		if got := dumpAll(t, e); got != live {
			t.Fatalf("the live tables changed during the shadow build (kill %d)", kills)
		}
	}
	if _, building := shadowAt(); building {
		cmd := start()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, b := shadowAt(); !b {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the rebuild did not finish")
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	if moved < 3 {
		t.Fatalf("only %d of %d kills came after progress: the test proves too little", moved, kills)
	}
	t.Logf("%d kills, %d of them after progress", kills, moved)
	if got := dumpAll(t, e); got != live {
		t.Fatalf("after %d kills the rebuilt read models differ from the live ones:\n--- live\n%s\n--- rebuilt\n%s", kills, live, got)
	}
}
