package main

import (
	"cmp"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/benchgen"
	"cihui/internal/projections"
)

// rebuildRounds is how many times the rebuild and the raw COPY are each
// measured.
var rebuildRounds = flag.Int("rebuild-rounds", 3, "scale figures: measure the rebuild and the raw COPY alternately this many times and report the medians")

// benchRebuild generates cases straight into the stream, then measures
// the rebuild (shadow build and switch) against, in the same run, the raw
// JetStream ordered replay of the same stream and a raw COPY of the rows
// the rebuild wrote, into tables of the same keys and indexes.
func benchRebuild(ctx context.Context, e *env, cases int, profile string) (benchgen.Stats, error) {
	j, err := js.New(e.nc, js.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return benchgen.Stats{}, err
	}
	t0 := time.Now()
	st, err := benchgen.Generate(ctx, j, e.codec, benchgen.Options{Cases: cases, Seed: 1, Sealer: e.sealer})
	if err != nil {
		return st, err
	}
	gen := time.Since(t0)
	emit(Result{Figure: "generate_histories", Unit: "events/s", Value: perSec(st.Events, gen), N: st.Events,
		Note: fmt.Sprintf("%d made-up cases (~%d events each) published straight into the stream in atomic batches of 500, acknowledged", st.Cases, st.Events/max(st.Cases, 1))})

	last, err := e.store.LastPosition(ctx)
	if err != nil {
		return st, err
	}
	raw, err := orderedReplay(ctx, e.store.JetStream(), e.store.StreamName(), last)
	if err != nil {
		return st, err
	}
	// The rebuild and the raw COPY alternate, rebuildRounds times: on a
	// shared machine either side's rate moves by a third from one run to
	// the next, so the figures are the medians, and the note lists every
	// round.
	type round struct {
		res      projections.RebuildResult
		rate     float64
		copyRate float64
		rows     int
		// the CPU times around the rebuild (cpuuse.go)
		before, after cpuSample
		// the host's share of the cores during the rebuild and the COPY
		steal, copySteal float64
	}
	rounds := make([]round, 0, *rebuildRounds)
	for i := range max(*rebuildRounds, 1) {
		if err := settle(ctx, e); err != nil {
			return st, err
		}
		parties := cpuParties{pgData: e.pgData}
		before, err := parties.sample()
		if err != nil {
			return st, err
		}
		res, err := profiledRebuild(ctx, e, profile, i == 0)
		if err != nil {
			return st, err
		}
		after, err := parties.sample()
		if err != nil {
			return st, err
		}
		if i > 0 && res.Events != rounds[0].res.Events {
			return st, fmt.Errorf("rebuild round %d applied %d events, round 1 %d", i+1, res.Events, rounds[0].res.Events)
		}
		if err := settle(ctx, e); err != nil {
			return st, err
		}
		copyBefore, err := parties.sample()
		if err != nil {
			return st, err
		}
		rows, copyTime, err := rawCopy(ctx, e)
		if err != nil {
			return st, err
		}
		copyAfter, err := parties.sample()
		if err != nil {
			return st, err
		}
		rounds = append(rounds, round{res: res, rate: perSec(int(res.Events), res.Duration), copyRate: perSec(int(res.Events), copyTime),
			rows: rows, before: before, after: after,
			steal: stealShare(before, after, res.Duration.Seconds()), copySteal: stealShare(copyBefore, copyAfter, copyTime.Seconds())})
	}
	byRate := slices.Clone(rounds)
	slices.SortFunc(byRate, func(a, b round) int { return cmp.Compare(a.rate, b.rate) })
	mid := byRate[len(byRate)/2] // the median rebuild, whose details the notes give
	copyRates := make([]float64, len(rounds))
	var each []string
	for i, r := range rounds {
		copyRates[i] = r.copyRate
		each = append(each, fmt.Sprintf("%.0f/%.0f (steal %.0f/%.0f %%)", r.rate, r.copyRate, r.steal, r.copySteal))
	}
	slices.Sort(copyRates)
	copyRate := copyRates[len(copyRates)/2]
	res := mid.res
	figure := "rebuild"
	if scale.slow {
		figure = "rebuild_live_path" // -rebuild-slow: every event by its SQL, the before of issue 13
	}
	emit(Result{Figure: figure + "_vs_ordered_replay", Unit: "events/s", Value: mid.rate, Baseline: perSec(int(last), raw), N: int(res.Events),
		Note: fmt.Sprintf("projector rebuild (shadow schema, %d batches folded, %d by the live path, %d events by their SQL%s, switch included), the median of %d rounds, in %.1f s (keys, deferred indexes, VACUUM (ANALYZE), CHECKPOINT and switch %.1f s, of which VACUUM %.1f s and CHECKPOINT %.1f s) vs raw JetStream ordered replay of the stream (no decoding)",
			res.Folded, res.FellBack, res.BySQL, topTypes(res.BySQLTypes, 8), len(rounds), res.Duration.Seconds(), res.Finish.Seconds(), res.Vacuum.Seconds(), res.Checkpoint.Seconds())})
	emit(Result{Figure: figure + "_vs_raw_copy", Unit: "events/s", Value: mid.rate, Baseline: copyRate, N: int(res.Events),
		Note: fmt.Sprintf("the rebuild vs a raw COPY of the %d rows it wrote (every read-model table, same keys and indexes, 50,000 rows a transaction; %.1f s at the median rate), as events/s; each the median of %d rounds taken alternately (rebuild/COPY events/s, with the share of the cores the host took during each: %s)",
			mid.rows, float64(res.Events)/copyRate, len(rounds), strings.Join(each, ", "))})
	rebuildCPU(figure, mid.before, mid.after, int(res.Events), res.Duration.Seconds())
	return st, nil
}

