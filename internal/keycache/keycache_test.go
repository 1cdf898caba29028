package keycache

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"cihui/internal/events"
)

// ring is an in-memory events.KeyRing that counts its reads; destroying
// a key through it directly plays another API instance erasing a person.
type ring struct {
	mu        sync.Mutex
	keys      map[string][]byte
	destroyed map[string]bool
	reads     int
}

func newRing() *ring { return &ring{keys: map[string][]byte{}, destroyed: map[string]bool{}} }

func (r *ring) DataKey(_ context.Context, id string, create bool) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.destroyed[id] {
		return nil, events.ErrKeyDestroyed
	}
	k, ok := r.keys[id]
	if !ok {
		if !create {
			return nil, events.ErrKeyDestroyed
		}
		k = make([]byte, 32)
		_, _ = rand.Read(k)
		r.keys[id] = k
	}
	return append([]byte(nil), k...), nil
}

func (r *ring) DestroyKey(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.keys, id)
	r.destroyed[id] = true
	return nil
}

func (r *ring) readCount() int { r.mu.Lock(); defer r.mu.Unlock(); return r.reads }

// The read path unwraps a key once and then serves it from memory.
func TestCachedKeyIsReadOnce(t *testing.T) {
	ctx := context.Background()
	under := newRing()
	c := New(under, 8, time.Minute)
	seal := events.NewSealer(c, []byte("pepper"))
	s, err := seal.Seal(ctx, "p_1", "甲")
	if err != nil {
		t.Fatal(err)
	}
	before := under.readCount()
	for range 5 {
		var got string
		if err := seal.Open(ctx, s, &got); err != nil || got != "甲" {
			t.Fatalf("open: %q %v", got, err)
		}
	}
	if n := under.readCount() - before; n != 0 {
		t.Fatalf("the ring was read %d times for cached opens, want 0", n)
	}
}

// A person erased through this instance can no longer be opened at once,
// although the key was cached.
func TestDestroyedKeyIsForgottenAtOnce(t *testing.T) {
	ctx := context.Background()
	c := New(newRing(), 8, time.Hour)
	seal := events.NewSealer(c, nil)
	s, err := seal.Seal(ctx, "p_1", "甲")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := seal.Open(ctx, s, &got); err != nil {
		t.Fatal(err)
	}
	if err := seal.Erase(ctx, "p_1"); err != nil {
		t.Fatal(err)
	}
	if err := seal.Open(ctx, s, &got); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("open after erasure: %v, want ErrKeyDestroyed", err)
	}
	if c.Len() != 0 {
		t.Fatalf("%d keys still cached", c.Len())
	}
}

// A key destroyed by another instance opens data here for at most the
// TTL.
func TestKeyDestroyedElsewhereExpiresWithinTTL(t *testing.T) {
	ctx := context.Background()
	under := newRing()
	const ttl = 200 * time.Millisecond
	c := New(under, 8, ttl)
	seal := events.NewSealer(c, nil)
	s, err := seal.Seal(ctx, "p_1", "甲")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := seal.Open(ctx, s, &got); err != nil {
		t.Fatal(err)
	}
	if err := under.DestroyKey(ctx, "p_1"); err != nil { // another instance
		t.Fatal(err)
	}
	time.Sleep(ttl + 50*time.Millisecond)
	if err := seal.Open(ctx, s, &got); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("open %v after the TTL: %v, want ErrKeyDestroyed", ttl, err)
	}
}

// The cache holds at most size keys, and an evicted key's bytes are
// overwritten while the copies handed out stay intact.
func TestCacheIsBoundedAndWipesEvictedKeys(t *testing.T) {
	ctx := context.Background()
	c := New(newRing(), 2, time.Hour)
	first, err := c.DataKey(ctx, "p_0", true)
	if err != nil {
		t.Fatal(err)
	}
	held := append([]byte(nil), first...)
	cached, _ := c.cache.Peek("p_0")
	for _, id := range []string{"p_1", "p_2", "p_3"} {
		if _, err := c.DataKey(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 2 {
		t.Fatalf("%d keys cached, want the bound 2", c.Len())
	}
	if string(first) != string(held) {
		t.Fatal("the caller's copy was changed by the eviction")
	}
	for _, b := range cached.key {
		if b != 0 {
			t.Fatal("the evicted key's bytes were not overwritten")
		}
	}
}

// The cipher of a cached key is set up once and opens what the key
// sealed; a destroyed key's cipher is gone at once (issue 13).
func TestAEADIsCachedWithTheKeyAndForgottenWithIt(t *testing.T) {
	ctx := context.Background()
	ring := newRing()
	c := New(ring, 0, time.Hour)
	s := events.NewSealer(c, nil)
	sealed, err := s.Seal(ctx, "p_0", "秘密")
	if err != nil {
		t.Fatal(err)
	}
	a1, err := c.AEAD(ctx, "p_0")
	if err != nil {
		t.Fatal(err)
	}
	a2, err := c.AEAD(ctx, "p_0")
	if err != nil || a1 != a2 {
		t.Fatalf("the cipher was set up again (%v)", err)
	}
	var got string
	if err := s.Open(ctx, sealed, &got); err != nil || got != "秘密" {
		t.Fatalf("opened %q, %v", got, err)
	}
	if err := c.DestroyKey(ctx, "p_0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AEAD(ctx, "p_0"); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("after destruction: %v, want ErrKeyDestroyed", err)
	}
	if err := s.Open(ctx, sealed, &got); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("opened after destruction: %v", err)
	}
}
