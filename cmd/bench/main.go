// Command bench measures the system against its raw engines in the same
// run, and prints one JSON line per figure: the figure, its baseline and
// their ratio, so that results survive a noisy machine.
//
// Figures:
//   - append: raw JetStream expected-sequence publishes/s vs event-store
//     appends/s vs HTTP commands/s (same SyncAlways server)
//   - load: loading a 50-event aggregate (batched direct get) vs the raw
//     direct get of the same messages, and vs a consumer per load
//   - replay: projector replay events/s into PostgreSQL vs a raw batched
//     INSERT of the same number of rows
//   - visibility: command → read-model latency p50/p99 vs raw JetStream
//     publish → consumer delivery latency
//   - reads: a case detail and a 100-row list through the API with the
//     access record vs without it (issue 8, finding 6)
//   - statistics: the national dropout table of a branch with 10 years of
//     history (2,000 students, ~20,000 events) through the API vs the
//     read-model queries alone (issue 11)
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/jetstream"
	"cihui/internal/keycache"
	"cihui/internal/pgcluster"
	"cihui/internal/postgres"
	"cihui/internal/projections"
)

// Result is one printed figure.
type Result struct {
	Figure   string  `json:"figure"`
	Unit     string  `json:"unit"`
	Value    float64 `json:"value"`
	Baseline float64 `json:"baseline"`
	Ratio    float64 `json:"ratio"` // value / baseline
	N        int     `json:"n"`
	Note     string  `json:"note,omitempty"`
	// The run's machine facts, on every line (machine.go).
	Cores int    `json:"cores"`
	Go    string `json:"go"`
}

func emit(r Result) {
	r.Cores, r.Go = runtime.NumCPU(), runtime.Version()
	if r.Baseline != 0 {
		r.Ratio = round(r.Value / r.Baseline)
	}
	r.Value, r.Baseline = round(r.Value), round(r.Baseline)
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func round(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 4, 64), 64)
	return v
}

