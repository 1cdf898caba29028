// Package testenv assembles the whole system for tests with real
// dependencies: an embedded JetStream server in a temp dir, a throwaway
// PostgreSQL database, the projector and the HTTP API.
package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"cihui/internal/accesslog"
	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/jetstream"
	"cihui/internal/keycache"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
	"cihui/internal/projections"
	"cihui/internal/session"
	"cihui/internal/web"
)

// Clock is a settable clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now implements domain.Clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Set moves the clock.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// Env is a running system.
type Env struct {
	T       testing.TB
	NATSDir string
	// NATSAuthDir holds the embedded server's nkey seeds (one per user,
	// see jetstream.Users).
	NATSAuthDir string
	Server      *server.Server
	// NC is the API's connection (user jetstream.UserAPI).
	NC *nats.Conn
	// ProjectorNC is the projector's read-only connection (user
	// jetstream.UserProjector), as in production.
	ProjectorNC *nats.Conn
	Store       *jetstream.Store
	Codec       *events.Codec
	DB          *sqlx.DB
	DSN         string
	Master      []byte // the master key wrapping data keys
	Keys        *jetstream.KeyRing
	KeyCache    *keycache.Ring // the API's cache of unwrapped keys over Keys
	Sealer      *events.Sealer
	Tokens      *postgres.Tokens
	People      *postgres.People
	Logins      *postgres.Logins
	// Sessions keeps sign-in sessions on the env's Clock (issue 14).
	Sessions *session.Store
	// API is the server e.HTTP serves (to turn on OpenID Connect).
	API        *httpapi.Server
	App        *app.Service
	Clock      *Clock
	Branch     domain.Branch
	HTTP       *httptest.Server
	Registry   *prometheus.Registry
	Waiter     *projections.Waiter
	Access     *accesslog.Log // the access-log stream (CIHUI_ACCESS)
	Reader     *projections.Reader
	log        *slog.Logger // Options.Log, for the projectors too
	cancelProj context.CancelFunc
	peopleMu   sync.Mutex
	people     map[string]Person // PersonOfToken's, by person id
	projDone   chan struct{}
}

// Options tune the environment.
type Options struct {
	// NoProjector leaves the projector stopped (StartProjector starts it).
	NoProjector bool
	// Duplicates sets the JetStream duplicate window.
	Duplicates time.Duration
	// Cap overrides the branch's cap (default 135, R-CAP-1).
	Cap int
	// Now is the initial clock (default 2026-02-11 09:00 Taipei, inside the
	// mid-year window of academic year 114).
	Now time.Time
	// Database is the DSN of an empty database to use instead of a fresh
	// pgtest one: for a test that stops its own cluster.
	Database string
	// Limits are the API's request limits (zero: httpapi.DefaultLimits).
	// The test server applies RequestTimeout; the connection limits belong
	// to the API's own http.Server, which tests start with Serve.
	Limits httpapi.Limits
	// Log receives the API's log and the projectors' (default: discarded).
	Log *slog.Logger
	// Master is the master key (default: a new random one); a restored
	// system needs the key of the one backed up.
	Master []byte
	// Restore, if set, runs on the fresh NATS server and the migrated,
	// empty database before anything else touches them (no stream exists
	// yet): a test restores a backup here.
	Restore func(ctx context.Context, nc *nats.Conn, db *sqlx.DB) error
}

