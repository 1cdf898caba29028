package backup

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

var sqlTxReadOnly = sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

// dumpTable writes every row of table as one JSON object a line (to_jsonb:
// bytea as "\x…" hex, times in ISO 8601), in a stable order.
func dumpTable(ctx context.Context, tx *sqlx.Tx, table string, w io.Writer) (int, error) {
	q := fmt.Sprintf(`SELECT to_jsonb(t)::text FROM %s t ORDER BY 1`, pq.QuoteIdentifier(table))
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return n, err
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// loadTable inserts the rows of a dump into table (column by name: a
// column added since the backup takes NULL, one removed is ignored).
func loadTable(ctx context.Context, tx *sqlx.Tx, table, path string, want int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	q := fmt.Sprintf(`INSERT INTO %[1]s SELECT * FROM jsonb_populate_record(NULL::%[1]s, $1::jsonb)`, pq.QuoteIdentifier(table))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			return fmt.Errorf("restore: table %s: line %d is not JSON", table, n+1)
		}
		if _, err := tx.ExecContext(ctx, q, sc.Text()); err != nil {
			return fmt.Errorf("restore: table %s: row %d: %w", table, n+1, err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("restore: table %s: %d rows, the manifest says %d", table, n, want)
	}
	return nil
}

// nonEmptyTables lists the tables of the current schema holding rows
// (goose's version table aside): a restore goes into a fresh database only.
func nonEmptyTables(ctx context.Context, db *sqlx.DB) ([]string, error) {
	var tables []string
	if err := db.SelectContext(ctx, &tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'
		ORDER BY table_name`); err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tables {
		var any bool
		if err := db.GetContext(ctx, &any, fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM %s)`, pq.QuoteIdentifier(t))); err != nil {
			return nil, err
		}
		if any {
			out = append(out, t)
		}
	}
	return out, nil
}