func main() {
	n := flag.Int("n", 2000, "operations per throughput figure")
	only := flag.String("only", "", "comma-separated figure groups to run (default all): "+strings.Join(groupNames(), ","))
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the 16-client command phase (or, with -only readload, of the reads under load) to this file")
	flag.StringVar(&allocProfile, "allocprofile", "", "write allocation profiles around the 16-client command phase (<file>.base before, <file> after)")
	flag.BoolVar(&scale.only, "scale", false, "only the scale figures (issue 13): the same as -only scale")
	flag.IntVar(&scale.cases, "cases", 10000, "scale figures: cases generated into the stream")
	flag.StringVar(&scale.profile, "rebuild-profile", "", "scale figures: write a CPU profile of the rebuild to this file, and the allocations before and after it to FILE.allocs.base and FILE.allocs")
	flag.BoolVar(&scale.slow, "rebuild-slow", false, "scale figures: rebuild by the live path (every event by its SQL), for comparison")
	flag.IntVar(&scale.rate, "read-rate", 2000, "scale figures: reads/s of the open-loop read load")
	flag.DurationVar(&scale.duration, "read-duration", 5*time.Second, "scale figures: how long the read load lasts")
	flag.Parse()
	if scale.only {
		*only = "scale"
	}
	if err := run(*n, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type env struct {
	srv    *server.Server
	nc     *nats.Conn
	store  *jetstream.Store
	codec  *events.Codec
	db     *sqlx.DB
	dsn    string
	pgData string // the cluster's data directory (cpuuse.go)
	sealer *events.Sealer
	svc    *app.Service
	http   *httptest.Server
	waiter *projections.Waiter
	auth   *postgres.CachedTokens
	// for the API the scale figures run as a process (scale.go)
	dir, authDir string
	master       []byte
}

func setup(ctx context.Context, dir string) (*env, func(), error) {
	e := &env{}
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	authDir := filepath.Join(dir, "nats-auth")
	e.authDir = authDir
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: filepath.Join(dir, "nats"), AuthDir: authDir, Port: -1})
	if err != nil {
		return nil, cleanup, err
	}
	e.srv = srv
	cleanups = append(cleanups, func() { srv.Shutdown(); srv.WaitForShutdown() })
	creds, err := jetstream.Credentials(authDir, jetstream.UserAPI)
	if err != nil {
		return nil, cleanup, err
	}
	if e.nc, err = nats.Connect(srv.ClientURL(), creds); err != nil {
		return nil, cleanup, err
	}
	cleanups = append(cleanups, e.nc.Close)
	e.codec = events.NewCodec(events.DefaultRegistry())
	if e.store, err = jetstream.Open(ctx, e.nc, e.codec, jetstream.Config{}); err != nil {
		return nil, cleanup, err
	}
	cl, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg"), Fsync: true})
	if err != nil {
		return nil, cleanup, err
	}
	cleanups = append(cleanups, func() { _ = cl.Stop() })
	if err := cl.CreateDatabase(ctx, "bench"); err != nil {
		return nil, cleanup, err
	}
	e.dsn = cl.DSN("bench")
	e.pgData = cl.DataDir()
	if e.db, err = postgres.Open(ctx, e.dsn); err != nil {
		return nil, cleanup, err
	}
	cleanups = append(cleanups, func() { e.db.Close() })
	if err := postgres.Migrate(ctx, e.db, nil); err != nil {
		return nil, cleanup, err
	}
	if err := postgres.NewBranches(e.db).EnsureDefault(ctx); err != nil {
		return nil, cleanup, err
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	e.master = master
	keys, err := jetstream.OpenKeyRing(ctx, e.nc, master, jetstream.KeyRingConfig{})
	if err != nil {
		return nil, cleanup, err
	}
	blindSecret, err := keys.Secret(ctx, jetstream.SecretBlindIndex)
	if err != nil {
		return nil, cleanup, err
	}
	e.sealer = events.NewSealer(keycache.New(keys, 0, 0), blindSecret).WithBlindIndex(keys)
	branch := domain.DefaultBranch()
	e.svc = &app.Service{Store: e.store, Sealer: e.sealer, Clock: domain.ClockFunc(func() time.Time {
		return time.Date(2026, 2, 11, 9, 0, 0, 0, domain.Taipei)
	}), Branches: func(string) (domain.Branch, bool) { return branch, true }}
	wctx, cancel := context.WithCancel(ctx)
	cleanups = append(cleanups, cancel)
	if e.waiter, err = projections.NewWaiter(wctx, e.dsn, e.db); err != nil {
		return nil, cleanup, err
	}
	tokens, err := postgres.NewCachedTokens(wctx, postgres.NewTokens(e.db), e.dsn)
	if err != nil {
		return nil, cleanup, err
	}
	e.auth = tokens
	e.http = httptest.NewServer(httpapi.New(httpapi.Config{App: e.svc, Reader: projections.NewReader(e.db), Opener: e.sealer, Waiter: e.waiter,
		Auth: tokens, DB: e.db, NATS: e.nc, Store: e.store}))
	cleanups = append(cleanups, e.http.Close)
	return e, cleanup, nil
}

// groups are the figure groups in the order a run measures them; each
// lives in a file of its own.
var groups = []struct {
	name string
	run  func(context.Context, *env, int) error
	// fresh: the group runs on stores of its own, not those the groups
	// before it wrote.
	fresh bool
}{
	{name: "append", run: benchAppend},
	{name: "load", run: func(ctx context.Context, e *env, _ int) error { return benchLoad(ctx, e) }},
	{name: "replay", run: func(ctx context.Context, e *env, _ int) error { return benchReplay(ctx, e) }},
	{name: "visibility", run: func(ctx context.Context, e *env, _ int) error { return benchVisibility(ctx, e) }},
	{name: "reads", run: func(ctx context.Context, e *env, _ int) error { return benchReads(ctx, e) }},
	{name: "concurrent", run: benchConcurrent},
	{name: "readload", run: benchReadLoad},
	{name: "visload", run: benchVisibilityLoad},
	{name: "statistics", run: func(ctx context.Context, e *env, _ int) error { return benchStatistics(ctx, e) }},
	{name: "docket", run: benchDocket},
	{name: "access", run: benchAccess},
	{name: "pages", run: benchPages}, // pages.go: every page of every role at 20 requests/s
	// Last, on stores of its own: its figures are of the generated
	// histories alone. On the stores of the groups before it, the
	// rebuild also read their 80,000 events (raw appends the projector
	// ignores among them), which the rows it is compared with do not
	// hold.
	{name: "scale", run: func(ctx context.Context, e *env, _ int) error { return benchScale(ctx, e, e.dir) }, fresh: true}, // scale.go
}

func groupNames() []string {
	var s []string
	for _, g := range groups {
		s = append(s, g.name)
	}
	return s
}

func run(n int, only string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "cihui-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	var mu sync.Mutex // cleanup changes when a group gets stores of its own
	e, cleanup, err := setup(ctx, dir)
	defer stopOnSignal(cancel, func() {
		mu.Lock()
		defer mu.Unlock()
		cleanup()
	}, dir)()
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(slog.DiscardHandler))
	e.dir = dir
	emitMachine()
	want := map[string]bool{}
	for _, g := range strings.Split(only, ",") {
		if g != "" {
			want[g] = true
		}
	}
	ran := false
	for _, g := range groups {
		if len(want) > 0 && !want[g.name] {
			continue
		}
		if g.fresh && ran {
			if e, err = freshEnv(ctx, &mu, &cleanup, filepath.Join(dir, g.name)); err != nil {
				return fmt.Errorf("%s: %w", g.name, err)
			}
		}
		ran = true
		if err := g.run(ctx, e, n); err != nil {
			return fmt.Errorf("%s: %w", g.name, err)
		}
	}
	return nil
}

