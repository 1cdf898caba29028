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
// arguments afresh every time. The statements are few (one per shape of
// filter); at most maxPrepared are kept. A Reader over a transaction (an
// as-of read) does not use them: its temporary tables must be the ones
// read.
const maxPrepared = 64

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
	p.mu.Unlock()
	if ok {
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
		for k, old := range p.stmts { // drop any one: the shapes are few
			old.Close()
			delete(p.stmts, k)
			break
		}
	}
	p.stmts[q] = st
	return st, nil
}

func (r *Reader) forget(q string) {
	p := &r.stmts
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[q]; ok {
		st.Close()
		delete(p.stmts, q)
	}
}
