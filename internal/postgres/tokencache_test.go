package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// apiProcess is what one API process holds: its own connection pool and
// its own cache with its own listening connection.
func apiProcess(t *testing.T, ctx context.Context, dsn string) (*sqlx.DB, *postgres.CachedTokens) {
	t.Helper()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := postgres.NewCachedTokens(ctx, postgres.NewTokens(db), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db, c
}

func migrated(t *testing.T, ctx context.Context) (string, *sqlx.DB) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	return dsn, db
}

// refusedWithin authenticates until the token is refused. It fails the
// test if the token is accepted later than accept after the call (the
// time a notice takes to arrive; 0: never accepted), if no refusal comes
// within limit (other errors, such as a connection being re-established,
// are retried), or if the token is accepted again after a refusal. It
// returns how long the refusal took.
func refusedWithin(t *testing.T, ctx context.Context, c *postgres.CachedTokens, token string, accept, limit time.Duration) time.Duration {
	t.Helper()
	t0 := time.Now()
	for {
		_, err := c.Authenticate(ctx, token)
		if domain.ErrorCode(err) == domain.EUnauthorized {
			break
		}
		if err == nil && time.Since(t0) >= accept {
			t.Fatalf("a revoked token was accepted %v after its revocation", time.Since(t0))
		}
		if time.Since(t0) > limit {
			t.Fatalf("no refusal within %v: %v", limit, err)
		}
	}
	took := time.Since(t0)
	for range 50 {
		if _, err := c.Authenticate(ctx, token); domain.ErrorCode(err) != domain.EUnauthorized {
			t.Fatalf("a revoked token worked again: %v", err)
		}
	}
	return took
}

