package app

import (
	"sync"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// referralFolds keeps the folded state of recently commanded referrals, so
// that a command applies only the events recorded since the last one
// instead of folding the whole case again (issue 13). An entry is the
// state after the stream's first version events, the last at lastSeq;
// it is extended in place under its own lock and handed out only as a
// deep copy (Referral.Clone), on which a command decides.
//
// The zero value is ready for use.
type referralFolds struct {
	mu      sync.Mutex
	entries map[string]*foldEntry
}

type foldEntry struct {
	mu      sync.Mutex
	state   domain.Referral
	version uint64 // events applied
	lastSeq uint64 // position of the last applied
}

// maxFolds bounds the entries kept, as the store's aggregate cache does.
const maxFolds = 10000

// fold returns the state of a referral folded over loaded's events: a copy
// the caller owns. loaded is a prefix of the stream (a load or a cached
// aggregate): positions identify events, so an entry whose last event is
// loaded's event at the same version is a prefix of loaded, and only the
// rest is applied. An entry ahead of loaded (a concurrent command moved
// it on) is left as it is and loaded is folded afresh.
func (c *referralFolds) fold(key string, loaded events.Loaded) *domain.Referral {
	evs := loaded.Events
	if len(evs) == 0 {
		return &domain.Referral{}
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = make(map[string]*foldEntry)
	}
	e, ok := c.entries[key]
	if !ok {
		if len(c.entries) >= maxFolds {
			for k := range c.entries { // an arbitrary entry, as the store's cache
				delete(c.entries, k)
				break
			}
		}
		e = &foldEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.version > uint64(len(evs)):
		// A copy: a fold shares pointers and slices with the payloads
		// of the (cached) events it applied.
		return freshFold(evs).Clone()
	case e.version > 0 && evs[e.version-1].Position != e.lastSeq:
		// Not a prefix (a store that renumbered, in a test): start again.
		e.version = 0
	}
	from := e.version
	if from == 0 {
		e.state = domain.Referral{}
	}
	// Version 0 while applying: an Apply that panics leaves an entry
	// the next fold starts again.
	e.version = 0
	for _, env := range evs[from:] {
		e.state.Apply(env)
	}
	e.version, e.lastSeq = uint64(len(evs)), evs[len(evs)-1].Position
	return e.state.Clone()
}

// freshFold folds evs into a new state.
func freshFold(evs []events.Envelope) *domain.Referral {
	var r domain.Referral
	for _, env := range evs {
		r.Apply(env)
	}
	return &r
}
