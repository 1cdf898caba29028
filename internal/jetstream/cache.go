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
	c.entries[subject] = events.Loaded{Events: slices.Clip(l.Events), Version: l.Version, LastSeq: l.LastSeq}
}