// Issue 13: the verified-token cache keeps revocation immediate. Two API
// processes share the database, each with its cache warm; the token
// command (a third connection, no cache) revokes. Both refuse the token as
// the revocation's notice arrives (it is sent at commit, to every
// listener: a millisecond, not a cache lifetime), and never accept it
// again; the process that revokes through its own cache refuses at once,
// before any notice.
func TestRevokedTokenRefusedAtOnceAcrossProcesses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn, db := migrated(t, ctx)
	cli := postgres.NewTokens(db)
	_, a := apiProcess(t, ctx, dsn)
	_, b := apiProcess(t, ctx, dsn)

	token, id, err := cli.Create(ctx, postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "034501"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*postgres.CachedTokens{a, b} {
		if actor, err := c.Authenticate(ctx, token); err != nil || actor.UserID != personOf(t, cli, id) || actor.School != "034501" {
			t.Fatalf("a valid token: %+v, %v", actor, err)
		}
	}
	// A cache serves without the database: a request costs no round
	// trip. (Shown on a third cache whose pool is then closed.)
	dbProbe, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := postgres.NewCachedTokens(ctx, postgres.NewTokens(dbProbe), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	dbProbe.Close()
	if _, err := cached.Authenticate(ctx, token); err != nil {
		t.Fatalf("a cached token needed the database: %v", err)
	}

	if err := cli.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*postgres.CachedTokens{"A": a, "B": b} {
		took := refusedWithin(t, ctx, c, token, time.Second, time.Second)
		t.Logf("%s refused the revoked token %v after the revocation committed", name, took)
	}
	// The closed-pool cache dropped it too: it can only ask its database.
	for t0 := time.Now(); ; {
		if _, err := cached.Authenticate(ctx, token); err != nil {
			break
		}
		if time.Since(t0) > time.Second {
			t.Fatal("the closed-pool cache kept a revoked token")
		}
	}

	// Revoking through a process's own cache: refused there at once.
	token2, id2, err := cli.Create(ctx, postgres.TokenInfo{Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*postgres.CachedTokens{a, b} {
		if _, err := c.Authenticate(ctx, token2); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Revoke(ctx, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, token2); domain.ErrorCode(err) != domain.EUnauthorized {
		t.Fatalf("the revoking process accepted the token it revoked: %v", err)
	}
	refusedWithin(t, ctx, b, token2, time.Second, time.Second)

	// Deleting a token's row, or emptying the table, notifies too.
	token3, id3, err := cli.Create(ctx, postgres.TokenInfo{Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, token3); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM api_tokens WHERE id = $1`, id3); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, b, token3, time.Second, time.Second)
}

// Issue 13: when the listening connection is lost, notices may be missed:
// the cache is dropped and every request asks the database until the
// listener is back and listening; then the cache works again and follows
// notices as before.
func TestTokenCacheDroppedWhenListenerLost(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn, db := migrated(t, ctx)
	cli := postgres.NewTokens(db)
	_, a := apiProcess(t, ctx, dsn)
	token, id, err := cli.Create(ctx, postgres.TokenInfo{Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	// Cut every other connection of the database: A's listener with them.
	// Hold the listener down: new connections are refused meanwhile.
	var name string
	var pid int
	conn, err := db.Conn(ctx) // the connection that keeps working
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRowContext(ctx, `SELECT current_database(), pg_backend_pid()`).Scan(&name, &pid); err != nil {
		t.Fatal(err)
	}
	admin, err := postgres.Open(ctx, dsn+" dbname=postgres") // a later key wins
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`ALTER DATABASE ` + pq.QuoteIdentifier(name) + ` ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2`, name, pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Live() {
		if time.Now().After(deadline) {
			t.Fatal("the cache still trusts a lost listener")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Revoked while nobody listens: the notice is lost, the cache is not
	// consulted.
	if _, err := conn.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`ALTER DATABASE ` + pq.QuoteIdentifier(name) + ` ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, a, token, 0, 5*time.Second)

	// Back and listening: caching and notices work again.
	for deadline = time.Now().Add(10 * time.Second); !a.Live(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not come back")
		}
	}
	token2, id2, err := cli.Create(ctx, postgres.TokenInfo{Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, token2); err != nil {
		t.Fatal(err)
	}
	if err := cli.Revoke(ctx, id2); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, a, token2, time.Second, time.Second)
}

// personOf is the person a token (by id) is issued to: the actor's id
// (issue 14).
func personOf(t *testing.T, tokens *postgres.Tokens, id string) string {
	t.Helper()
	p, err := tokens.PersonOf(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 14 with issue 13's cache: suspending a person, or taking the
// token's role from them, is refused at once by every process's cache,
// not after the cache's lifetime (the change touches the person's token
// rows, whose trigger notifies).
func TestCachedTokenOfSuspendedPersonRefusedAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn, db := migrated(t, ctx)
	_, cache := apiProcess(t, ctx, dsn)
	people, tokens := postgres.NewPeople(db), postgres.NewTokens(db)
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_admin"}
	p, err := people.Invite(ctx, admin, domain.Staff{Name: "丙", Roles: []domain.Scope{{Role: domain.RoleBureau}, {Role: domain.RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	bureau, _, err := tokens.Create(ctx, postgres.TokenInfo{PersonID: p.ID, Role: domain.RoleBureau})
	if err != nil {
		t.Fatal(err)
	}
	adminTok, _, err := tokens.Create(ctx, postgres.TokenInfo{PersonID: p.ID, Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{bureau, adminTok} {
		if a, err := cache.Authenticate(ctx, tok); err != nil || a.UserID != p.ID {
			t.Fatalf("%+v, %v", a, err)
		}
	}
	roles := []domain.Scope{{Role: domain.RoleBureau}}
	if _, err := people.Change(ctx, admin, p.ID, postgres.PersonPatch{Roles: &roles}); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, cache, adminTok, time.Second, time.Second)
	if _, err := cache.Authenticate(ctx, bureau); err != nil {
		t.Fatalf("the role kept: %v", err)
	}
	if _, err := people.SetStatus(ctx, admin, p.ID, domain.PersonSuspended); err != nil {
		t.Fatal(err)
	}
	refusedWithin(t, ctx, cache, bureau, time.Second, time.Second)
}
