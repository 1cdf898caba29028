package jetstream

import (
	"slices"
	"sync"

	"cihui/internal/events"
)

// aggregateCache keeps recently loaded aggregates. Entries are only ever
// replaced by longer versions of the same stream; readers get copies.
type aggregateCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]events.Loaded
}

func newAggregateCache(max int) *aggregateCache {
	if max == 0 {
		max = 10000
	}
	return &aggregateCache{max: max, entries: make(map[string]events.Loaded)}
}

func (c *aggregateCache) get(subject string) (events.Loaded, bool) {
	if c.max < 0 {
		return events.Loaded{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.entries[subject]
	if !ok {
		return events.Loaded{}, false
	}
	// A copy: the caller appends to its slice.
	l.Events = slices.Clip(l.Events)
	return l, true
}

func (c *aggregateCache) put(subject string, l events.Loaded) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[subject]; ok && old.LastSeq >= l.LastSeq {
		return
	}
	if _, ok := c.entries[subject]; !ok {
		c.evict()
	}
	// Clipped: the caller keeps l and may append to it. extend's first
	// append then copies into an array the cache alone owns.
	c.entries[subject] = events.Loaded{Events: slices.Clip(l.Events), Version: l.Version, LastSeq: l.LastSeq}
}

// extend appends envs, the events right after the cached ones, to the
// cached aggregate in place (amortised, no copy of the history: readers
// hold clipped slices that an append past their length cannot touch) and
// returns a clipped copy for the caller; ok is false if the entry does not
// end at lastSeq. At lastSeq 0 (the stream was empty) a missing entry is
// started. Only the cache appends to its own arrays.
func (c *aggregateCache) extend(subject string, lastSeq uint64, envs ...events.Envelope) (events.Loaded, bool) {
	if c.max < 0 || len(envs) == 0 {
		return events.Loaded{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.entries[subject]
	switch {
	case !ok && lastSeq == 0:
		c.evict()
	case !ok || l.LastSeq != lastSeq:
		return events.Loaded{}, false
	}
	l.Events = append(l.Events, envs...)
	l.LastSeq, l.Version = envs[len(envs)-1].Position, uint64(len(l.Events))
	c.entries[subject] = l
	l.Events = slices.Clip(l.Events)
	return l, true
}

// evict makes room for one more entry. Called with mu held.
func (c *aggregateCache) evict() {
	if len(c.entries) < c.max {
		return
	}
	// An arbitrary entry: simple, bounded, good enough for a working set
	// of open cases.
	for k := range c.entries {
		delete(c.entries, k)
		return
	}
}
