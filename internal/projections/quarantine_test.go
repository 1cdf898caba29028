package projections_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// inject publishes an event straight into the stream, around the API and
// the domain: a valid envelope on the case's own subject, as a bug or an
// older build could have written it. It returns its position.
func inject(t *testing.T, e *testenv.Env, caseID string, ev events.Event) uint64 {
	t.Helper()
	ctx := context.Background()
	sid := events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: caseID}
	loaded, err := e.Store.Load(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	now := e.Clock.Now()
	env := events.Envelope{
		ID: fmt.Sprintf("injected-%s-%d", caseID, loaded.Version+1), AggregateType: events.AggregateReferral, AggregateID: caseID,
		Branch: e.Branch.Code, Version: loaded.Version + 1, OccurredAt: now, RecordedAt: now,
		Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"},
	}
	b, err := e.Codec.Encode(&env, ev)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := e.Store.JetStream().Publish(ctx, sid.Subject(), b)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// startProjector runs a projector with its metrics in reg until the test
// ends or the returned stop is called.
func startProjector(t *testing.T, e *testenv.Env, reg prometheus.Registerer) (*projections.Projector, func()) {
	t.Helper()
	p := projections.New(projections.Options{
		DB: e.DB, JetStream: e.Store.JetStream(), Stream: e.Store.StreamName(), Codec: e.Codec,
		BatchSize: 16, Registry: reg,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.RunWithRestart(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return p, stop
}

// openCases files n referrals through the API and returns their ids.
func openCases(t *testing.T, e *testenv.Env, n int) []string {
	t.Helper()
	nids := []string{"A123456789", "A800000014", "B123456780", "F131104093"}
	var ids []string
	for i := range n {
		r := e.Do("POST", "/v1/referrals", schoolToken(e, i/len(nids)), testenv.ValidReferral(nids[i%len(nids)]))
		if r.Status != http.StatusCreated {
			t.Fatalf("open: %d %s", r.Status, r.Body)
		}
		ids = append(ids, r.JSON(t)["id"].(string))
	}
	return ids
}

// metric returns the value of a counter or gauge in reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		m := f.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func caseIDs(t *testing.T, e *testenv.Env) []string {
	t.Helper()
	var ids []string
	if err := e.DB.Select(&ids, `SELECT id FROM cases ORDER BY application_position`); err != nil {
		t.Fatal(err)
	}
	return ids
}

type quarantineRow struct {
	Position    int64  `db:"position"`
	Stream      string `db:"stream"`
	AggregateID string `db:"aggregate_id"`
	EventType   string `db:"event_type"`
	Code        string `db:"error_code"`
	Attempts    int    `db:"attempts"`
}

func quarantineRows(t *testing.T, e *testenv.Env) []quarantineRow {
	t.Helper()
	var rows []quarantineRow
	if err := e.DB.Select(&rows, `SELECT position, stream, aggregate_id, event_type, error_code, attempts FROM projection_quarantine ORDER BY position`); err != nil {
		t.Fatal(err)
	}
	return rows
}

func heldPositions(t *testing.T, e *testenv.Env) []int64 {
	t.Helper()
	var ps []int64
	if err := e.DB.Select(&ps, `SELECT position FROM projection_held ORDER BY position`); err != nil {
		t.Fatal(err)
	}
	return ps
}

func readyz(t *testing.T, e *testenv.Env) (int, map[string]any) {
	t.Helper()
	r := e.Do("GET", "/readyz", "", nil)
	return r.Status, r.JSON(t)
}

// submit hands in a checklist item through the API and returns the
// event's position.
func submit(t *testing.T, e *testenv.Env, token, id string, item, pages int) uint64 {
	t.Helper()
	r := e.Do("PUT", fmt.Sprintf("/v1/referrals/%s/documents/%d", id, item), token, map[string]any{"pages": pages})
	if r.Status != http.StatusOK {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	return uint64(r.JSON(t)["position"].(float64))
}

func submittedItems(t *testing.T, e *testenv.Env, id string) []int {
	t.Helper()
	var items []int
	if err := e.DB.Select(&items, `SELECT item FROM case_documents WHERE case_id = $1 AND submitted ORDER BY item`, id); err != nil {
		t.Fatal(err)
	}
	return items
}

var sqlstate = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// Issue 7, finding 1: an event injected into the stream that the read
// models cannot apply is quarantined after bounded retries; only its own
// case is stale (projection_error, later events held back), every other
// case goes on, /readyz says degraded, the metric counts it. Once the
// cause is removed, retry applies it and the held events in order, and
// the read models equal a clean rebuild.
func TestPoisonEventQuarantinedOtherCasesGoOnRetryCatchesUp(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	last := seed(t, e, 2)
	reg := prometheus.NewRegistry()
	p, stop := startProjector(t, e, reg)
	waitFor(t, e, last)
	ids := caseIDs(t, e)
	a, b := ids[0], ids[1]
	school := e.Token(domain.RoleOriginSchool, "034501")

	// The cause: a constraint the read model cannot meet for this event.
	if _, err := e.DB.Exec(`ALTER TABLE case_documents ADD CONSTRAINT test_poison CHECK (pages IS DISTINCT FROM 5000)`); err != nil {
		t.Fatal(err)
	}
	poison := inject(t, e, a, events.DocumentSubmitted{Item: 4, Pages: 5000})
	// Finding 1: pages 9223372036854775807 (22003 before) fits the widened
	// columns: no quarantine.
	huge := inject(t, e, b, events.DocumentSubmitted{Item: 4, Pages: math.MaxInt64})
	heldA := submit(t, e, school, a, 6, 2)
	submit(t, e, school, b, 6, 2)
	// An erasure is never held back: the person leaves the read models at
	// once, though the case's stream is blocked.
	admin := e.Token(domain.RoleAdmin, "")
	if r := e.Do("POST", "/v1/referrals/"+a+"/erasure", admin, map[string]any{"reason": "data_subject_request"}); r.Status >= 300 {
		t.Fatalf("erasure: %d %s", r.Status, r.Body)
	}
	erased, err := e.Store.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e, erased)
	var persons int
	if err := e.DB.Get(&persons, `SELECT count(*) FROM case_personal WHERE case_id = $1`, a); err != nil || persons != 0 {
		t.Fatalf("erased person still in the read model of the stale case (%d, %v)", persons, err)
	}

	q := quarantineRows(t, e)
	if len(q) != 1 || q[0].Position != int64(poison) || q[0].AggregateID != a || q[0].EventType != "DocumentSubmitted" ||
		q[0].Code != "23514" || q[0].Attempts != projections.DefaultMaxAttempts || q[0].Stream != "cihui."+e.Branch.Code+".referral."+a {
		t.Fatalf("quarantine = %+v, want the event at %d on %s with code 23514", q, poison, a)
	}
	if !sqlstate.MatchString(q[0].Code) {
		t.Fatalf("error code %q is not a bare SQLSTATE", q[0].Code)
	}
	if h := heldPositions(t, e); len(h) != 2 || h[0] != int64(heldA) || h[1] != int64(erased) {
		t.Fatalf("held = %v, want [%d %d]", h, heldA, erased)
	}
	if got := submittedItems(t, e, b); fmt.Sprint(got) != "[1 2 3 4 6]" {
		t.Fatalf("other case's items %v: it must go on", got)
	}
	var hugePages int64
	if err := e.DB.Get(&hugePages, `SELECT pages FROM case_documents WHERE case_id = $1 AND item = 4`, b); err != nil || hugePages != math.MaxInt64 {
		t.Fatalf("pages = %d (%v), want %d at %d", hugePages, err, int64(math.MaxInt64), huge)
	}
	if got := submittedItems(t, e, a); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("stale case's items %v: the poison and the event after it must not apply", got)
	}

	sw := e.Token(domain.RoleSocialWorker, "")
	// Reads that wait for a position are served again (they were 503).
	if r := e.Do("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", b, erased), sw, nil); r.Status != http.StatusOK {
		t.Fatalf("read at min_position %d: %d %s", erased, r.Status, r.Body)
	}
	for id, want := range map[string]bool{a: true, b: false} {
		r := e.Do("GET", "/v1/referrals/"+id, sw, nil)
		if r.Status != http.StatusOK || r.JSON(t)["projection_error"] != want {
			t.Fatalf("case %s: %d projection_error=%v, want %v", id, r.Status, r.JSON(t)["projection_error"], want)
		}
	}
	list := e.Do("GET", "/v1/referrals", sw, nil)
	var page struct {
		Items []struct {
			ID              string `json:"id"`
			ProjectionError bool   `json:"projection_error"`
		} `json:"items"`
	}
	list.Decode(t, &page)
	flagged := 0
	for _, it := range page.Items {
		if it.ProjectionError != (it.ID == a) {
			t.Fatalf("list: %s projection_error=%v", it.ID, it.ProjectionError)
		}
		if it.ProjectionError {
			flagged++
		}
	}
	if len(page.Items) != 2 || flagged != 1 {
		t.Fatalf("list %s", list.Body)
	}

	status, body := readyz(t, e)
	if status != http.StatusOK || body["status"] != "degraded" || body["quarantined_events"] != 1.0 ||
		body["first_quarantined_position"] != float64(poison) || body["held_events"] != 2.0 {
		t.Fatalf("readyz %d %v, want 200 degraded naming 1 event at %d", status, body, poison)
	}
	if got := metric(t, reg, "cihui_projector_events_quarantined_total"); got != 1 {
		t.Fatalf("quarantined counter = %v, want 1", got)
	}
	if got := metric(t, reg, "cihui_projector_quarantined_events"); got != 1 {
		t.Fatalf("quarantined gauge = %v, want 1", got)
	}

	// Retry before the fix: still failing, nothing moves.
	res, err := p.Retry(context.Background())
	if err != nil || res.Applied != 0 || res.Quarantined != 1 || res.Held != 2 {
		t.Fatalf("retry before the fix: %+v %v", res, err)
	}

	// The fix; retry while the projector runs.
	if _, err := e.DB.Exec(`ALTER TABLE case_documents DROP CONSTRAINT test_poison`); err != nil {
		t.Fatal(err)
	}
	res, err = p.Retry(context.Background())
	if err != nil || res.Applied != 3 || res.Quarantined != 0 || res.Held != 0 {
		t.Fatalf("retry: %+v %v, want 3 applied and nothing left", res, err)
	}
	if got := submittedItems(t, e, a); fmt.Sprint(got) != "[1 2 3 4 6]" {
		t.Fatalf("case after retry: items %v", got)
	}
	if status, body := readyz(t, e); status != http.StatusOK || body["status"] != "ready" || body["quarantined_events"] != 0.0 {
		t.Fatalf("readyz after retry %d %v", status, body)
	}
	if got := metric(t, reg, "cihui_projector_quarantined_events"); got != 0 {
		t.Fatalf("quarantined gauge after retry = %v", got)
	}
	// The stream is released: the case's next event applies at once.
	next := submit(t, e, school, a, 8, 1)
	waitFor(t, e, next)
	if got := submittedItems(t, e, a); fmt.Sprint(got) != "[1 2 3 4 6 8]" {
		t.Fatalf("case after retry and a new event: items %v", got)
	}
	if r := e.Do("GET", "/v1/referrals/"+a, sw, nil); r.JSON(t)["projection_error"] != false || r.JSON(t)["version"] != 11.0 {
		t.Fatalf("case after retry: %s", r.Body)
	}
	afterRetry := dump(t, e)

	// Equal to a rebuild; the rebuild empties the quarantine tables too.
	stop()
	if err := projections.Reset(context.Background(), e.DB); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	waitFor(t, e, next)
	e.StopProjector()
	if rebuilt := dump(t, e); rebuilt != afterRetry {
		t.Fatalf("after retry differs from a rebuild:\n--- retried\n%s\n--- rebuilt\n%s", afterRetry, rebuilt)
	}
}

// Finding 1 itself: a NUL in a string PostgreSQL text cannot hold
// (22021) stops only its own case, with the SQLSTATE and never the value
// recorded; a retry without a fix leaves it quarantined.
func TestNULInEventQuarantinesOnlyItsCase(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	last := seed(t, e, 2)
	_, _ = startProjector(t, e, nil)
	waitFor(t, e, last)
	ids := caseIDs(t, e)
	poison := inject(t, e, ids[0], events.RegistrationRecorded{Semester: "114-1\x00王"})
	after := submit(t, e, e.Token(domain.RoleOriginSchool, "034501"), ids[1], 4, 1)
	waitFor(t, e, after)
	q := quarantineRows(t, e)
	if len(q) != 1 || q[0].Position != int64(poison) || q[0].Code != "22021" {
		t.Fatalf("quarantine %+v, want 22021 at %d", q, poison)
	}
	var leaked int
	if err := e.DB.Get(&leaked, `SELECT count(*) FROM projection_quarantine q WHERE to_jsonb(q)::text LIKE '%王%' OR to_jsonb(q)::text LIKE '%114-1%'`); err != nil || leaked != 0 {
		t.Fatalf("quarantine holds the event's values (%d, %v)", leaked, err)
	}
	if got := submittedItems(t, e, ids[1]); fmt.Sprint(got) != "[1 2 3 4]" {
		t.Fatalf("other case's items %v", got)
	}
}

// An envelope of a known type whose payload does not decode is
// quarantined on its stream like an event that does not apply, not
// skipped: the case's later events would otherwise apply on a gap.
func TestUndecodablePayloadQuarantinesItsStream(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 1)
	waitFor(t, e, last)
	id := caseIDs(t, e)[0]
	subject := events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id}.Subject()
	ack, err := e.Store.JetStream().Publish(context.Background(), subject, []byte(`{"id":"bad","type":"DocumentSubmitted","schema_version":1,"aggregate_type":"referral","aggregate_id":"`+id+`","branch":"`+e.Branch.Code+`","version":8,"data":{"item":"four"}}`))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e, ack.Sequence)
	if q := quarantineRows(t, e); len(q) != 1 || q[0].Position != int64(ack.Sequence) || q[0].Code != "decode" {
		t.Fatalf("quarantine %+v", q)
	}
}

