// Command projector applies the event stream to the PostgreSQL read
// models, each batch and its checkpoint in one transaction.
//
//	projector [flags]                     follow the stream from the checkpoint
//	projector rebuild [--dry-run] [flags] build the read models afresh beside the live ones, switch, then follow
//	projector retry [flags]               apply the quarantined and held-back events again, then exit
//
// Flags may stand before or after the subcommand.
// Without DATABASE_URL and NATS_URL it uses the services the API started
// under the data directory (<data-dir>/endpoints.json), and authenticates
// to NATS as the projector user with <data-dir>/nats-auth/projector.nk.
// It holds no key: personal data stays sealed in the read models as it is
// in the events.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cihui/internal/config"
	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/logsafe"
	"cihui/internal/postgres"
	"cihui/internal/projections"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{}
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "projector:", err)
		os.Exit(2)
	}
	defer m.Close()
	if err := m.Run(ctx); err != nil {
		m.log.Error("projector failed", "err", logsafe.Err(err))
		os.Exit(1)
	}
}

// Main is the projector program.
type Main struct {
	DataDir     string
	DatabaseURL string
	NATSURL     string
	NATSAuth    config.NATSAuth
	MetricsAddr string
	LogLevel    string
	BatchSize   int
	// RebuildBatch is the events per transaction of a rebuild.
	RebuildBatch int
	Rebuild      bool
	Retry        bool
	// DryRun (rebuild --dry-run) says what a rebuild would do and exits.
	DryRun bool

	log *slog.Logger
	db  *sqlx.DB
	nc  *nats.Conn
}

// ParseFlags reads flags, with environment variables as defaults.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("projector", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage:
  projector [flags]                      follow the stream from the checkpoint
  projector rebuild [--dry-run] [flags]  build the read models afresh from the first event in the shadow
                                         schema "rebuild" while the API serves the live ones, switch them in
                                         in one transaction, then follow (a killed rebuild resumes);
                                         --dry-run prints the checkpoints and tables it would reset, changing nothing
  projector retry [flags]                apply the quarantined and held-back events again (after a fix), then exit

Flags may stand before or after the subcommand. Without DATABASE_URL and
NATS_URL it uses the services of the API running on --data-dir
(<data-dir>/endpoints.json); it never starts or stops them. A second
projector fails when the metrics address is taken: give it another
--metrics-addr, or --metrics-addr '' to run without metrics. A rebuild
beside a running projector (its metrics address taken) switches the read
models in and exits; the running projector follows.

Needs no master key: personal data is copied into the read models sealed,
and only the API opens it.

