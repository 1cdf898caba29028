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
	if len(c.entries) >= c.max {
		// Evict an arbitrary entry: simple, bounded, good enough for a
		// working set of open cases.
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	// Clipped: the caller keeps l and may append to it. extend's first
	// append then copies into an array the cache alone owns.
	c.entries[subject] = events.Loaded{Events: slices.Clip(l.Events), Version: l.Version, LastSeq: l.LastSeq}
}

// extend appends env, the event right after the cached ones, to the
// cached aggregate in place (amortised, no copy of the history: readers
// hold clipped slices that an append past their length cannot touch) and
// returns a clipped copy for the caller; ok is false if the entry changed
// since. Only the cache appends to its own arrays.
func (c *aggregateCache) extend(subject string, lastSeq uint64, env events.Envelope) (events.Loaded, bool) {
	if c.max < 0 {
		return events.Loaded{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.entries[subject]
	if !ok || l.LastSeq != lastSeq {
		return events.Loaded{}, false
	}
	l.Events = append(l.Events, env)
	l.LastSeq, l.Version = env.Position, uint64(len(l.Events))
	c.entries[subject] = l
	l.Events = slices.Clip(l.Events)
	return l, true
}
