package projections

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// Issue 13: copyRows encodes COPY's text itself; every value it is given
// must land exactly as database/sql with lib/pq's CopyIn lands it.
func TestCopyRowsAsDatabaseSQL(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := []string{"k", "t", "i", "b", "ok", "ts", "d", "j", "arr", "by", "n", "f"}
	for _, table := range []string{"via_sql", "via_copy"} {
		if _, err := db.ExecContext(ctx, `CREATE TABLE `+table+` (k int PRIMARY KEY, t text, i int, b bigint, ok boolean,
			ts timestamptz, d date, j json, arr text[], by bytea, n numeric(20), f double precision)`); err != nil {
			t.Fatal(err)
		}
	}
	taipei := time.FixedZone("UTC+8", 8*3600)
	word := "王\t小\n明\\N\r"
	var nilWord *string
	rows := [][]any{
		{1, "plain", 7, int64(math.MaxInt64), true, time.Date(2026, 3, 5, 9, 30, 1, 123456789, taipei), "2026-03-05",
			`{"a":"x\ty\\n","b":[1,2]}`, pq.Array([]string{"a", "b,c", `d"e`, `f\g`, "", "NULL"}), []byte{0, 1, '\\', '\t', 0xff}, uint64(math.MaxUint64), 1.5},
		{2, word, int32(-3), int64(math.MinInt64), false, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), nil,
			sealedJSON{}, []string{"王", "\\", "\t"}, []byte{}, uint64(math.MaxInt64), math.Inf(1)},
		{3, `\N`, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{4, "", int64(0), int64(-1), true, time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "0001-01-01",
			"null", pq.StringArray{}, nil, uint64(0), -0.25},
		{5, &word, 1, 2, true, time.Unix(0, 0), "9999-12-31", `"\u0000x"`, pq.Array([]int64{1, -2}), nil, 42, float64(1e-7)},
		{6, nilWord, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	// Enough rows to cross a chunk boundary several times.
	for k := 7; k < 3000; k++ {
		rows = append(rows, []any{k, strings.Repeat("字\\\t", k%40), k, int64(k) << 33, k%2 == 0, time.Unix(int64(k)*7919, int64(k)), nil,
			nil, pq.Array([]string{strings.Repeat("x", k%7)}), nil, uint64(k), float64(k) / 3})
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Prepare(`COPY via_sql (` + strings.Join(cols, ", ") + `) FROM STDIN`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if _, err := st.Exec(r...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Exec(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx2, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback() // before conn.Close, which waits for it
	if err := copyRows(ctx, conn, "via_copy", cols, rows); err != nil {
		t.Fatal(err)
	}
	if err := tx2.Commit(); err != nil {
		t.Fatal(err)
	}

	read := func(table string) []string {
		var out []string
		if err := db.SelectContext(ctx, &out, `SELECT row_to_json(x)::text FROM `+table+` x ORDER BY k`); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want, got := read("via_sql"), read("via_copy")
	if len(want) != len(rows) {
		t.Fatalf("database/sql wrote %d rows of %d", len(want), len(rows))
	}
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("row %d:\n got  %s\n want %s", i, got[i], want[i])
			}
		}
		t.Fatalf("copyRows wrote %d rows, database/sql %d", len(got), len(want))
	}
	var nulls int
	if err := db.GetContext(ctx, &nulls, `SELECT count(*) FROM via_copy WHERE t IS NULL`); err != nil || nulls != 1 {
		t.Fatalf("rows with a NULL t: %d (%v); want 1: the text \\N is text", nulls, err)
	}
}

// A COPY that fails (a value the column cannot hold) fails copyRows, and
// a row of the wrong width is refused before anything is sent.
func TestCopyRowsReportsErrors(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE c (k int PRIMARY KEY, d date)`); err != nil {
		t.Fatal(err)
	}
	for _, rows := range [][][]any{
		{{1, "2026-01-01"}, {1, "2026-01-02"}}, // duplicate key
		{{1, "not a date"}},
		{{1}},
		{{1, struct{}{}}},
	} {
		conn, err := db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := copyRows(ctx, conn, "c", []string{"k", "d"}, rows); err == nil {
			t.Errorf("copyRows(%v) succeeded", rows)
		}
		tx.Rollback()
		conn.Close()
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM c`); err != nil || n != 0 {
		t.Fatalf("rows after failed COPYs: %d (%v)", n, err)
	}
}

// Issue 13: appendTimestamp writes what lib/pq's FormatTimestamp writes,
// for every year, fraction and zone offset, the odd ones included.
func TestAppendTimestampAsLibPQ(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("UTC+8", 8*3600), time.FixedZone("-03:30", -(3*3600 + 1800)),
		time.FixedZone("+00:00:30", 30), time.FixedZone("-00:00:30", -30), time.FixedZone("-01:00:05", -3605),
		time.FixedZone("+14:00", 14*3600), time.FixedZone("+00:00:09", 9), time.FixedZone("+99:59:59", 100*3600-1),
		time.FixedZone("+100:00", 100*3600), time.FixedZone("-123:45:06", -(123*3600 + 45*60 + 6))}
	if taipei, err := time.LoadLocation("Asia/Taipei"); err == nil {
		zones = append(zones, taipei)
	}
	var times []time.Time
	for _, y := range []int{-4713, -1, 0, 1, 9, 99, 999, 1000, 1970, 2026, 9999, 10000, 292277026} {
		for _, ns := range []int{0, 1, 10, 100000, 120000000, 123456789, 999999999} {
			for _, z := range zones {
				times = append(times, time.Date(y, 12, 31, 23, 59, 59, ns, z), time.Date(y, 1, 1, 0, 0, 0, ns, z))
			}
		}
	}
	for i := range 20000 { // a spread of instants, each in every zone
		at := time.Unix(int64(i)*2654435761%(400*365*86400)-200*365*86400, int64(i)*7919%1e9)
		for _, z := range zones {
			times = append(times, at.In(z))
		}
	}
	for _, at := range times {
		want := string(pq.FormatTimestamp(at))
		if got := string(appendTimestamp([]byte("x"), at)); got != "x"+want {
			t.Fatalf("appendTimestamp(%v) = %q, want %q", at, got[1:], want)
		}
	}
}

// BenchmarkAppendTimestamp compares appendTimestamp with lib/pq's
// FormatTimestamp, appended as copyRows appended it before.
func BenchmarkAppendTimestamp(b *testing.B) {
	at := time.Date(2026, 12, 8, 1, 2, 3, 456789000, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("appendTimestamp", func(b *testing.B) {
		for b.Loop() {
			buf = appendTimestamp(buf[:0], at)
		}
	})
	b.Run("pq.FormatTimestamp", func(b *testing.B) {
		for b.Loop() {
			buf = append(buf[:0], pq.FormatTimestamp(at)...)
		}
	})
}
