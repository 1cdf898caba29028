package httpapi

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"syscall"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
)

// dependencyDown reports whether err means that PostgreSQL or NATS cannot
// be reached or cannot serve right now, rather than that the request or
// the code is wrong. It is the one place such failures are recognised;
// the error handler answers them 503 with Retry-After (issue 7,
// finding 4), whichever route or middleware (the token check included)
// met them.
func dependencyDown(err error) bool {
	if err == nil {
		return false
	}
	for _, target := range downErrors {
		if errors.Is(err, target) {
			return true
		}
	}
	// A SQLSTATE (lib/pq's *pq.Error, pgx's *pgconn.PgError) in the
	// classes of connection failures (08), operator intervention such as a
	// shutdown or "cannot connect now" (57) and insufficient resources,
	// such as too many connections (53).
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		if s := st.SQLState(); len(s) == 5 {
			switch s[:2] {
			case "08", "53", "57":
				return true
			}
		}
		return false
	}
	// A JetStream API error with status 503: JetStream is not enabled, or
	// the stream has no leader for the moment.
	var apiErr *js.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code == 503
	}
	// Dialling, reading or writing a connection: refused, reset, no such
	// socket file (a stopped local PostgreSQL), timeouts.
	var netErr net.Error
	var opErr *net.OpError
	return errors.As(err, &netErr) || errors.As(err, &opErr)
}

// downErrors are the sentinel errors of an unreachable dependency.
var downErrors = []error{
	events.ErrUnavailable,
	context.DeadlineExceeded,
	driver.ErrBadConn,
	sql.ErrConnDone,
	syscall.ECONNREFUSED,
	syscall.ECONNRESET,
	syscall.EPIPE,
	nats.ErrNoServers,
	nats.ErrTimeout,
	nats.ErrConnectionClosed,
	nats.ErrConnectionDraining,
	nats.ErrConnectionReconnecting,
	nats.ErrDisconnected,
	nats.ErrNoResponders,
	nats.ErrStaleConnection,
	nats.ErrInvalidConnection,
	js.ErrJetStreamNotEnabled,
	js.ErrJetStreamNotEnabledForAccount,
	js.ErrNoStreamResponse,
	js.ErrServerShutdown,
}
