package projections

import (
	"context"

	"github.com/jmoiron/sqlx"

	"cihui/internal/events"
)

// erase folds a PersonErased (crypto-shredding) without a barrier: the
// live SQL erases the person's rows written before this part of the batch,
// and the rows the fold still holds of the person's cases lose their
// sealed values in memory, as the SQL would have erased them had they been
// written. It reports false, doing nothing, when events of this part of
// the batch wait for their SQL (pending) or the erased case's stream is
// one of them: the erasure is then a barrier, as before.
func (f *fold) erase(ctx context.Context, tx *sqlx.Tx, p *Projector, env events.Envelope, e events.PersonErased, pending bool) (done bool, err error) {
	if pending {
		return false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			done, err = false, errPanic // the live path quarantines it
		}
	}()
	if err := p.eraseWritten(ctx, tx, env); err != nil {
		return false, err
	}
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM cases WHERE person_key = $1`, e.PersonKey); err != nil {
		return false, err
	}
	erased := map[string]bool{}
	for _, id := range ids {
		erased[id] = true
	}
	for id, c := range f.cases {
		if c.isNew && c.opened[11] == e.PersonKey {
			erased[id] = true
		}
	}
	f.eraseHeld(env, erased)
	return true, nil
}

// eraseWritten erases the person's rows written before this part of the
// batch: the live statements, which read only them (nothing of the fold
// is written yet).
func (p *Projector) eraseWritten(ctx context.Context, tx *sqlx.Tx, env events.Envelope) error {
	if err := p.applyReferral(ctx, tx, env); err != nil {
		return err
	}
	return applyRetention(ctx, tx, env)
}

// eraseHeld erases the sealed values of the erased cases in the rows the
// fold holds, and folds the erasure itself.
func (f *fold) eraseHeld(env events.Envelope, erased map[string]bool) {
	// The rows the fold holds.
	on := dateOf(env)
	kept := f.personal[:0]
	for _, r := range f.personal {
		if !erased[r[0].(string)] {
			kept = append(kept, r)
		}
	}
	f.personal = kept
	for _, r := range f.visits {
		if erased[r[1].(string)] {
			r[4] = nil
		}
	}
	for id := range erased {
		c := f.cases[id]
		if c == nil {
			continue
		}
		for _, d := range c.docs {
			d.note = nil
		}
		if c.retention >= 0 {
			if r := f.retention[c.retention]; r[7] == nil {
				r[7] = on
			}
		}
	}
	f.caseOf(env.AggregateID)
	f.folded(env)
}

// personIndex knows, for a rebuild's prefold, the cases of each person
// the rebuild has seen opened: what `SELECT id FROM cases WHERE
// person_key = $1` answers for the rows written before, and the fold's
// new cases of the person, together. A case's person key is set when it
// is opened and never changes, and no case is ever deleted.
type personIndex struct {
	cases  map[string][]string // person key -> case ids
	opened map[string]bool     // case ids
}

func newPersonIndex() *personIndex {
	return &personIndex{cases: map[string][]string{}, opened: map[string]bool{}}
}

// add records that case id of person was opened (the first filing of a
// case id is the one the read models keep).
func (x *personIndex) add(id, person string) {
	if x.opened[id] {
		return
	}
	x.opened[id] = true
	x.cases[person] = append(x.cases[person], id)
}

// erased returns the cases of person, as a set.
func (x *personIndex) erased(person string) map[string]bool {
	m := make(map[string]bool, len(x.cases[person]))
	for _, id := range x.cases[person] {
		m[id] = true
	}
	return m
}
