// Package postgres is the PostgreSQL adapter: connections, migrations,
// API tokens, the data-key ring and branch configuration.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"cihui/migrations"
)

// maxConns bounds a process's connections, open and idle.
const maxConns = 16

// Open connects to dsn and checks the connection.
func Open(ctx context.Context, dsn string) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	// Every open connection may stay idle (database/sql keeps 2 by
	// default): under load the other 14 were closed after each query and
	// opened again, a new server process each time, and that churn was
	// most of a read's latency at 2,000 reads/s (issue 13). Idle ones
	// still close after five minutes.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	return db, nil
}

// Warm opens the pool's connections before a server takes requests, so
// that the first burst of reads after a start does not wait for new server
// processes (measured: 16 opened under a 2,000 reads/s burst stalled the
// first 250 ms of reads up to 129 ms). Failures are left to the requests.
func Warm(ctx context.Context, db *sqlx.DB) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conns := make([]*sql.Conn, 0, maxConns)
	for range maxConns {
		c, err := db.Conn(ctx)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		_ = c.Close() // back to the pool, idle
	}
}

// Migrate applies every pending migration. A session advisory lock lets
// the API and the projector start together safely.
func Migrate(ctx context.Context, db *sqlx.DB, log *slog.Logger) error {
	p, err := provider(db, log)
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	if log != nil {
		for _, r := range res {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
		}
	}
	return nil
}

// MigrateDown rolls back the newest migration.
func MigrateDown(ctx context.Context, db *sqlx.DB, log *slog.Logger) error {
	p, err := provider(db, log)
	if err != nil {
		return err
	}
	_, err = p.Down(ctx)
	return err
}

// MigrationStatus returns (version, pending) of the schema.
func MigrationStatus(ctx context.Context, db *sqlx.DB) (current int64, pending bool, err error) {
	p, err := provider(db, nil)
	if err != nil {
		return 0, false, err
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, false, err
	}
	pending, err = p.HasPending(ctx)
	return current, pending, err
}

func provider(db *sqlx.DB, log *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	// Migrations are numbered when work starts, not when it lands, so a
	// lower number may arrive after a higher one is applied: apply it.
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	return goose.NewProvider(goose.DialectPostgres, db.DB, migrations.FS, opts...)
}
