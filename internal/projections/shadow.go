package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/sync/errgroup"
)

// ShadowSchema is the schema a rebuild builds the read models in, beside
// the live ones the API keeps serving until the switch.
const ShadowSchema = "rebuild"

// retiredSchema briefly holds the replaced read models inside the switch's
// transaction, which drops it.
const retiredSchema = "rebuild_retired"

// shadowTables are the tables of the shadow schema: the read models and
// the shadow build's own checkpoint.
func shadowTables() []string { return append(ResetTables(), "projection_checkpoints") }

// useSchema puts the projector's shadow schema first on the transaction's
// search path (a no-op for the live projector). Every read-model table
// exists in the shadow schema, so none of the per-event SQL reaches a live
// table; the others (branches, ...) are still found in public.
func (p *Projector) useSchema(ctx context.Context, tx *sqlx.Tx) error {
	if p.schema == "" {
		return nil
	}
	// A shadow batch need not wait for its WAL to reach the disk: the
	// rows and the shadow checkpoint commit in one transaction, so a
	// crash of PostgreSQL that loses it loses both, and the rebuild goes
	// on from the checkpoint before it; nothing outside the shadow tables
	// learns of it before the switch, which commits synchronously and so
	// makes every earlier commit durable with it.
	_, err := tx.ExecContext(ctx, `SELECT set_config('search_path', $1, true), set_config('synchronous_commit', 'off', true)`,
		pq.QuoteIdentifier(p.schema)+", public")
	return err
}

// fingerprint describes the structure of the read-model tables of schema:
// columns, constraints and indexes, names included and the schema left out,
// so that the shadow and the live tables compare equal when built alike.
func fingerprint(ctx context.Context, db *sqlx.DB, schema string) (string, error) {
	tx, err := db.BeginTxx(ctx, &sqlTxReadOnly)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	// Constraint definitions name tables unqualified when on the path.
	if _, err := tx.ExecContext(ctx, `SELECT set_config('search_path', $1, true)`, pq.QuoteIdentifier(schema)); err != nil {
		return "", err
	}
	var fp string
	err = tx.GetContext(ctx, &fp, `
		SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '') FROM (
			SELECT format('column %s.%s %s %s %s %s', c.table_name, c.column_name, c.ordinal_position,
			              c.udt_name, c.is_nullable, coalesce(c.column_default, '')) AS x
			FROM information_schema.columns c WHERE c.table_schema = $1 AND c.table_name = ANY($2)
			UNION ALL
			SELECT format('constraint %s %s %s', cl.relname, co.conname, pg_get_constraintdef(co.oid))
			FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
			WHERE n.nspname = $1 AND cl.relname = ANY($2) AND co.contype <> 'n'
			UNION ALL
			SELECT format('index %s %s %s', i.tablename, i.indexname, replace(i.indexdef, ' ON ' || quote_ident($1) || '.', ' ON '))
			FROM pg_indexes i WHERE i.schemaname = $1 AND i.tablename = ANY($2)
		) f`, schema, pq.Array(shadowTables()))
	return fp, err
}

// prepareShadow makes the shadow schema ready: an existing one of the same
// structure as the live tables is kept (an interrupted rebuild resumes from
// its own checkpoint); otherwise it is created afresh and empty.
func prepareShadow(ctx context.Context, db *sqlx.DB) (resumed bool, err error) {
	live, err := fingerprint(ctx, db, "public")
	if err != nil {
		return false, err
	}
	var exists bool
	if err := db.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, ShadowSchema); err != nil {
		return false, err
	}
	if exists {
		shadow, err := fingerprint(ctx, db, ShadowSchema)
		if err != nil {
			return false, err
		}
		if withoutDeferred(shadow) == withoutDeferred(live) {
			return true, nil
		}
	}
	if err := createShadow(ctx, db, false); err != nil {
		return false, err
	}
	shadow, err := fingerprint(ctx, db, ShadowSchema)
	if err != nil {
		return false, err
	}
	if withoutDeferred(shadow) != withoutDeferred(live) {
		return false, fmt.Errorf("projections: the shadow tables differ from the live ones:\n%s", diffLines(live, shadow))
	}
	return false, nil
}

