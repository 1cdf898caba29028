package postgres

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"cihui/internal/events"
)

// TokenChannel is notified with a token's id whenever the token is
// revoked, changed or deleted (migration 00018), and with "*" when the
// table is truncated.
const TokenChannel = "cihui_token_changed"

const (
	// tokenCacheMax bounds the verified tokens kept (tokens are few: one
	// per user or school); beyond it the cache starts afresh.
	tokenCacheMax = 10000
	// tokenCacheTTL re-verifies a cached token against the database now
	// and then, a net beneath the notices, not what revocation relies on.
	tokenCacheTTL = 5 * time.Minute
	// tokenPingEvery checks the listening connection, so that a connection
	// lost without a word is noticed and the cache dropped.
	tokenPingEvery = 2 * time.Second
)

// CachedTokens is Tokens with a cache of verified tokens, so that a
// request costs no database round trip to authenticate (issue 13).
// Revocation stays immediate: every revocation notifies TokenChannel in
// its transaction (a trigger, whoever revokes), and each API process
// listens and drops the token as the notice arrives. A revoked token is
// never cached again: a verification that was under way while a notice
// arrived is not kept. While the listening connection is down or
// unchecked, the cache is empty and unused: every request asks the
// database, as without the cache.
type CachedTokens struct {
	*Tokens
	listener *pq.Listener
	now      func() time.Time

	mu      sync.Mutex
	live    bool   // the listener is connected and listening
	gen     uint64 // grows with every notice and connection change
	entries map[[32]byte]cachedToken
}

type cachedToken struct {
	actor    events.Actor
	id       string // the token's id, which notices name (the actor names the person)
	verified time.Time
}

// NewCachedTokens caches the verified tokens of t, listening on dsn for
// revocations until ctx is done.
func NewCachedTokens(ctx context.Context, t *Tokens, dsn string) (*CachedTokens, error) {
	c := &CachedTokens{Tokens: t, now: time.Now, entries: map[[32]byte]cachedToken{}}
	c.listener = pq.NewListener(dsn, 100*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, _ error) {
		switch ev {
		case pq.ListenerEventReconnected:
			// LISTEN was issued again before this event: notices flow.
			c.setLive(true)
		case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
			c.setLive(false)
		}
	})
	if err := c.listener.Listen(TokenChannel); err != nil {
		c.listener.Close()
		return nil, err
	}
	c.setLive(true)
	go c.loop(ctx)
	go c.ping(ctx)
	return c, nil
}

func (c *CachedTokens) loop(ctx context.Context) {
	defer c.listener.Close()
	for {
		select {
		case <-ctx.Done():
			c.setLive(false)
			return
		case n := <-c.listener.Notify:
			if n == nil { // reconnected: notices may have been missed
				c.drop("*")
				continue
			}
			c.drop(n.Extra)
		}
	}
}

// ping checks the listening connection now and then (apart from loop: a
// ping waits behind the notices ahead of it). A failed ping turns the
// cache off until the listener has reconnected and listens again.
func (c *CachedTokens) ping(ctx context.Context) {
	tick := time.NewTicker(tokenPingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if c.listener.Ping() != nil {
				c.setLive(false)
			}
		}
	}
}

// setLive records whether notices can be relied on; any change of the
// connection's state empties the cache.
func (c *CachedTokens) setLive(live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live != live {
		c.gen++
		clear(c.entries)
	}
	c.live = live
}

// drop forgets the token with id ("*": every token).
func (c *CachedTokens) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if id == "*" || e.id == id {
			delete(c.entries, h)
		}
	}
}

// Authenticate returns the actor of a valid, unrevoked token: from the
// cache, or from the database (and then cached if no notice or connection
// change came while it was asked).
func (c *CachedTokens) Authenticate(ctx context.Context, token string) (events.Actor, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return c.Tokens.Authenticate(ctx, token)
	}
	h := sha256.Sum256([]byte(token))
	c.mu.Lock()
	e, ok := c.entries[h]
	live, gen := c.live, c.gen
	c.mu.Unlock()
	if ok && live && c.now().Sub(e.verified) < tokenCacheTTL {
		return e.actor, nil
	}
	verified := c.now()
	actor, id, err := c.Tokens.AuthenticateToken(ctx, token)
	if err != nil || !live {
		return actor, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live && c.gen == gen {
		if len(c.entries) >= tokenCacheMax {
			clear(c.entries)
		}
		c.entries[h] = cachedToken{actor: actor, id: id, verified: verified}
	}
	return actor, nil
}

// Revoke revokes a token by id and forgets it here at once, before its
// notice comes back; other processes drop it when the notice reaches them.
func (c *CachedTokens) Revoke(ctx context.Context, id string) error {
	err := c.Tokens.Revoke(ctx, id)
	c.drop(id)
	return err
}

// Live reports whether the cache is in use: the listener is connected,
// listening and has not failed a ping since.
func (c *CachedTokens) Live() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}