// New starts everything; it is torn down when the test ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 2, 11, 9, 0, 0, 0, domain.Taipei)
	}
	e := &Env{T: t, Clock: &Clock{now: o.Now}, Branch: domain.DefaultBranch(), Registry: prometheus.NewRegistry(), log: o.Log}
	if o.Cap > 0 {
		e.Branch.Cap = o.Cap
	}

	e.NATSDir, e.NATSAuthDir = t.TempDir(), t.TempDir()
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: e.NATSDir, AuthDir: e.NATSAuthDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.Server = srv
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if e.NC, err = e.ConnectNATS(jetstream.UserAPI); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.NC.Close)
	if e.ProjectorNC, err = e.ConnectNATS(jetstream.UserProjector); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.ProjectorNC.Close)
	e.DSN = o.Database
	if e.DSN == "" {
		e.DSN = pgtest.NewDatabase(t)
	}
	if e.DB, err = postgres.Open(ctx, e.DSN); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.DB.Close() })
	if err := postgres.Migrate(ctx, e.DB, nil); err != nil {
		t.Fatal(err)
	}
	if o.Restore != nil {
		if err := o.Restore(ctx, e.NC, e.DB); err != nil {
			t.Fatal(err)
		}
	}
	e.Codec = events.NewCodec(events.DefaultRegistry())
	if e.Store, err = jetstream.Open(ctx, e.NC, e.Codec, jetstream.Config{Duplicates: o.Duplicates}); err != nil {
		t.Fatal(err)
	}

	// The default branch, unless a restore brought its settings back:
	// those are kept as they are.
	branches := postgres.NewBranches(e.DB)
	restored, ok, err := branches.Get(ctx, e.Branch.Code)
	switch {
	case err != nil:
		t.Fatal(err)
	case ok && o.Restore != nil:
		e.Branch = restored
	default:
		if err := branches.Put(ctx, e.Branch); err != nil {
			t.Fatal(err)
		}
	}
	e.Master = o.Master
	if e.Master == nil {
		e.Master = make([]byte, 32)
		_, _ = rand.Read(e.Master)
	}
	if e.Keys, err = jetstream.OpenKeyRing(ctx, e.NC, e.Master, jetstream.KeyRingConfig{}); err != nil {
		t.Fatal(err)
	}
	blindSecret, err := e.Keys.Secret(ctx, jetstream.SecretBlindIndex)
	if err != nil {
		t.Fatal(err)
	}
	// The API's path: the keys through the bounded, short-lived cache.
	e.KeyCache = keycache.New(e.Keys, 0, 0)
	e.Sealer = events.NewSealer(e.KeyCache, blindSecret).WithBlindIndex(e.Keys)
	requestSecret, err := e.Keys.Secret(ctx, jetstream.SecretRequestHash)
	if err != nil {
		t.Fatal(err)
	}
	e.Tokens = postgres.NewTokens(e.DB)
	e.People = postgres.NewPeople(e.DB)
	e.Logins = postgres.NewLogins(e.DB, postgres.LoginPolicy{})
	e.Sessions = session.New(e.DB, session.Config{Now: e.Clock.Now})
	reader := projections.NewReader(e.DB)
	e.Reader = reader
	if e.Access, err = accesslog.Open(ctx, e.NC, accesslog.Config{}); err != nil {
		t.Fatal(err)
	}
	e.App = &app.Service{
		Store: e.Store, Sealer: e.Sealer, Clock: e.Clock, PersonCases: reader,
	}
	// Branch settings are read through the cache over the branches table,
	// as the API does, so that a branch added or changed through the API
	// takes effect at once.
	e.App.BranchCache = app.NewBranchCache(postgres.NewBranches(e.DB), app.DefaultBranchTTL)
	e.App.Branches = e.App.BranchCache.Get
	wctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	if e.Waiter, err = projections.NewWaiter(wctx, e.DSN, e.DB); err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{
		App: e.App, Reader: reader, Opener: e.Sealer, Waiter: e.Waiter, Auth: e.Tokens,
		DB: e.DB, NATS: e.NC, Store: e.Store, Registry: e.Registry, Limits: o.Limits,
		RequestHashKey: requestSecret, Access: e.Access,
		UI:     web.New(web.Config{Sessions: e.Sessions}),
		People: e.People, Tokens: e.Tokens, Sessions: e.Sessions, Logins: e.Logins, Clock: e.Clock.Now, Log: o.Log,
	})
	e.API = api
	e.HTTP = httptest.NewServer(api)
	t.Cleanup(e.HTTP.Close)
	running.Store(e.HTTP.URL, e)
	t.Cleanup(func() { running.Delete(e.HTTP.URL) })
	if !o.NoProjector {
		e.StartProjector()
	}
	return e
}

// ConnectNATS connects to the embedded server as user (jetstream.UserAPI
// or jetstream.UserProjector) with its credentials; the caller closes it.
func (e *Env) ConnectNATS(user string, opts ...nats.Option) (*nats.Conn, error) {
	creds, err := jetstream.Credentials(e.NATSAuthDir, user)
	if err != nil {
		return nil, err
	}
	return nats.Connect(e.Server.ClientURL(), append([]nats.Option{creds, nats.Name("cihui-test-" + user)}, opts...)...)
}

// NewProjector returns a projector on the environment (not started),
// reading with the projector's read-only credentials.
func (e *Env) NewProjector() *projections.Projector {
	j, err := js.New(e.ProjectorNC)
	if err != nil {
		e.T.Fatal(err)
	}
	return projections.New(projections.Options{
		DB: e.DB, JetStream: j, Stream: e.Store.StreamName(), Codec: e.Codec, BatchSize: 16, Log: e.log,
	})
}

// NewAccessProjector returns the access-log projector (not started),
// reading with the projector's read-only credentials.
func (e *Env) NewAccessProjector() *projections.AccessProjector {
	j, err := js.New(e.ProjectorNC)
	if err != nil {
		e.T.Fatal(err)
	}
	return projections.NewAccess(projections.AccessOptions{DB: e.DB, JetStream: j, Stream: e.Access.StreamName(), BatchSize: 16, Log: e.log})
}

// StartProjector runs the projector and the access-log projector until
// StopProjector or the test's end.
func (e *Env) StartProjector() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancelProj = cancel
	e.projDone = make(chan struct{})
	p, ap := e.NewProjector(), e.NewAccessProjector()
	accessDone := make(chan struct{})
	go func() { defer close(accessDone); ap.RunWithRestart(ctx) }()
	go func() { defer close(e.projDone); p.RunWithRestart(ctx); <-accessDone }()
	e.T.Cleanup(e.StopProjector)
}

