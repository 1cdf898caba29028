package projections

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// copyChunk is about how much COPY text is handed to the driver at once.
const copyChunk = 60 << 10

// copyRows writes rows into table (found on the search path) by COPY, on
// conn, inside the transaction open on it. The rows are encoded here into
// COPY's text format and handed to the driver in chunks: through
// database/sql every row was a statement execution of its own, with its
// argument conversion, about a sixth of a rebuild's CPU (issue 13). The
// values are converted as database/sql and lib/pq convert them
// (TestCopyRowsAsDatabaseSQL).
func copyRows(ctx context.Context, conn *sqlx.Conn, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	query := `COPY ` + pq.QuoteIdentifier(table) + ` (` + strings.Join(quoted, ", ") + `) FROM STDIN`
	return conn.Raw(func(dc any) error {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("projections: the driver cannot prepare a COPY")
		}
		st, err := prep.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		// After Exec(nil) (or a first Close) a Close does nothing: on an
		// error this ends the COPY, whose transaction the caller rolls back.
		defer st.Close()
		in, ok := st.(interface {
			CopyData(ctx context.Context, line string) (driver.Result, error)
		})
		if !ok {
			return errors.New("projections: the driver's COPY takes no raw data")
		}
		checker, _ := dc.(driver.NamedValueChecker)
		buf := make([]byte, 0, copyChunk+4<<10)
		send := func() error {
			// CopyData adds the last row's newline.
			_, err := in.CopyData(ctx, string(buf[:len(buf)-1]))
			buf = buf[:0]
			return err
		}
		for _, r := range rows {
			if len(r) != len(cols) {
				return fmt.Errorf("projections: COPY %s: a row of %d values for %d columns", table, len(r), len(cols))
			}
			for i, v := range r {
				if i > 0 {
					buf = append(buf, '\t')
				}
				if buf, err = appendCopyValue(buf, v, checker); err != nil {
					return fmt.Errorf("projections: COPY %s column %s: %w", table, cols[i], err)
				}
			}
			buf = append(buf, '\n')
			if len(buf) >= copyChunk {
				if err := send(); err != nil {
					return err
				}
			}
		}
		if len(buf) > 0 {
			if err := send(); err != nil {
				return err
			}
		}
		// As database/sql's Exec with no arguments: the end of the data,
		// and any error of the COPY.
		//lint:ignore SA1019 the driver's COPY ends by Exec(nil); there is no ExecContext for it
		_, err = st.Exec(nil)
		return err
	})
}

// appendCopyValue appends v in COPY's text format: the common types
// directly, the others converted first as database/sql converts an
// argument (the driver's checker, then the default converter), then
// encoded as lib/pq encodes a driver value.
func appendCopyValue(b []byte, v any, checker driver.NamedValueChecker) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, `\N`...), nil
	case string:
		return appendCopyText(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64: // lib/pq sends those above int64's range as text: the same digits
		return strconv.AppendUint(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case time.Time:
		return appendTimestamp(b, x), nil
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64), nil
	case []byte:
		return appendCopyBytea(b, x), nil
	}
	nv := driver.NamedValue{Ordinal: 1, Value: v}
	err := driver.ErrSkip
	if checker != nil {
		err = checker.CheckNamedValue(&nv)
	}
	if errors.Is(err, driver.ErrSkip) {
		nv.Value, err = driver.DefaultParameterConverter.ConvertValue(nv.Value)
	}
	if err != nil {
		return nil, err
	}
	switch x := nv.Value.(type) {
	case nil, string, int64, bool, time.Time, float64, []byte:
		return appendCopyValue(b, x, nil)
	default:
		return nil, fmt.Errorf("a value of type %T", x)
	}
}

// appendTimestamp appends t as lib/pq formats a timestamp
// (pq.FormatTimestamp), without its two allocations and its parse of a
// layout: years 1 to 9999 and zone offsets under 100 hours here, the
// others by lib/pq. Two timestamps of
// every timeline row made that a third of the rebuild's COPY encoding
// (issue 13; TestAppendTimestampAsLibPQ).
func appendTimestamp(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	_, offset := t.Zone()
	if year < 1 || year > 9999 || offset <= -100*3600 || offset >= 100*3600 {
		return append(b, pq.FormatTimestamp(t)...)
	}
	hour, minute, sec := t.Clock()
	b = appendPadded(b, year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(month), 2)
	b = append(b, '-')
	b = appendPadded(b, day, 2)
	b = append(b, ' ')
	b = appendPadded(b, hour, 2)
	b = append(b, ':')
	b = appendPadded(b, minute, 2)
	b = append(b, ':')
	b = appendPadded(b, sec, 2)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [9]byte
		for i := len(frac) - 1; i >= 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, frac[:n]...)
	}
	if offset == 0 {
		return append(b, 'Z')
	}
	// As time's "Z07:00": the sign of the whole minutes, then lib/pq's
	// seconds of an offset that has them.
	zone := offset / 60
	if zone < 0 {
		b = append(b, '-')
		zone = -zone
	} else {
		b = append(b, '+')
	}
	b = appendPadded(b, zone/60, 2)
	b = append(b, ':')
	b = appendPadded(b, zone%60, 2)
	if s := offset % 60; s != 0 {
		b = append(b, ':')
		b = appendPadded(b, max(s, -s), 2)
	}
	return b
}

// appendPadded appends v (0 <= v < 10^width) in width digits.
func appendPadded(b []byte, v, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// appendCopyText appends s escaped for COPY's text format.
func appendCopyText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc byte
		switch s[i] {
		case '\\':
			esc = '\\'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\t':
			esc = 't'
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '\\', esc)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendCopyBytea appends p as bytea's hex form, escaped for COPY.
func appendCopyBytea(b []byte, p []byte) []byte {
	b = append(b, `\\x`...)
	return hex.AppendEncode(b, p)
}
