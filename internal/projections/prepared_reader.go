package projections

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/lib/pq"
)

// The hot reads (case detail, case list, visit queue) run as prepared
// statements (issue 13): planning the detail's and the list's queries,
// with their aggregates, took longer than running them (EXPLAIN: 7 ms to
// plan, 2 ms to run a 50-case page), and lib/pq plans a query with
// arguments afresh every time. The statements are few: one per shape of
// filter, about a hundred at most (scope × the list's optional filters ×
// personal data); beyond maxPrepared a query runs unprepared (a
// statement is never closed under a query that uses it). A Reader over
// a transaction (an as-of read) does not use them: its temporary tables
// must be the ones read.
const maxPrepared = 256

type preparedStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// query runs q with args, prepared when r reads the database itself.
func (r *Reader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if r.base == nil {
		return r.db.QueryContext(ctx, q, args...)
	}
	st, err := r.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil { // maxPrepared reached
		return r.db.QueryContext(ctx, q, args...)
	}
	rows, err := st.QueryContext(ctx, args...)
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "0A000" { // cached plan must not change result type: a migration changed a table
		r.forget(q)
		return r.db.QueryContext(ctx, q, args...)
	}
	return rows, err
}

func (r *Reader) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	p := &r.stmts
	p.mu.Lock()
	st, ok := p.stmts[q]
	full := len(p.stmts) >= maxPrepared
	p.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := r.base.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if have, ok := p.stmts[q]; ok {
		st.Close()
		return have, nil
	}
	if p.stmts == nil {
		p.stmts = map[string]*sql.Stmt{}
	}
	if len(p.stmts) >= maxPrepared {
		st.Close()
		return nil, nil
	}
	p.stmts[q] = st
	return st, nil
}

// forget drops a statement whose plan a migration outdated, so that the
// next query prepares it again. It is not closed: another query may be
// using it; its connections' copies go when the connections do.
func (r *Reader) forget(q string) {
	p := &r.stmts
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.stmts, q)
}