// The shadow tables are built without their foreign keys and without the
// indexes only the API's reads use (deferredIndexes): finishShadow adds
// them when the build has caught up, before the switch, each in one pass
// instead of one check or one index entry per row. The keys, the unique
// indexes and the indexes the projection's own SQL looks rows up by are
// there from the start.
var deferredIndexes = map[string]bool{
	"case_timeline_case_idx": true, "letters_school_idx": true, "cases_branch_idx": true, "cases_docket_idx": true,
	"cases_returned_idx": true, "cases_school_idx": true, "cases_visit_queue_idx": true, "duties_kind": true,
	"duty_enrolments_school": true, "award_facts_branch_idx": true, "meetings_branch_idx": true,
	"roster_seats_range_idx": true, "roster_waiting_order_idx": true,
}

// withoutDeferred leaves out of a fingerprint the foreign keys and the
// deferred indexes: a shadow being built compares equal to the live
// tables on the rest.
func withoutDeferred(fp string) string {
	var out []string
	for _, l := range strings.Split(fp, "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[0] == "constraint" && f[3] == "FOREIGN" {
			continue
		}
		if len(f) >= 3 && f[0] == "index" && deferredIndexes[f[2]] {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// shadowDef is a constraint or an index of a live read-model table.
type shadowDef struct {
	Table string `db:"relname"`
	Name  string `db:"conname"`
	Def   string `db:"def"`
	// Deferred: added by finishShadow (a foreign key, a deferred index).
	Deferred bool `db:"deferred"`
	Index    bool `db:"is_index"`
}

// liveDefs reads the constraints (keys first, foreign keys last) and the
// indexes that back no constraint of the live read-model tables, each as
// the statement that creates it in the shadow schema. tx has public alone
// on its search path, so the definitions name tables unqualified.
func liveDefs(ctx context.Context, tx *sqlx.Tx) ([]shadowDef, error) {
	tables := shadowTables()
	var defs []shadowDef
	if err := tx.SelectContext(ctx, &defs, `
		SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid) AS def, co.contype = 'f' AS deferred, false AS is_index
		FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
		WHERE n.nspname = 'public' AND cl.relname = ANY($1) AND co.contype IN ('p', 'u', 'x', 'f')
		ORDER BY co.contype = 'f', cl.relname, co.conname`, pq.Array(tables)); err != nil {
		return nil, err
	}
	var indexes []shadowDef
	if err := tx.SelectContext(ctx, &indexes, `
		SELECT i.tablename AS relname, i.indexname AS conname, i.indexdef AS def, false AS deferred, true AS is_index FROM pg_indexes i
		WHERE i.schemaname = 'public' AND i.tablename = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
		ORDER BY i.tablename, i.indexname`, pq.Array(tables)); err != nil {
		return nil, err
	}
	shadow := pq.QuoteIdentifier(ShadowSchema)
	for i := range defs {
		d := &defs[i]
		d.Def = `ALTER TABLE ` + shadow + `.` + pq.QuoteIdentifier(d.Table) + ` ADD CONSTRAINT ` + pq.QuoteIdentifier(d.Name) + ` ` + d.Def
	}
	for _, ix := range indexes {
		i := strings.Index(ix.Def, " ON public.")
		if i < 0 {
			return nil, fmt.Errorf("projections: unexpected index definition %q", ix.Def)
		}
		ix.Def = ix.Def[:i] + " ON " + shadow + "." + ix.Def[i+len(" ON public."):]
		ix.Deferred = deferredIndexes[ix.Name]
		defs = append(defs, ix)
	}
	return defs, nil
}

// finishShadow adds to the shadow tables the foreign keys and indexes the
// build left out, in one transaction; it is a no-op once they are there.
// A foreign key the build's rows break is an error (errShadowForeignKey).
func finishShadow(ctx context.Context, db *sqlx.DB) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL search_path TO public`); err != nil {
		return err
	}
	defs, err := liveDefs(ctx, tx)
	if err != nil {
		return err
	}
	var have []string
	if err := tx.SelectContext(ctx, &have, `
		SELECT co.conname FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = $1
		UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = $1`, ShadowSchema); err != nil {
		return err
	}
	present := map[string]bool{}
	for _, h := range have {
		present[h] = true
	}
	// The keys reference the shadow tables; more memory for the index
	// builds and the keys' checks.
	if _, err := tx.ExecContext(ctx, `SET LOCAL search_path TO `+pq.QuoteIdentifier(ShadowSchema)+`, public`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return err
	}
	for _, d := range defs {
		if !d.Deferred || present[d.Name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, d.Def); err != nil {
			var pqErr *pq.Error
			if errors.As(err, &pqErr) && pqErr.Code == "23503" {
				return fmt.Errorf("%w: %s", errShadowForeignKey, d.Name)
			}
			return fmt.Errorf("projections: finishing the shadow tables (%s): %w", d.Def, err)
		}
	}
	return tx.Commit()
}

// vacuumShadow runs VACUUM (ANALYZE) on the shadow tables: their rows were
// all just written, so before it the first reader of each page would set
// its hint bits, the planner would have no statistics, and autovacuum
// would soon scan every table (all of it under the API's reads).
//
// The tables are vacuumed on vacuumWorkers connections at once, each
// taking the largest table left: one VACUUM works on one table at a time
// on one core, and nothing else runs during this step of the rebuild.
// Vacuums of distinct tables do not wait for each other.
func vacuumShadow(ctx context.Context, db *sqlx.DB) error {
	var tables []string
	if err := db.SelectContext(ctx, &tables, `
		SELECT quote_ident($1) || '.' || quote_ident(t) FROM unnest($2::text[]) t
		ORDER BY pg_total_relation_size(quote_ident($1) || '.' || quote_ident(t)) DESC, t`,
		ShadowSchema, pq.Array(shadowTables())); err != nil {
		return fmt.Errorf("projections: sizing the rebuilt tables: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(vacuumWorkers)
	for _, t := range tables {
		g.Go(func() error {
			if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) `+t); err != nil {
				return fmt.Errorf("projections: vacuuming the rebuilt table %s: %w", t, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// vacuumWorkers is how many tables the rebuild vacuums at once.
const vacuumWorkers = 2

// checkpointShadow asks PostgreSQL for a checkpoint once the rebuilt
// tables are vacuumed, while the API still serves the live ones. The
// rebuild leaves gigabytes of dirty pages and WAL at 100,000 cases; the
// checkpoint that writes them out otherwise spreads over the minutes
// after the switch and ends with an fsync of every file it wrote, which
// held the fsyncs of reads' access records (the same disk) for up to
// 100 ms at a time (issue 13). A role that may not ask for one
// (superuser or pg_checkpoint) leaves it to PostgreSQL's own schedule:
// done is false.
func checkpointShadow(ctx context.Context, db *sqlx.DB) (done bool, err error) {
	_, err = db.ExecContext(ctx, `CHECKPOINT`)
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("projections: checkpoint after the rebuild: %w", err)
	}
	return true, nil
}

// errShadowForeignKey: rows of the shadow build break a foreign key the
// live projection would have refused them by (it quarantines such an
// event); the rebuild starts again with the keys in place from the start.
var errShadowForeignKey = errors.New("projections: the rebuilt rows break a foreign key")

// createShadow creates the shadow schema with an empty copy of each
// read-model table: columns, defaults and checks, then the keys and the
// indexes, all under their live names; the foreign keys and the deferred
// indexes too when strict, else finishShadow adds them.
func createShadow(ctx context.Context, db *sqlx.DB, strict bool) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Read the definitions with public alone on the path, so that they
	// name the referenced tables unqualified.
	if _, err := tx.ExecContext(ctx, `SET LOCAL search_path TO public`); err != nil {
		return err
	}
	tables := shadowTables()
	defs, err := liveDefs(ctx, tx)
	if err != nil {
		return err
	}
	shadow := pq.QuoteIdentifier(ShadowSchema)
	stmts := []string{
		`DROP SCHEMA IF EXISTS ` + shadow + ` CASCADE`,
		`CREATE SCHEMA ` + shadow,
		`SET LOCAL search_path TO ` + shadow + `, public`,
	}
	for _, t := range tables {
		q := pq.QuoteIdentifier(t)
		stmts = append(stmts, `CREATE TABLE `+shadow+`.`+q+` (LIKE public.`+q+
			` INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMPRESSION)`)
	}
	for _, d := range defs {
		if strict || !d.Deferred {
			stmts = append(stmts, d.Def)
		}
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("projections: creating the shadow tables (%s): %w", s, err)
		}
	}
	return tx.Commit()
}