Flags:
`)
		fs.PrintDefaults()
	}
	config.StringFlag(fs, &m.DataDir, "data-dir", "CIHUI_DATA_DIR", "./.data", "data directory of a local API (for endpoints.json and nats-auth/projector.nk)")
	config.StringFlag(fs, &m.DatabaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL URL; empty: the API's local cluster")
	config.StringFlag(fs, &m.NATSURL, "nats-url", "NATS_URL", "", "NATS URL; empty: the API's embedded server")
	m.NATSAuth.Flags(fs)
	config.StringFlag(fs, &m.MetricsAddr, "metrics-addr", "CIHUI_PROJECTOR_METRICS_ADDR", "127.0.0.1:9091", "where /metrics is served; empty: off")
	config.StringFlag(fs, &m.LogLevel, "log-level", "CIHUI_LOG_LEVEL", "info", "log level")
	fs.IntVar(&m.BatchSize, "batch", 256, "events per transaction")
	fs.IntVar(&m.RebuildBatch, "rebuild-batch", projections.DefaultRebuildBatch, "rebuild: events per transaction of the shadow build")
	fs.BoolVar(&m.DryRun, "dry-run", false, "rebuild: print what would be reset (checkpoints, tables) and change nothing")
	pos, err := config.ParseAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		switch pos[0] {
		case "rebuild":
			m.Rebuild = true
		case "retry":
			m.Retry = true
		default:
			return fmt.Errorf("unknown subcommand %q (rebuild, retry; see --help)", pos[0])
		}
		if len(pos) > 1 {
			return fmt.Errorf("%s: unexpected arguments %q", pos[0], pos[1:])
		}
	}
	if m.DryRun && !m.Rebuild {
		return errors.New("--dry-run goes with rebuild")
	}
	m.log = config.Logger(m.LogLevel)
	abs, err := filepath.Abs(m.DataDir)
	if err != nil {
		return err
	}
	m.DataDir = abs
	return nil
}

// oneShot reports whether the run does its work and exits; such a run
// does not wait for an API to start.
func (m *Main) oneShot() bool { return m.Retry || m.DryRun }

// Run follows the stream until ctx is done, restarting after errors.
func (m *Main) Run(ctx context.Context) error {
	if m.DatabaseURL == "" || m.NATSURL == "" {
		var ep config.Endpoints
		if m.oneShot() {
			var ok bool
			var err error
			if ep, ok, err = config.RunningEndpoints(m.DataDir); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("no API runs on %s: start it, or set DATABASE_URL and NATS_URL", m.DataDir)
			}
		} else {
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			var err error
			ep, err = config.WaitEndpoints(wctx, m.DataDir, m.log)
			cancel()
			if err != nil {
				return err
			}
		}
		if m.DatabaseURL == "" {
			m.DatabaseURL = ep.DatabaseURL
		}
		if m.NATSURL == "" {
			m.NATSURL = ep.NATSURL
		}
	}
	db, err := postgres.Open(ctx, m.DatabaseURL)
	if err != nil {
		return err
	}
	m.db = db
	if !m.DryRun { // a dry run changes nothing, not even the schema
		if err := postgres.Migrate(ctx, db, m.log); err != nil {
			return err
		}
	}
	natsAuth, err := m.NATSAuth.Options(m.DataDir, jetstream.UserProjector)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(m.NATSURL, append(natsAuth, nats.Name("cihui-projector"), nats.MaxReconnects(-1))...)
	if err != nil {
		return fmt.Errorf("connecting to NATS: %w", err)
	}
	m.nc = nc
	codec := events.NewCodec(events.DefaultRegistry())
	// Read-only: the projector's credentials cannot create or change the
	// stream, so it waits for the API to have created it.
	store, err := jetstream.Attach(ctx, nc, codec, jetstream.Config{})
	if err != nil {
		return err
	}
	if m.DryRun {
		return m.dryRun(ctx, store)
	}
	// A rebuild follows the stream once it has switched, as the projector
	// does, unless another projector holds the metrics address: that one
	// follows, and the rebuild ends at its switch. Known before the
	// rebuild, not found after an hour of it.
	var ln net.Listener
	taken := false
	if m.Rebuild && m.MetricsAddr != "" {
		if ln, err = listenMetrics(m.MetricsAddr); err != nil {
			if !errors.Is(err, syscall.EADDRINUSE) {
				return err
			}
			taken = true
			m.log.Warn("the metrics address is taken (another projector?): this rebuild switches the read models in and exits, without following",
				"metrics_addr", m.MetricsAddr)
		} else {
			defer ln.Close()
		}
	}
	if m.Rebuild {
		if err := m.rebuild(ctx, store, codec); err != nil {
			return err
		}
		if taken {
			m.log.Info("rebuild switched in; the projector already running follows from its checkpoint")
			return nil
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	p := projections.New(projections.Options{
		DB: db, JetStream: store.JetStream(), Stream: store.StreamName(), Codec: codec,
		Log: m.log, BatchSize: m.BatchSize, Registry: reg,
	})
	if m.Retry {
		return m.retry(ctx, p)
	}
	if m.MetricsAddr != "" {
		// Listen before following: a second projector whose metrics
		// address is taken fails here, clearly, instead of running
		// unmonitored with a warning nobody reads.
		if ln == nil {
			if ln, err = listenMetrics(m.MetricsAddr); err != nil {
				return err
			}
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.log.Error("metrics server", "err", err)
			}
		}()
		defer srv.Close()
	} else {
		m.log.Info("metrics off (--metrics-addr is empty)")
	}
	// The access log (stream CIHUI_ACCESS, written by the API) has its own
	// projector and checkpoint, beside the read models'.
	ap := projections.NewAccess(projections.AccessOptions{DB: db, JetStream: store.JetStream(), Log: m.log, BatchSize: m.BatchSize})
	accessDone := make(chan struct{})
	go func() { defer close(accessDone); ap.RunWithRestart(ctx) }()
	p.RunWithRestart(ctx)
	<-accessDone
	return nil
}

// listenMetrics listens on the metrics address, or says clearly why not
// and what to do.
func listenMetrics(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %s: %w (another projector? give --metrics-addr another address, or --metrics-addr '' to run without metrics)", addr, err)
	}
	return ln, nil
}

// Close flushes NATS and closes the database.
func (m *Main) Close() {
	if m.nc != nil {
		_ = m.nc.Drain()
	}
	if m.db != nil {
		m.db.Close()
	}
}