// freshEnv stops the stores of *cleanup and sets up new ones under dir,
// replacing *cleanup (under mu) with theirs.
func freshEnv(ctx context.Context, mu *sync.Mutex, cleanup *func(), dir string) (*env, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	(*cleanup)()
	e, c, err := setup(ctx, dir)
	*cleanup = c
	if err != nil {
		return nil, err
	}
	e.dir = dir
	return e, nil
}

// rawEnvelope is a stored event of a comparable size, of an aggregate type
// the projector ignores.
var rawEnvelope = []byte(`{"id":"0123456789abcdef0123456789abcdef","type":"DocumentSubmitted","schema_version":1,"aggregate_type":"benchmark","aggregate_id":"raw","branch":"bench","version":1,"occurred_at":"2026-02-11T01:00:00Z","recorded_at":"2026-02-11T01:00:00Z","actor":{"role":"system"},"data":{"item":2,"pages":3}}`)

func perSec(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func benchAppend(ctx context.Context, e *env, n int) error {
	j := e.store.JetStream()
	// Raw: expected-sequence publishes of a comparable payload.
	var last uint64
	t0 := time.Now()
	for range n {
		ack, err := j.Publish(ctx, "cihui.bench.raw.one", rawEnvelope, js.WithExpectLastSequencePerSubject(last))
		if err != nil {
			return err
		}
		last = ack.Sequence
	}
	raw := perSec(n, time.Since(t0))

	// Event store: encode + expected sequence.
	st := events.StreamID{Branch: "bench", Type: "benchmark", ID: "store"}
	var seq, ver uint64
	t0 = time.Now()
	for range n {
		envs, err := e.store.Append(ctx, events.Append{Stream: st, ExpectedSeq: seq, ExpectedVersion: ver,
			Events: []events.Event{events.DocumentSubmitted{Item: 2, Pages: 3}}, Meta: events.Metadata{OccurredAt: time.Now()}})
		if err != nil {
			return err
		}
		seq, ver = envs[0].Position, envs[0].Version
	}
	store := perSec(n, time.Since(t0))
	emit(Result{Figure: "append_event_store", Unit: "appends/s", Value: store, Baseline: raw, N: n, Note: "baseline: raw JetStream publish with expected subject sequence, SyncAlways"})

	// HTTP commands: load + rules + append, through echo and auth.
	tok, _, err := postgres.NewTokens(e.db).Create(ctx, postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "034501"})
	if err != nil {
		return err
	}
	id, _, err := openCase(ctx, e)
	if err != nil {
		return err
	}
	m := n / 4
	t0 = time.Now()
	for i := range m {
		if err := httpPut(e.http.URL+"/v1/referrals/"+id+"/documents/"+strconv.Itoa(1+i%4), tok, `{"pages":1}`); err != nil {
			return err
		}
	}
	emit(Result{Figure: "append_http_command", Unit: "commands/s", Value: perSec(m, time.Since(t0)), Baseline: raw, N: m,
		Note: "PUT document through HTTP (auth, load, rules, append) vs raw JetStream publish"})
	return nil
}