// settle writes out what the last step left dirty, untimed, before the
// next is timed: PostgreSQL's pages and WAL (CHECKPOINT) and the kernel's
// page cache (sync: the generation's gigabytes of JetStream blocks, the
// rows of the last COPY). Otherwise each side of the comparison pays for
// the writeback of the one before it.
func settle(ctx context.Context, e *env) error {
	if _, err := e.db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return err
	}
	syscall.Sync()
	return nil
}

// profiledRebuild rebuilds the read models, writing a CPU profile of it
// to profile when one is named and on is true, and the allocations of
// this process before and after it to profile.allocs.base and
// profile.allocs (go tool pprof -diff_base them).
func profiledRebuild(ctx context.Context, e *env, profile string, on bool) (projections.RebuildResult, error) {
	if profile != "" && on {
		writeAllocs(profile + ".allocs.base")
		defer writeAllocs(profile + ".allocs")
		f, err := os.Create(profile)
		if err != nil {
			return projections.RebuildResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return projections.RebuildResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	return projections.Rebuild(ctx, projections.RebuildOptions{DB: e.db, JetStream: e.store.JetStream(), Stream: e.store.StreamName(),
		Codec: e.codec, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Slow: scale.slow})
}

// topTypes lists the n event types of counts with the most events, as
// " (type count, ...)".
func topTypes(counts map[string]int, n int) string {
	types := slices.Collect(maps.Keys(counts))
	slices.SortFunc(types, func(a, b string) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a, b)) })
	if len(types) == 0 {
		return ""
	}
	var parts []string
	for _, t := range types[:min(n, len(types))] {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// orderedReplay reads the stream from the first message to last with an
// ordered consumer, without decoding.
func orderedReplay(ctx context.Context, j js.JetStream, stream string, last uint64) (time.Duration, error) {
	t0 := time.Now()
	cons, err := j.OrderedConsumer(ctx, stream, js.OrderedConsumerConfig{DeliverPolicy: js.DeliverAllPolicy})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(js.PullMaxMessages(8192))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	for {
		m, err := it.Next()
		if err != nil {
			return 0, err
		}
		meta, err := m.Metadata()
		if err != nil {
			return 0, err
		}
		if meta.Sequence.Stream >= last {
			return time.Since(t0), nil
		}
	}
}

// rawCopy copies every row of the read models into empty tables of the
// same structure (schema bench_copy) by COPY, 50,000 rows a transaction,
// and returns the rows and the time of the COPYs alone (reading the rows
// is not counted).
func rawCopy(ctx context.Context, e *env) (int, time.Duration, error) {
	if _, err := e.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS bench_copy CASCADE; CREATE SCHEMA bench_copy`); err != nil {
		return 0, 0, err
	}
	defer e.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS bench_copy CASCADE`)
	var total int
	var spent time.Duration
	for _, t := range projections.ResetTables() {
		q := pq.QuoteIdentifier(t)
		if _, err := e.db.ExecContext(ctx, `CREATE TABLE bench_copy.`+q+` (LIKE public.`+q+` INCLUDING ALL)`); err != nil {
			return 0, 0, err
		}
		var cols []string
		if err := e.db.SelectContext(ctx, &cols, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`, t); err != nil {
			return 0, 0, err
		}
		casts := make([]string, len(cols))
		for i, c := range cols {
			casts[i] = pq.QuoteIdentifier(c) + "::text"
		}
		tx, err := e.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return 0, 0, err
		}
		if _, err := tx.ExecContext(ctx, `DECLARE rows NO SCROLL CURSOR FOR SELECT `+strings.Join(casts, ", ")+` FROM public.`+q); err != nil {
			tx.Rollback()
			return 0, 0, err
		}
		for {
			chunk, err := fetchText(ctx, tx, len(cols))
			if err != nil {
				tx.Rollback()
				return 0, 0, err
			}
			if len(chunk) == 0 {
				break
			}
			t0 := time.Now()
			if err := copyChunk(ctx, e, t, cols, chunk); err != nil {
				tx.Rollback()
				return 0, 0, err
			}
			spent += time.Since(t0)
			total += len(chunk)
		}
		tx.Rollback()
	}
	return total, spent, nil
}

func fetchText(ctx context.Context, tx *sql.Tx, n int) ([][]any, error) {
	rs, err := tx.QueryContext(ctx, `FETCH 50000 FROM rows`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out [][]any
	for rs.Next() {
		vals := make([]sql.NullString, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, n)
		for i, v := range vals {
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

func copyChunk(ctx context.Context, e *env, table string, cols []string, rows [][]any) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := tx.PrepareContext(ctx, `COPY bench_copy.`+pq.QuoteIdentifier(table)+` (`+strings.Join(quoted, ", ")+`) FROM STDIN`)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	return tx.Commit()
}
