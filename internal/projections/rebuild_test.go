package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/benchgen"
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
			if !slow && (res.Folded == 0 || res.FellBack > 0) || slow && res.Folded > 0 {
				t.Fatalf("slow=%v: %d batches folded, %d by the live path", slow, res.Folded, res.FellBack)
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
		err := e.DB.Get(&pos, `SELECT coalesce((SELECT position FROM rebuild.projection_checkpoints WHERE name = 'read_models'), 0)`)
		if pe, ok := errors.AsType[*pq.Error](err); ok && pe.Code == "42P01" {
			return 0, false // switched in between the two queries
		}
		if err != nil {
			t.Fatal(err)
		}
		return pos, true
	}
	// Each kill comes 60–180 ms after the start, plus a delay that grows
	// while kills find no progress (a loaded machine starts the process
	// slowly) and starts again from nothing after progress.
	kills, moved, seen := 0, 0, false
	var slow time.Duration
	for kills < 200 {
		before, _ := shadowAt()
		cmd := start()
		time.Sleep(time.Duration(60+rand.IntN(120))*time.Millisecond + slow)
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
			slow = 0
		} else {
			slow += 40 * time.Millisecond
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

// Issue 13: a generated history with every kind of case history (filing,
// checklist, visits, review, meeting, admission, waiting list, rejection,
// enrolment, dropouts, legal holds, erasures, the roster), cases
// interleaved across batches, plus cases made through the API: the fast
// rebuild equals the live projection table by table, for batch sizes that
// cut the cases anywhere, and its batches are all folded.
func TestIssue13FastRebuildEqualsLiveProjection(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	seed(t, e, 3)
	st := generate(t, e, benchgen.Options{Cases: 90, Chunk: 30, Rare: true, Seed: 1})
	last := seed(t, e, 2)
	if last <= st.Last {
		t.Fatalf("positions: %d after %d", last, st.Last)
	}
	waitFor(t, e, last)
	e.StopProjector()
	if q, err := projections.Quarantined(context.Background(), e.DB); err != nil || q.Events+q.Held > 0 {
		t.Fatalf("the live projection quarantined generated events: %+v %v", q, err)
	}
	live := dumpAll(t, e)
	types := map[string]bool{}
	var seen []string
	if err := e.DB.Select(&seen, `SELECT DISTINCT event_type FROM case_timeline`); err != nil {
		t.Fatal(err)
	}
	for _, s := range seen {
		types[s] = true
	}
	for _, want := range []string{"ReferralOpened", "DocumentSubmitted", "DocumentChecked", "HomeVisitLogged", "AssessmentReportFinished",
		"FirstReviewDecided", "Admitted", "Waitlisted", "Rejected", "HealthCheckRecorded", "Enrolled", "RegistrationRecorded",
		"DropoutOpened", "DropoutReported", "DropoutFollowUpLogged", "DropoutFound", "DropoutReturned", "DropoutClosed", "LegalHoldPlaced", "PersonErased"} {
		if !types[want] {
			t.Errorf("the history has no %s", want)
		}
	}
	for _, batch := range []int{7, 100, 8192} {
		res, err := projections.Rebuild(context.Background(), rebuildOptions(t, e, false, batch))
		if err != nil {
			t.Fatal(err)
		}
		if res.Position != last || res.Folded == 0 || res.FellBack > 0 {
			t.Fatalf("batch %d: %+v", batch, res)
		}
		// Batches are folded ahead while the one before is written, the
		// erasures in them included (by the cases the rebuild has seen
		// opened, some in earlier batches).
		if res.Prefolded == 0 || (batch > 7 && res.PrefoldErasures == 0) {
			t.Errorf("batch %d: %d batches prefolded, with %d erasures", batch, res.Prefolded, res.PrefoldErasures)
		}
		if batch == 8192 {
			// One batch holds every episode whole: none of its events
			// goes to the SQL.
			for _, typ := range []string{"DropoutOpened", "DropoutFound", "DropoutReturned", "DropoutClosed"} {
				if n := res.BySQLTypes[typ]; n > 0 {
					t.Errorf("batch %d: %d %s applied by their SQL, not folded", batch, n, typ)
				}
			}
		}
		if got := dumpAll(t, e); got != live {
			t.Fatalf("batch %d: the fast rebuild differs from the live projection:\n%s", batch, diffDump(live, got))
		}
		// The rebuilt tables went in vacuumed and analysed: no
		// autovacuum of every table under the first reads.
		var unready []string
		if err := e.DB.Select(&unready, `SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public'
			AND relname = ANY($1) AND (last_vacuum IS NULL OR last_analyze IS NULL)`, pq.Array(projections.ResetTables())); err != nil {
			t.Fatal(err)
		}
		if res.Vacuum <= 0 || len(unready) > 0 {
			t.Errorf("batch %d: vacuum %v; tables not vacuumed and analysed: %v", batch, res.Vacuum, unready)
		}
	}
}

// diffDump shows the lines of two dumps that differ.
func diffDump(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(la), len(lb)) && len(out) < 20; i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

// Issue 13: the live path of each event type the rebuild folds writes no
// table the fold does not write: a projection that adds an effect to one
// of them fails here until fold.go does it too. Each event of a generated
// history is applied alone by the live path, in its own transaction, and
// the tables it changed are read from pg_stat_xact_user_tables.
func TestIssue13FoldedTypesWriteNoOtherTable(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	st := generate(t, e, benchgen.Options{Cases: 24, Chunk: 12, Rare: true, Seed: 2})
	ctx := context.Background()
	p := e.NewProjector()
	wrote := map[string]map[string]bool{}
	for pos := uint64(1); pos <= st.Last; pos++ {
		msg, err := e.Store.JetStream().Stream(ctx, e.Store.StreamName())
		if err != nil {
			t.Fatal(err)
		}
		raw, err := msg.GetMsg(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		env, err := e.Codec.Decode(raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		env.Position = pos
		tx, err := e.DB.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The view also counts what the connection did before and has not
		// reported yet: compare before and after.
		counts := func() map[string]int64 {
			var rows []struct {
				Table string `db:"relname"`
				N     int64  `db:"n"`
			}
			if err := tx.SelectContext(ctx, &rows, `SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n
				FROM pg_stat_xact_user_tables WHERE schemaname = 'public'`); err != nil {
				t.Fatal(err)
			}
			m := map[string]int64{}
			for _, r := range rows {
				m[r.Table] = r.N
			}
			return m
		}
		before := counts()
		if err := projections.ApplyLive(ctx, p, tx, env); err != nil {
			t.Fatalf("%s at %d: %v", env.Type, pos, err)
		}
		var tables []string
		for tb, n := range counts() {
			if n > before[tb] {
				tables = append(tables, tb)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if wrote[env.Type] == nil {
			wrote[env.Type] = map[string]bool{}
		}
		for _, tb := range tables {
			wrote[env.Type][tb] = true
		}
	}
	for typ, allowed := range projections.FoldedWrites {
		if wrote[typ] == nil {
			t.Errorf("the history has no %s", typ)
			continue
		}
		for tb := range wrote[typ] {
			if !slices.Contains(allowed, tb) {
				t.Errorf("the live path of %s writes %s, which the rebuild's fold (fold.go) does not", typ, tb)
			}
		}
	}
	// The check can fail: a type outside the folds writes other tables.
	if wrote["Admitted"]["duties"] != true {
		t.Errorf("Admitted's writes not seen: %v", wrote["Admitted"])
	}
}

// Issue 13: a rebuild stopped after some batches resumes with the cases
// it wrote before the stop known by person, so that a later erasure
// erases them too (the prefold finds an erasure's cases without a query).
func TestIssue13ResumedRebuildErasesCasesWrittenBeforeTheStop(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	st := generate(t, e, benchgen.Options{Cases: 60, Chunk: 30, Rare: true, Seed: 2})
	waitFor(t, e, st.Last)
	e.StopProjector()
	live := dumpAll(t, e)

	// Two batches of 100 events: the first chunk's cases are opened, and
	// none of its erasures (at the chunk's end) is reached.
	o := rebuildOptions(t, e, false, 100)
	n := 0
	projections.SetRebuildBeforeCommit(&o, func([]events.Envelope) error {
		if n++; n == 3 {
			return errStop{}
		}
		return nil
	})
	if _, err := projections.Rebuild(context.Background(), o); err == nil {
		t.Fatal("the interrupted rebuild reported success")
	}
	res, err := projections.Rebuild(context.Background(), rebuildOptions(t, e, false, 100))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.From != 200 || res.PrefoldErasures == 0 {
		t.Fatalf("want a resumed rebuild from 200 that prefolded erasures: %+v", res)
	}
	if got := dumpAll(t, e); got != live {
		t.Fatalf("the resumed rebuild differs from the live projection:\n%s", diffDump(live, got))
	}
}

// generate publishes a generated history into the test's stream.
func generate(t *testing.T, e *testenv.Env, o benchgen.Options) benchgen.Stats {
	t.Helper()
	j, err := js.New(e.NC)
	if err != nil {
		t.Fatal(err)
	}
	st, err := benchgen.Generate(context.Background(), j, e.Codec, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkpointsRequested reads how many checkpoints the cluster was asked
// for (pg_stat_checkpointer from PostgreSQL 17, pg_stat_bgwriter before).
func checkpointsRequested(t *testing.T, e *testenv.Env) int64 {
	t.Helper()
	var n int64
	err := e.DB.Get(&n, `SELECT num_requested FROM pg_stat_checkpointer`)
	if err != nil {
		err = e.DB.Get(&n, `SELECT checkpoints_req FROM pg_stat_bgwriter`)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Issue 13: the rebuild writes its tables out (CHECKPOINT) before the
// switch, while the API still reads the live ones, rather than leaving a
// checkpoint of gigabytes to end under the reads after it.
func TestIssue13RebuildCheckpointsBeforeTheSwitch(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 5)
	waitFor(t, e, last)
	e.StopProjector()
	before := checkpointsRequested(t, e)
	res, err := projections.Rebuild(context.Background(), rebuildOptions(t, e, false, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if res.Checkpoint <= 0 {
		t.Fatalf("the rebuild spent %v in a checkpoint, want one", res.Checkpoint)
	}
	if after := checkpointsRequested(t, e); after <= before {
		t.Fatalf("checkpoints requested: %d before the rebuild, %d after", before, after)
	}
}