// StopProjector stops the projector and waits for it.
func (e *Env) StopProjector() {
	if e.cancelProj != nil {
		e.cancelProj()
		<-e.projDone
		e.cancelProj = nil
	}
}

// Token issues a token.
func (e *Env) Token(role events.Role, school string) string {
	e.T.Helper()
	tok, _ := e.TokenWithID(role, school)
	return tok
}

// TokenWithID issues a token and returns it with its id.
func (e *Env) TokenWithID(role events.Role, school string) (token, id string) {
	e.T.Helper()
	info := postgres.TokenInfo{Role: role, School: school}
	if role == domain.RoleSocialWorker || role == domain.RoleCommittee {
		info.Branch = e.Branch.Code
	}
	tok, id, err := e.Tokens.Create(context.Background(), info)
	if err != nil {
		e.T.Fatal(err)
	}
	return tok, id
}

// PersonOf returns the id of the person a token (by id) is issued to: the
// actor id that events, changes and access records carry (issue 14).
func (e *Env) PersonOf(tokenID string) string {
	e.T.Helper()
	p, err := e.Tokens.PersonOf(context.Background(), tokenID)
	if err != nil {
		e.T.Fatal(err)
	}
	return p
}

// TokenIn issues a token of role for branch (a second branch added in a
// test: its origin schools and staff); school is for origin schools.
func (e *Env) TokenIn(branch string, role events.Role, school string) string {
	e.T.Helper()
	tok, _, err := e.Tokens.Create(context.Background(), postgres.TokenInfo{Role: role, School: school, Branch: branch})
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

// RecommendedCase files a mid-year referral for school and takes it
// through the checklist, the home visit and a first review that
// recommends it, through the application service (fast seeding for
// meeting tests). It returns the case id.
//
// Each call is a different student (a fresh national ID): one student
// holds at most one place (R-CAP-1), and a school may not refer a student
// twice while a referral is open.
func (e *Env) RecommendedCase(school, outcome string) string {
	e.T.Helper()
	return e.ReviewedCase(school, outcome, NewNationalID())
}

var people atomic.Int64

// NewNationalID returns a made-up national ID number that passes the
// checksum and that no earlier call in this process returned: a new
// student for each call.
func NewNationalID() string {
	n := people.Add(1)
	body := fmt.Sprintf("A1%07d", 2000000+n%8000000)
	// Letter A is code 10: weights 1 and 9 give 1.
	sum := 1
	for j := 1; j < 9; j++ {
		sum += (9 - j) * int(body[j]-'0')
	}
	return body + strconv.Itoa((10-sum%10)%10)
}

// ReviewedCase is RecommendedCase for the student with the given national
// ID (a different ID is a different person).
func (e *Env) ReviewedCase(school, outcome, nationalID string) string {
	e.T.Helper()
	return e.ReviewedCaseIn(e.Branch.Code, school, outcome, nationalID)
}

// ReviewedCaseIn is ReviewedCase for a case referred to branch.
func (e *Env) ReviewedCaseIn(branch, school, outcome, nationalID string) string {
	e.T.Helper()
	ctx := context.Background()
	schoolMeta := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: school, Branch: branch}}
	sw := app.Meta{Actor: events.Actor{Role: domain.RoleSocialWorker, Branch: branch}}
	res, err := e.App.OpenReferral(ctx, schoolMeta, domain.OpenReferral{
		Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Grade: 8, Sex: "F",
		Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
		Person: domain.Person{StudentName: "測試", NationalID: nationalID, BirthDate: "2012-01-01", GuardianName: "家長", Reason: "測試"},
	})
	if err != nil {
		e.T.Fatal(err)
	}
	id := res.ID
	today := calendar.DateOf(e.Clock.Now(), domain.Taipei)
	for _, item := range []int{1, 2, 3, 4, 5, 6, 8, 9, 10} {
		var issued *calendar.Date
		if item == 5 {
			issued = &today
		}
		enc := domain.Enclosures{AccidentInsurance: item == 9} // mid-year (R-DOC-1)
		if _, err := e.App.SubmitDocumentWith(ctx, schoolMeta, id, item, 1, issued, enc); err != nil {
			e.T.Fatal(err)
		}
		if _, err := e.App.CheckDocument(ctx, sw, id, item, true, ""); err != nil {
			e.T.Fatal(err)
		}
	}
	for _, k := range []string{domain.VisitHome, domain.VisitInterview, "report"} {
		if _, err := e.App.LogVisit(ctx, sw, id, k, today, ""); err != nil {
			e.T.Fatal(err)
		}
	}
	reasons := ""
	if outcome != domain.OutcomeRecommend {
		reasons = "測試"
	}
	if _, err := e.App.DecideFirstReview(ctx, sw, id, outcome, reasons); err != nil {
		e.T.Fatal(err)
	}
	return id
}