// shadowCheckpoint returns the position the shadow build has applied.
func shadowCheckpoint(ctx context.Context, db *sqlx.DB) (uint64, error) {
	var pos int64
	err := db.GetContext(ctx, &pos, `SELECT coalesce((SELECT position FROM `+pq.QuoteIdentifier(ShadowSchema)+
		`.projection_checkpoints WHERE name = $1), 0)`, Name)
	return uint64(pos), err
}

// switchShadow puts the shadow read models in the place of the live ones
// and the shadow checkpoint in the place of theirs, in one transaction,
// when the shadow build has reached the live checkpoint (a reader waiting
// for a position never sees it go back). Otherwise it changes nothing and
// returns the live checkpoint to catch up to.
func switchShadow(ctx context.Context, db *sqlx.DB) (pos uint64, switched bool, err error) {
	want, err := fingerprint(ctx, db, "public")
	if err != nil {
		return 0, false, err
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	// The live projector takes this lock first in each batch: it waits
	// for the switch, then finds the new checkpoint.
	live, err := lockCheckpoint(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	shadow := pq.QuoteIdentifier(ShadowSchema)
	var pos64 int64
	if err := tx.GetContext(ctx, &pos64, `SELECT coalesce((SELECT position FROM `+shadow+`.projection_checkpoints WHERE name = $1 FOR UPDATE), 0)`, Name); err != nil {
		return 0, false, err
	}
	pos = uint64(pos64)
	if pos < live {
		return live, false, nil
	}
	// A migration since the build began would be lost by the switch.
	got, err := fingerprint(ctx, db, ShadowSchema)
	if err != nil {
		return 0, false, err
	}
	if got != want {
		return 0, false, fmt.Errorf("projections: the read models' tables changed during the rebuild; run it again:\n%s", diffLines(want, got))
	}
	retired := pq.QuoteIdentifier(retiredSchema)
	stmts := []string{`DROP SCHEMA IF EXISTS ` + retired + ` CASCADE`, `CREATE SCHEMA ` + retired}
	for _, t := range ResetTables() {
		q := pq.QuoteIdentifier(t)
		stmts = append(stmts,
			`ALTER TABLE public.`+q+` SET SCHEMA `+retired,
			`ALTER TABLE `+shadow+`.`+q+` SET SCHEMA public`)
	}
	stmts = append(stmts, `DROP SCHEMA `+retired+` CASCADE`, `DROP SCHEMA `+shadow+` CASCADE`)
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return 0, false, fmt.Errorf("projections: switching to the rebuilt read models (%s): %w", s, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE public.projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1`, Name, pos); err != nil {
		return 0, false, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, SwitchedNotice(pos)); err != nil {
		return 0, false, err
	}
	return pos, true, tx.Commit()
}

// diffLines lists the lines of a and b that the other lacks.
func diffLines(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