func openCase(ctx context.Context, e *env) (string, uint64, error) {
	res, err := e.svc.OpenReferral(ctx, app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}, domain.OpenReferral{
		Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Grade: 8, Sex: "F",
		Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
		Person: domain.Person{StudentName: "bench", NationalID: benchNationalID(), BirthDate: "2012-01-01", GuardianName: "g", Reason: "r"},
	})
	return res.ID, res.Position, err
}

var benchStudents atomic.Int64

// benchNationalID returns a made-up national ID that passes the checksum,
// a new one each call: a school refers a student once while a referral is
// open (R-CAP-1).
func benchNationalID() string {
	body := fmt.Sprintf("A1%07d", 3000000+benchStudents.Add(1)%7000000)
	sum := 1 // letter A is code 10: weights 1 and 9 give 1
	for j := 1; j < 9; j++ {
		sum += (9 - j) * int(body[j]-'0')
	}
	return body + strconv.Itoa((10-sum%10)%10)
}

func benchLoad(ctx context.Context, e *env) error {
	id, _, err := openCase(ctx, e)
	if err != nil {
		return err
	}
	actor := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	for i := 1; i < 50; i++ {
		if _, err := e.svc.SubmitDocument(ctx, actor, id, 1+i%4, 1, nil, false); err != nil {
			return err
		}
	}
	st := events.StreamID{Branch: domain.DefaultBranchCode, Type: events.AggregateReferral, ID: id}
	const rounds = 300
	timeLoads := func(s *jetstream.Store) (time.Duration, error) {
		t0 := time.Now()
		for range rounds {
			l, err := s.Load(ctx, st)
			if err != nil || l.Version != 50 {
				return 0, fmt.Errorf("load: %v (version %d)", err, l.Version)
			}
		}
		return time.Since(t0) / rounds, nil
	}
	cold, err := jetstream.Open(ctx, e.nc, e.codec, jetstream.Config{CacheSize: -1})
	if err != nil {
		return err
	}
	store, err := timeLoads(cold)
	if err != nil {
		return err
	}
	warm, err := timeLoads(e.store)
	if err != nil {
		return err
	}
	t0 := time.Now()

	for range rounds {
		msgs, err := jetstreamext.GetBatch(ctx, e.store.JetStream(), e.store.StreamName(), 256, jetstreamext.GetBatchSubject(st.Subject()))
		if err != nil {
			return err
		}
		k := 0
		for _, err := range msgs {
			if err != nil {
				return err
			}
			k++
		}
		if k != 50 {
			return fmt.Errorf("raw batch get: %d messages", k)
		}
	}
	raw := time.Since(t0) / rounds
	emit(Result{Figure: "load_50_event_aggregate_cold", Unit: "µs", Value: float64(store.Microseconds()), Baseline: float64(raw.Microseconds()), N: rounds,
		Note: "cache off: batched direct get and decoding of 50 events; baseline: raw batched direct get of the same messages, no decoding"})
	emit(Result{Figure: "load_50_event_aggregate_cached", Unit: "µs", Value: float64(warm.Microseconds()), Baseline: float64(raw.Microseconds()), N: rounds,
		Note: "cache with a server-side sequence check (one direct get that finds nothing newer); baseline as above"})

	// For contrast: an ordered consumer per load (what the store avoids).
	const crounds = 30
	t0 = time.Now()
	for range crounds {
		c, err := e.store.JetStream().OrderedConsumer(ctx, e.store.StreamName(), js.OrderedConsumerConfig{FilterSubjects: []string{st.Subject()}})
		if err != nil {
			return err
		}
		b, err := c.Fetch(50, js.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		k := 0
		for range b.Messages() {
			k++
		}
		if k != 50 {
			return fmt.Errorf("consumer load: %d messages", k)
		}
	}
	cons := time.Since(t0) / crounds
	emit(Result{Figure: "load_50_event_aggregate_consumer_per_load", Unit: "µs", Value: float64(cons.Microseconds()), Baseline: float64(store.Microseconds()), N: crounds,
		Note: "an ordered consumer per load, relative to the store's batched direct get"})
	return nil
}

func benchReplay(ctx context.Context, e *env) error {
	// A realistic history: 250 cases of 8 events each.
	actor := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	for range 250 {
		id, _, err := openCase(ctx, e)
		if err != nil {
			return err
		}
		for item := 1; item <= 7; item++ {
			if item == 5 {
				continue
			}
			if _, err := e.svc.SubmitDocument(ctx, actor, id, item, 1, nil, false); err != nil {
				return err
			}
		}
		if _, err := e.svc.SubmitDocument(ctx, actor, id, 8, 1, nil, false); err != nil {
			return err
		}
	}
	last, err := e.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	if err := projections.Reset(ctx, e.db); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	p := projections.New(projections.Options{DB: e.db, JetStream: e.store.JetStream(), Stream: e.store.StreamName(), Codec: e.codec,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Registry: reg})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t0 := time.Now()
	go func() { defer close(done); p.RunWithRestart(pctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
	got := e.waiter.Wait(wctx, last)
	wcancel()
	replay := time.Since(t0)
	cancel()
	<-done
	if got < last {
		return fmt.Errorf("replay reached %d of %d", got, last)
	}
	var applied int
	if err := e.db.Get(&applied, `SELECT count(*) FROM case_timeline`); err != nil {
		return err
	}
	// Baseline: as many rows as events applied, raw batched INSERTs, 256 a
	// transaction.
	if _, err := e.db.Exec(`CREATE TABLE bench_raw (position bigint PRIMARY KEY, case_id text, summary text, occurred_at timestamptz)`); err != nil {
		return err
	}
	t0 = time.Now()
	for i := 0; i < applied; i += 256 {
		tx, err := e.db.Begin()
		if err != nil {
			return err
		}
		for k := i; k < i+256 && k < applied; k++ {
			if _, err := tx.Exec(`INSERT INTO bench_raw VALUES ($1, $2, $3, now())`, k+1, "case", "summary"); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	raw := time.Since(t0)
	batches, mean := batchStats(reg)
	emit(Result{Figure: "projector_replay", Unit: "events/s", Value: perSec(applied, replay), Baseline: perSec(applied, raw), N: applied,
		Note: fmt.Sprintf("rebuild from the first event: %d case events applied (the %d other stream messages of this run skipped, their time included) in %d transactions of %.0f messages on average, vs raw batched INSERT of as many rows", applied, int(last)-applied, batches, mean)})
	return nil
}

func benchVisibility(ctx context.Context, e *env) error {
	p := projections.New(projections.Options{DB: e.db, JetStream: e.store.JetStream(), Stream: e.store.StreamName(), Codec: e.codec, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.RunWithRestart(pctx) }()
	defer func() { cancel(); <-done }()
	id, _, err := openCase(ctx, e)
	if err != nil {
		return err
	}
	actor := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	const rounds = 300
	lat := make([]time.Duration, 0, rounds)
	for i := range rounds {
		t0 := time.Now()
		res, err := e.svc.SubmitDocument(ctx, actor, id, 1+i%4, 1, nil, false)
		if err != nil {
			return err
		}
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		got := e.waiter.Wait(wctx, res.Position)
		wcancel()
		if got < res.Position {
			return fmt.Errorf("visibility: read models stuck at %d", got)
		}
		lat = append(lat, time.Since(t0))
	}
	// Baseline: publish → delivery on an ordered consumer.
	j := e.store.JetStream()
	c, err := j.OrderedConsumer(ctx, e.store.StreamName(), js.OrderedConsumerConfig{FilterSubjects: []string{"cihui.bench.raw.vis"}, DeliverPolicy: js.DeliverNewPolicy})
	if err != nil {
		return err
	}
	it, err := c.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	rawLat := make([]time.Duration, 0, rounds)
	for range rounds {
		t0 := time.Now()
		if _, err := j.Publish(ctx, "cihui.bench.raw.vis", rawEnvelope); err != nil {
			return err
		}
		if _, err := it.Next(); err != nil {
			return err
		}
		rawLat = append(rawLat, time.Since(t0))
	}
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.50}, {"p99", 0.99}} {
		emit(Result{Figure: "visibility_latency_" + q.name, Unit: "µs", Value: float64(pct(lat, q.p).Microseconds()), Baseline: float64(pct(rawLat, q.p).Microseconds()), N: rounds,
			Note: "command accepted → read model committed (LISTEN/NOTIFY) vs raw publish → consumer delivery"})
	}
	return nil
}

// batchStats reads the projector's batch-size histogram.
func batchStats(reg *prometheus.Registry) (count uint64, mean float64) {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "cihui_projector_batch_events" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() > 0 {
				return h.GetSampleCount(), h.GetSampleSum() / float64(h.GetSampleCount())
			}
		}
	}
	return 0, 0
}

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}
