// Package keycache keeps unwrapped data keys in memory for the API, so
// that a list of a hundred students does not unwrap a hundred keys per
// read. The cache is bounded (least recently used keys go first) and
// short-lived: every key is forgotten TTL after it was fetched, so that a
// key destroyed by another API instance stops opening anything here
// within the TTL. A key destroyed through this cache is forgotten at once.
package keycache

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"cihui/internal/events"
)

// Defaults: sixteen thousand students' keys (32 bytes each, some 200
// bytes with the cache's own bookkeeping: about 3 MB) and two minutes,
// the longest a key erased by another instance may still open data in
// this one. Under random case reads at 10,000 cases, 4,096 keys missed
// most of the time, each miss a round trip to the key ring (issue 13).
const (
	DefaultSize = 16384
	DefaultTTL  = 2 * time.Minute
)

// Ring is an events.KeyRing that caches the keys of another ring.
// Creating a key always asks the ring itself, so a write never seals with
// a key another instance destroyed.
type Ring struct {
	keys  events.KeyRing
	cache *expirable.LRU[string, *entry]
	// gen moves before and after every destruction: a key fetched while
	// one was under way is not cached.
	mu  sync.Mutex
	gen uint64
}

// New returns a cache of at most size keys over keys, each kept at most
// ttl (zero values take the defaults).
func New(keys events.KeyRing, size int, ttl time.Duration) *Ring {
	if size <= 0 {
		size = DefaultSize
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	// An evicted key's bytes are overwritten: callers only ever get copies.
	wipe := func(_ string, e *entry) { clear(e.key) }
	return &Ring{keys: keys, cache: expirable.NewLRU(size, wipe, ttl)}
}

// entry is a cached key with its AES-GCM cipher, set up once (issue 13:
// setting it up for every value opened was a tenth of a case list's CPU).
type entry struct {
	key  []byte
	aead cipher.AEAD
}

func newEntry(k []byte) (*entry, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &entry{key: slices.Clone(k), aead: aead}, nil
}

// AEAD returns the AES-GCM cipher of an existing data key (events.AEADRing),
// set up once per cached key.
func (r *Ring) AEAD(ctx context.Context, keyID string) (cipher.AEAD, error) {
	if e, ok := r.cache.Get(keyID); ok {
		return e.aead, nil
	}
	e, err := r.fetch(ctx, keyID, false)
	if err != nil {
		return nil, err
	}
	return e.aead, nil
}

// DataKey implements events.KeyRing.
func (r *Ring) DataKey(ctx context.Context, keyID string, create bool) ([]byte, error) {
	if !create {
		if e, ok := r.cache.Get(keyID); ok {
			return slices.Clone(e.key), nil
		}
	}
	e, err := r.fetch(ctx, keyID, create)
	if err != nil {
		return nil, err
	}
	return slices.Clone(e.key), nil
}

// fetch asks the ring for a key and caches it, unless a destruction was
// under way meanwhile.
func (r *Ring) fetch(ctx context.Context, keyID string, create bool) (*entry, error) {
	r.mu.Lock()
	gen := r.gen
	r.mu.Unlock()
	k, err := r.keys.DataKey(ctx, keyID, create)
	if err != nil {
		if errors.Is(err, events.ErrKeyDestroyed) {
			r.Forget(keyID)
		}
		return nil, err
	}
	e, err := newEntry(k)
	clear(k)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.gen == gen {
		r.cache.Add(keyID, e)
	}
	r.mu.Unlock()
	return e, nil
}

// DestroyKey implements events.KeyRing: the key is destroyed in the ring
// and forgotten here.
func (r *Ring) DestroyKey(ctx context.Context, keyID string) error {
	r.Forget(keyID)
	err := r.keys.DestroyKey(ctx, keyID)
	r.Forget(keyID)
	return err
}

// Forget drops a key from the cache, for example when this instance learns
// that another one erased the person. A fetch of any key already under way
// is not cached.
func (r *Ring) Forget(keyID string) {
	r.mu.Lock()
	r.gen++
	r.cache.Remove(keyID)
	r.mu.Unlock()
}

// Len returns how many keys are cached.
func (r *Ring) Len() int { return r.cache.Len() }
