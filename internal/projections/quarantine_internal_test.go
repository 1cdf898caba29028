package projections

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lib/pq"

	"cihui/internal/events"
)

// Issue 7: only the event's own failures quarantine it; the
// infrastructure's never do (the projector restarts instead).
func TestTransientErrorsNeverQuarantine(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pq.Error{Code: "08006"}, true}, // connection failure
		{&pq.Error{Code: "57P01"}, true}, // admin shutdown
		{&pq.Error{Code: "40P01"}, true}, // deadlock
		{&pq.Error{Code: "53100"}, true}, // disk full
		{fmt.Errorf("x: %w", driver.ErrBadConn), true},
		{context.Canceled, true},
		{&pq.Error{Code: "22021"}, false}, // NUL byte
		{&pq.Error{Code: "22003"}, false}, // number out of range
		{&pq.Error{Code: "23514"}, false}, // check constraint
		{errPanic, false},
		{errors.New("events: sealed data failed authentication"), false},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Issue 7: the quarantine records a code, never the error's text (it may
// quote a value, personal data among them).
func TestErrorCodeCarriesNoValue(t *testing.T) {
	err := fmt.Errorf("applying: %w", &pq.Error{Code: "22021", Message: `invalid byte sequence for encoding "UTF8": 0x00 王小明`, Detail: "A123456789"})
	if got := errorCode(err); got != "22021" {
		t.Fatalf("errorCode = %q", got)
	}
	if got := errorCode(errors.New("王小明 A123456789")); got != codeApply {
		t.Fatalf("errorCode = %q", got)
	}
	if got := errorCode(fmt.Errorf("x: %w", errPanic)); got != codePanic {
		t.Fatalf("errorCode = %q", got)
	}
}

// A stream name PostgreSQL cannot store (a NUL, invalid UTF-8, too long)
// is recorded as its hash, the same each time, so holding back still
// matches.
func TestStreamOfUnstorableIDIsHashed(t *testing.T) {
	env := events.Envelope{Branch: "xiucai", AggregateType: "referral", AggregateID: "r\x00王"}
	s := streamOf(env)
	if !strings.HasPrefix(s, "sha256:") || strings.Contains(s, "\x00") || s != streamOf(env) {
		t.Fatalf("streamOf = %q", s)
	}
	if got := streamOf(events.Envelope{Branch: "xiucai", AggregateType: "referral", AggregateID: "rabc"}); got != "cihui.xiucai.referral.rabc" {
		t.Fatalf("streamOf = %q", got)
	}
	if got := storable(strings.Repeat("a", 300)); !strings.HasPrefix(got, "sha256:") {
		t.Fatalf("long id kept: %q", got)
	}
}