// Issue 7: a crash (before the commit) in the middle of quarantining
// neither loses nor repeats an event: after restarts there is exactly one
// quarantine row, each held event once, each applied event once. A
// rebuild (Reset) empties the quarantine and held tables and, with the
// cause still there, quarantines the same event again.
func TestCrashWhileQuarantiningNeitherLosesNorRepeats(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	ids := openCases(t, e, 3)
	school := e.Token(domain.RoleOriginSchool, "034501")
	poison := inject(t, e, ids[0], events.DocumentSubmitted{Item: 4, Pages: 5000})
	var held []int64
	var last uint64
	for _, i := range []int{6, 8, 9} {
		held = append(held, int64(submit(t, e, school, ids[0], i, 1)))
		last = submit(t, e, school, ids[1], i, 1)
	}
	// The constraint is added after the events are written, before any is
	// projected: the projector's first batches carry the poison.
	if _, err := e.DB.Exec(`ALTER TABLE case_documents ADD CONSTRAINT test_poison CHECK (pages IS DISTINCT FROM 5000)`); err != nil {
		t.Fatal(err)
	}

	crash := errors.New("simulated crash")
	var crashes atomic.Int32
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for runCtx.Err() == nil {
			p := e.NewProjector()
			projections.SetBeforeCommit(p, func(batch []events.Envelope) error {
				for _, env := range batch {
					// Only the one-by-one pass reaches the commit with the
					// poison in the batch: crash there, twice.
					if env.Position == poison && crashes.Load() < 2 {
						crashes.Add(1)
						return crash
					}
				}
				return nil
			})
			if err := p.Run(runCtx); err != nil && !errors.Is(err, crash) && runCtx.Err() == nil {
				t.Errorf("run: %v", err)
				return
			}
		}
	}()
	waitFor(t, e, last)
	cancel()
	<-done
	if crashes.Load() != 2 {
		t.Fatalf("%d crashes while quarantining, want 2", crashes.Load())
	}
	check := func(stage string) {
		t.Helper()
		if q := quarantineRows(t, e); len(q) != 1 || q[0].Position != int64(poison) {
			t.Fatalf("%s: quarantine %+v, want exactly the event at %d", stage, q, poison)
		}
		if h := heldPositions(t, e); fmt.Sprint(h) != fmt.Sprint(held) {
			t.Fatalf("%s: held %v, want %v", stage, h, held)
		}
		var timeline, distinct int
		if err := e.DB.Get(&timeline, `SELECT count(*) FROM case_timeline`); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.Get(&distinct, `SELECT count(DISTINCT event_id) FROM case_timeline`); err != nil {
			t.Fatal(err)
		}
		// 3 cases opened, plus the second case's 3 documents.
		if timeline != 3+3 || distinct != timeline {
			t.Fatalf("%s: timeline %d rows (%d distinct), want %d", stage, timeline, distinct, 3+3)
		}
	}
	check("after crashes")

	if err := projections.Reset(context.Background(), e.DB); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := e.DB.Get(&rows, `SELECT (SELECT count(*) FROM projection_quarantine) + (SELECT count(*) FROM projection_held)`); err != nil || rows != 0 {
		t.Fatalf("after Reset: %d quarantine and held rows (%v)", rows, err)
	}
	e.StartProjector()
	waitFor(t, e, last)
	e.StopProjector()
	check("after rebuild")
}
