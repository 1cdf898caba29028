package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cihui/internal/app"
	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/jetstream"
	"cihui/internal/oidcauth"
	"cihui/internal/pgcluster"
	"cihui/internal/postgres"
	"cihui/internal/projections"
	"cihui/internal/reminders"
	"cihui/internal/web"
)

// Main is the API program: its configuration and the resources it opened,
// closed in reverse order by Close.
type Main struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	NATSURL     string
	NATSListen  string
	NATSAuth    config.NATSAuth
	Replicas    int
	Dev         bool
	LogLevel    string
	Limits      httpapi.Limits
	// MasterKeyFile holds the master key (outside the data directory).
	MasterKeyFile string
	// NewMasterKeyFile holds the new master key (keys rotate).
	NewMasterKeyFile string
	// Clock is the API's clock; nil is the system clock (tests set it).
	Clock domain.Clock

	AccessMaxAge      string
	RetentionInterval string
	LapseInterval     string
	// Sign-in (signin.go).
	SessionIdle, SessionLifetime, LockFor string
	OIDC                                  oidcauth.Config
	OIDCSecretFile                        string
	// Reminder digests (reminders.go).
	SMTP                                            reminders.SMTP
	SMTPPlain                                       bool
	SMTPPasswordFile, ReminderFrom, ReminderBaseURL string
	ReminderInterval                                string
	ReminderDays                                    int
	RolloverInterval                                string // the academic year's roll-over job (rollover.go)
	// The Go runtime's memory settings and the profiling listener
	// (runtime.go).
	MemoryLimit, GCPercent, PprofAddr string
	// AddrFile names the file the listening URLs are written to
	// (addrfile.go).
	AddrFile string

	pprofURL string // the profiles' URL once served (runtime.go)

	log     *slog.Logger
	serving bool // Run: the API itself, not a subcommand
	cluster *pgcluster.Cluster
	natsSrv *server.Server
	nc      *nats.Conn
	// accessNC is the access log's own connection: a read's record does
	// not queue behind the key fetches and loads of other reads on nc's
	// one reader and writer.
	accessNC *nats.Conn
	natsOpts []nats.Option // the URL's credentials and reconnects
	db       *sqlx.DB
	closers  []func()
}

// NewMain returns a Main with defaults.
func NewMain() *Main { return &Main{} }

