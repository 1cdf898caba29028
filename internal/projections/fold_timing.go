package projections

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/jmoiron/sqlx"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// TEMPORARY instrumentation (not to commit).
var foldTimes = struct {
	sync.Mutex
	m map[string]time.Duration
}{m: map[string]time.Duration{}}

func timeIt(label string) func() {
	t0 := time.Now()
	return func() {
		foldTimes.Lock()
		foldTimes.m[label] += time.Since(t0)
		foldTimes.Unlock()
	}
}

func DumpFoldTimes() {
	type kv struct {
		k string
		v time.Duration
	}
	var s []kv
	for k, v := range foldTimes.m {
		s = append(s, kv{k, v})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].v > s[j].v })
	for _, x := range s {
		fmt.Fprintf(os.Stderr, "%-40s %v\n", x.k, x.v)
	}
}

func foldLabel(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) > 50 {
		q = q[:50]
	}
	return q
}

func timedExec(ctx context.Context, tx *sqlx.Tx, q string, args ...any) (sql.Result, error) {
	defer timeIt(foldLabel(q))()
	return tx.ExecContext(ctx, q, args...)
}

func timedSelect(ctx context.Context, tx *sqlx.Tx, dst any, q string, args ...any) error {
	defer timeIt(foldLabel(q))()
	return tx.SelectContext(ctx, dst, q, args...)
}
