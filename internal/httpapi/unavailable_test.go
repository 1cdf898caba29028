package httpapi

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// Issue 7, finding 4: connection-level failures of PostgreSQL and NATS are
// recognised as a dependency being down (503), however they are wrapped;
// errors of the request or of the code are not.
func TestDependencyDownClassifiesConnectionFailures(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "unix", Err: &net.AddrError{Err: "no such file or directory"}}
	down := map[string]error{
		"connection refused":        fmt.Errorf("postgres: looking up a token: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
		"no socket file":            fmt.Errorf("x: %w", dial),
		"connection reset":          fmt.Errorf("x: %w", syscall.ECONNRESET),
		"bad connection":            fmt.Errorf("x: %w", driver.ErrBadConn),
		"cannot_connect_now 57P03":  fmt.Errorf("x: %w", &pq.Error{Code: "57P03"}),
		"admin_shutdown 57P01":      &pq.Error{Code: "57P01"},
		"connection_failure 08006":  &pq.Error{Code: "08006"},
		"too_many_connections":      &pq.Error{Code: "53300"},
		"deadline on a DB call":     fmt.Errorf("x: %w", context.DeadlineExceeded),
		"nats no servers":           nats.ErrNoServers,
		"nats timeout":              fmt.Errorf("x: %w", nats.ErrTimeout),
		"nats closed":               nats.ErrConnectionClosed,
		"nats reconnecting":         nats.ErrConnectionReconnecting,
		"nats no responders":        nats.ErrNoResponders,
		"jetstream not enabled":     js.ErrJetStreamNotEnabled,
		"jetstream 503 API error":   fmt.Errorf("jetstream: %w", &js.APIError{Code: 503, ErrorCode: 10008}),
		"event store unavailable":   fmt.Errorf("%w: %v", events.ErrUnavailable, "nats: timeout"),
		"jetstream no stream reply": js.ErrNoStreamResponse,
	}
	for name, err := range down {
		if !dependencyDown(err) {
			t.Errorf("%s (%v): not recognised as a dependency down", name, err)
		}
	}
	up := map[string]error{
		"nil":                        nil,
		"untranslatable 22021":       &pq.Error{Code: "22021"},
		"numeric out of range 22003": fmt.Errorf("x: %w", &pq.Error{Code: "22003"}),
		"unique violation":           &pq.Error{Code: "23505"},
		"jetstream wrong last seq":   &js.APIError{Code: 400, ErrorCode: js.JSErrCodeStreamWrongLastSequence},
		"a plain error":              errors.New("boom"),
		"client went away":           context.Canceled,
		"domain error":               domain.Errorf(domain.EInvalid, "bad"),
	}
	for name, err := range up {
		if dependencyDown(err) {
			t.Errorf("%s (%v): taken for a dependency down", name, err)
		}
	}
}