// ParseFlags reads flags, with environment variables as defaults.
func (m *Main) ParseFlags(args []string) ([]string, error) {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:
  api [serve] [flags]                           serve the API (embedded NATS and a local PostgreSQL by default)
  api migrate [up|down|status] [flags]          apply, roll back or show migrations
  api token create --role R [--school S] [--branch B] [--label L] [flags]
  api token list [flags]
  api token revoke ID [flags]
  api [flags] branch list | show CODE | history CODE    branch settings (see README)
  api [flags] branch add CODE --name N --committee C [--cap N] [--file F] | set CODE [--cap N] [--file F]
  api keys rotate --new-master-key-file F [flags]  re-wrap every data key under a new master key (API stopped)
  api backup [flags] DIR                        back up the streams, tokens and branches beside the running system
  api restore [flags] DIR                       restore a backup into a fresh data directory (before the API starts)
  api [flags] calendar import FILE [--year N] [--branch B]  import an office calendar file, as PUT /v1/calendar/{year}

Flags may stand before or after the subcommand. A subcommand uses the
running system: DATABASE_URL/NATS_URL if set, else the services of the
API running on --data-dir (<data-dir>/endpoints.json, while its process
lives). Only when nothing runs does it start the local PostgreSQL cluster
itself, and then it stops only what it started. keys rotate refuses to
run while the API runs.

The master key that wraps per-student data keys comes from CIHUI_MASTER_KEY
(32 bytes, base64) or --master-key-file; a missing key is an error. Only
--dev keeps one in <data-dir>/master.key (created when missing).

Flags:
`)
		fs.PrintDefaults()
	}
	config.StringFlag(fs, &m.Addr, "addr", "CIHUI_ADDR", "127.0.0.1:8080", "HTTP listen address; port 0 picks a free one, named in <data-dir>/endpoints.json (embedded services) and in --addr-file")
	config.StringFlag(fs, &m.DataDir, "data-dir", "CIHUI_DATA_DIR", "./.data", "data directory: embedded NATS storage, local PostgreSQL cluster, dev tokens")
	config.StringFlag(fs, &m.DatabaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL; empty: start a local cluster under <data-dir>/pg")
	config.StringFlag(fs, &m.NATSURL, "nats-url", "NATS_URL", "", "external NATS URL; empty: run an embedded server with storage under <data-dir>/nats")
	m.NATSAuth.Flags(fs)
	config.StringFlag(fs, &m.NATSListen, "nats-listen", "CIHUI_NATS_LISTEN", "127.0.0.1:4222", "where the embedded NATS server listens (loopback, for the projector)")
	replicas := config.Env("CIHUI_STREAM_REPLICAS", "1")
	fs.IntVar(&m.Replicas, "replicas", atoi(replicas, 1), "stream replicas: 1 embedded, 3 on a cluster (env CIHUI_STREAM_REPLICAS)")
	config.BoolFlag(fs, &m.Dev, "dev", "CIHUI_DEV", false, "development mode: create one token per role and write them to <data-dir>/dev-tokens.json; keep the master key in <data-dir>/master.key")
	config.StringFlag(fs, &m.MasterKeyFile, "master-key-file", "CIHUI_MASTER_KEY_FILE", "", "file holding the master key (32 bytes, base64), kept apart from the data; CIHUI_MASTER_KEY takes precedence")
	config.StringFlag(fs, &m.NewMasterKeyFile, "new-master-key-file", "CIHUI_NEW_MASTER_KEY_FILE", "", "keys rotate: file holding the new master key; or set CIHUI_NEW_MASTER_KEY")
	config.StringFlag(fs, &m.LogLevel, "log-level", "CIHUI_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	if err := limitFlags(fs, &m.Limits); err != nil {
		return nil, err
	}
	m.accessRetentionFlags(fs)
	m.lapseFlags(fs)
	m.signInFlags(fs)
	m.reminderFlags(fs)
	m.rolloverFlags(fs)
	m.runtimeFlags(fs)
	m.addrFileFlags(fs)
	rest, err := config.SplitFlags(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errUsage
		}
		return nil, err
	}
	if err := checkLimits(m.Limits); err != nil {
		return nil, err
	}
	m.log = config.Logger(m.LogLevel)
	abs, err := filepath.Abs(m.DataDir)
	if err != nil {
		return nil, err
	}
	m.DataDir = abs
	return rest, nil
}

// useRunning points a subcommand at the services of the API running on
// the data directory, for whichever of DATABASE_URL and NATS_URL is not
// set, and reports whether that API runs. Then nothing is started, so
// nothing is stopped: the cluster and the embedded NATS server belong to
// the API.
func (m *Main) useRunning() (bool, error) {
	ep, ok, err := config.RunningEndpoints(m.DataDir)
	if err != nil || !ok {
		return false, err
	}
	if m.DatabaseURL == "" {
		m.DatabaseURL = ep.DatabaseURL
	}
	if m.NATSURL == "" {
		m.NATSURL = ep.NATSURL
	}
	m.log.Debug("using the running API's services", "pid", ep.PID)
	return true, nil
}

func atoi(s string, def int) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		return def
	}
	return n
}

// openDB connects to PostgreSQL, starting the local cluster if no URL is
// configured, and migrates.
func (m *Main) openDB(ctx context.Context) error {
	if err := os.MkdirAll(m.DataDir, 0o755); err != nil {
		return err
	}
	if !m.serving && m.DatabaseURL == "" {
		// A subcommand: the running API's database first.
		if _, err := m.useRunning(); err != nil {
			return err
		}
	}
	dsn := m.DatabaseURL
	if dsn == "" {
		m.log.Info("no DATABASE_URL: starting the local PostgreSQL cluster (or using it if it runs)", "dir", filepath.Join(m.DataDir, "pg"))
		c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(m.DataDir, "pg"), Fsync: true})
		if err != nil {
			return err
		}
		m.cluster = c
		if err := c.CreateDatabase(ctx, "cihui"); err != nil {
			return err
		}
		dsn = c.DSN("cihui")
		m.DatabaseURL = dsn
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	m.db = db
	return postgres.Migrate(ctx, db, m.log)
}

// Run starts everything and serves until ctx is done.
func (m *Main) Run(ctx context.Context) error {
	m.serving = true
	if err := m.applyRuntime(os.Getenv); err != nil {
		return err
	}
	master, err := m.masterKey() // before anything starts: a missing key is a clear start-up error
	if err != nil {
		return err
	}
	if ep, ok, err := config.RunningEndpoints(m.DataDir); err != nil {
		return err
	} else if ok && ep.PID != os.Getpid() {
		return fmt.Errorf("an API already runs on %s (pid %d); stop it first, or give this one its own --data-dir", m.DataDir, ep.PID)
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	branchStore := postgres.NewBranches(m.db)
	if err := branchStore.EnsureDefault(ctx); err != nil {
		return err
	}
	branches := app.NewBranchCache(branchStore, app.DefaultBranchTTL)

	natsURL, err := m.openNATS()
	if err != nil {
		return err
	}
	nc := m.nc
	codec := events.NewCodec(events.DefaultRegistry())
	store, err := jetstream.Open(ctx, nc, codec, jetstream.Config{Replicas: m.Replicas})
	if err != nil {
		return err
	}

	keys, err := openKeys(ctx, nc, m.db, store, master, m.Replicas, m.log)
	if err != nil {
		return err
	}
	sealer := keys.sealer
	tokens := postgres.NewTokens(m.db)
	if m.Dev {
		if err := m.devTokens(ctx, tokens); err != nil {
			return err
		}
	}
	// The HTTP port is bound now, before the endpoints file names it:
	// a port in use fails the start here, and --addr with port 0 gets a
	// free one, which the file and the log then give.
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("HTTP listen address %s: %w", m.Addr, err)
	}
	m.closers = append(m.closers, func() { _ = ln.Close() })
	apiURL := "http://" + ln.Addr().String()
	if m.natsSrv != nil || m.cluster != nil {
		if err := config.WriteEndpoints(m.DataDir, config.Endpoints{DatabaseURL: m.DatabaseURL, NATSURL: natsURL, APIURL: apiURL, PID: os.Getpid()}); err != nil {
			return err
		}
		m.closers = append(m.closers, func() { config.RemoveEndpoints(m.DataDir) })
	}

	waitCtx, cancelWait := context.WithCancel(context.Background())
	m.closers = append(m.closers, cancelWait)
	waiter, err := projections.NewWaiter(waitCtx, m.DatabaseURL, m.db)
	if err != nil {
		return err
	}
	// Verified tokens are cached; a revocation's notice drops one at once
	// (issue 13).
	auth, err := postgres.NewCachedTokens(waitCtx, tokens, m.DatabaseURL)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := m.servePprof(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})); err != nil {
		return err
	}
	reader := projections.NewReader(m.db)
	if m.accessNC, err = nats.Connect(natsURL, append(m.natsOpts, nats.Name("cihui-api-access"))...); err != nil {
		return fmt.Errorf("connecting to NATS: %w", err)
	}
	access, err := m.openAccessLog(ctx, m.accessNC)
	if err != nil {
		return err
	}
	reg.MustRegister(access.Collectors()...)
	svc := &app.Service{
		Store: store, Sealer: sealer, Clock: m.clock(),
		Branches: branches.Get, BranchCache: branches, PersonCases: reader,
	}
	sessions, logins, err := m.signIn()
	if err != nil {
		return err
	}
	if m.Dev {
		if err := m.devPeople(ctx, tokens, postgres.NewPeople(m.db), logins); err != nil {
			return err
		}
	}
	oidc, err := m.oidcClient()
	if err != nil {
		return err
	}
	retention, err := m.retentionJob(svc, reader, waiter, store)
	if err != nil {
		return err
	}
	srv := httpapi.New(httpapi.Config{
		App: svc, Reader: reader, Opener: sealer, Waiter: waiter, Auth: auth,
		DB: m.db, NATS: nc, Store: store, Log: m.log, Registry: reg, Limits: m.Limits,
		RequestHashKey: keys.requestSecret, Access: access,
		UI:     web.New(web.Config{Sessions: sessions, OIDC: oidc != nil, Log: m.log}),
		People: postgres.NewPeople(m.db), Tokens: tokens, Sessions: sessions, Logins: logins,
		Retention: retention,
	})
	if oidc != nil {
		srv.UseOIDC(oidc) // and password sign-in is off
	}
	m.startRetention(retention)
	if err := m.startLapse(svc, reader, waiter, store); err != nil {
		return err
	}
	if err := m.startReminders(svc, reader); err != nil {
		return err
	}
	if err := m.startRollover(svc); err != nil {
		return err
	}
	if err := m.writeAddrFile(apiURL); err != nil {
		return err
	}

	postgres.Warm(ctx, m.db)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	m.log.Info("API listening", "addr", apiURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.log.Info("shutting down: draining HTTP")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// openNATS connects to NATS, starting the embedded server if no URL is
// configured, and returns the URL.
func (m *Main) openNATS() (string, error) {
	if !m.serving && m.NATSURL == "" {
		// A subcommand: the running API's NATS first; else a server of
		// its own, on a port nothing else uses (never a second server
		// on the store of a running API: useRunning found none).
		if _, err := m.useRunning(); err != nil {
			return "", err
		}
		m.NATSListen = "127.0.0.1:-1"
	}
	natsURL := m.NATSURL
	if natsURL == "" {
		host, port, err := splitHostPort(m.NATSListen)
		if err != nil {
			return "", err
		}
		authDir := filepath.Join(m.DataDir, config.NATSAuthDir)
		s, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: filepath.Join(m.DataDir, "nats"), AuthDir: authDir, Host: host, Port: port})
		if err != nil {
			return "", err
		}
		m.natsSrv = s
		natsURL = s.ClientURL()
		m.log.Info("embedded NATS started", "url", natsURL, "store", filepath.Join(m.DataDir, "nats"), "sync", "always", "credentials", authDir)
	}
	natsAuth, err := m.NATSAuth.Options(m.DataDir, jetstream.UserAPI)
	if err != nil {
		return "", err
	}
	// Clipped: each connection's options are appended to a copy.
	m.natsOpts = slices.Clip(append(natsAuth, nats.MaxReconnects(-1)))
	opts := append(m.natsOpts, nats.Name("cihui-api"))
	if m.serving {
		// A batched direct get (an aggregate's load, a data key's fetch)
		// is a sync subscription whose channel the client sizes at 64K
		// messages, 512 KB each time: under read load that was a quarter
		// of the heap (issue 13). The API's batches are at most 256
		// messages (runtime.go).
		opts = append(opts, nats.SyncQueueLen(syncQueueLen))
	}
	nc, err := nats.Connect(natsURL, opts...)
	if err != nil {
		return "", fmt.Errorf("connecting to NATS: %w", err)
	}
	m.nc = nc
	return natsURL, nil
}

func (m *Main) clock() domain.Clock {
	if m.Clock != nil {
		return m.Clock
	}
	return domain.ClockFunc(time.Now)
}

// devTokens creates one token per role and writes them to
// <data-dir>/dev-tokens.json (kept across restarts).
func (m *Main) devTokens(ctx context.Context, tokens *postgres.Tokens) error {
	path := filepath.Join(m.DataDir, "dev-tokens.json")
	if b, err := os.ReadFile(path); err == nil {
		var existing map[string]string
		if json.Unmarshal(b, &existing) == nil && len(existing) == 5 {
			valid := true
			for _, t := range existing {
				if _, err := tokens.Authenticate(ctx, t); err != nil {
					valid = false
				}
			}
			if valid {
				m.log.Info("dev tokens", "file", path)
				return nil
			}
		}
	}
	out := map[string]string{}
	for _, r := range []events.Role{domain.RoleOriginSchool, domain.RoleSocialWorker, domain.RoleCommittee, domain.RoleBureau, domain.RoleAdmin} {
		info := postgres.TokenInfo{Role: r, Label: "dev"}
		switch r {
		case domain.RoleOriginSchool:
			info.School = "034501"
		case domain.RoleSocialWorker, domain.RoleCommittee:
			info.Branch = domain.DefaultBranchCode
		}
		t, _, err := tokens.Create(ctx, info)
		if err != nil {
			return err
		}
		out[string(r)] = t
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	m.log.Info("dev tokens written", "file", path)
	return nil
}

// Close releases everything Run opened, newest first: NATS is flushed,
// the database closed, the embedded server and local cluster stopped.
func (m *Main) Close() {
	for i := len(m.closers) - 1; i >= 0; i-- {
		m.closers[i]()
	}
	for _, nc := range []*nats.Conn{m.accessNC, m.nc} {
		if nc == nil {
			continue
		}
		_ = nc.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for !nc.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if m.natsSrv != nil {
		m.natsSrv.Shutdown()
		m.natsSrv.WaitForShutdown()
	}
	if m.db != nil {
		m.db.Close()
	}
	// Stop is a no-op for a cluster this process found running: only
	// what this process started is stopped.
	if m.cluster != nil {
		if err := m.cluster.Stop(); err != nil {
			m.log.Error("stopping local PostgreSQL", "err", err)
		}
	}
	m.log.Info("stopped")
}

// Migrate runs `api migrate [up|down|status]`.
func (m *Main) Migrate(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) > 1 {
		return fmt.Errorf("migrate: unexpected arguments %q", args[1:])
	}
	if _, err := m.useRunning(); err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil { // applies pending migrations
		return err
	}
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "up":
	case "down":
		if err := postgres.MigrateDown(ctx, m.db, m.log); err != nil {
			return err
		}
	case "status":
	default:
		return fmt.Errorf("migrate: unknown subcommand %q (up, down, status)", sub)
	}
	v, pending, err := postgres.MigrationStatus(ctx, m.db)
	if err != nil {
		return err
	}
	fmt.Printf("schema version %d, pending: %v\n", v, pending)
	return nil
}

func splitHostPort(hp string) (string, int, error) {
	i := strings.LastIndex(hp, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("--nats-listen %q: want host:port", hp)
	}
	port := atoi(hp[i+1:], -2)
	if port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("--nats-listen %q: bad port", hp)
	}
	return hp[:i], port, nil
}
