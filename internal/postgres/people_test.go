package postgres_test

import (
	"context"
	"testing"

	"github.com/pressly/goose/v3"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
	"cihui/migrations"
)

// Issue 14: migration 00019 moves every existing token to a person of its
// own named after its label (its id when it has none) who holds the
// token's role; the token keeps working and its actor is the person's id;
// a revoked token's person is removed. The move is recorded.
func TestMigration00019MovesTokensToPeopleNamedAfterTheirLabel(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 16); err != nil {
		t.Fatal(err)
	}
	tokens := postgres.NewTokens(db)
	// Tokens as the code before people issued them (sha-256 of the token).
	for _, q := range []string{
		`INSERT INTO branches (code, config) VALUES ('xiucai', '{}')`,
		`INSERT INTO api_tokens (id, token_hash, role, branch, label) VALUES ('tok_a', sha256('chk_aaaa'), 'social_worker', 'xiucai', 'desk of the social worker')`,
		`INSERT INTO api_tokens (id, token_hash, role, school) VALUES ('tok_b', sha256('chk_bbbb'), 'origin_school', '034501')`,
		`INSERT INTO api_tokens (id, token_hash, role, label, revoked_at) VALUES ('tok_c', sha256('chk_cccc'), 'bureau', 'old', now())`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	people := postgres.NewPeople(db)
	for _, c := range []struct {
		token, id, name string
		status          domain.StaffStatus
		scope           domain.Scope
	}{
		{"chk_aaaa", "tok_a", "desk of the social worker", domain.PersonActive, domain.Scope{Role: domain.RoleSocialWorker, Branch: "xiucai"}},
		{"chk_bbbb", "tok_b", "tok_b", domain.PersonActive, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"}},
		{"chk_cccc", "tok_c", "old", domain.PersonRemoved, domain.Scope{Role: domain.RoleBureau}},
	} {
		pid, err := tokens.PersonOf(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		per, err := people.Get(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		if per.Name != c.name || per.Status != c.status || len(per.Roles) != 1 || per.Roles[0] != c.scope {
			t.Errorf("%s: person %+v", c.id, per)
		}
		h, err := people.History(ctx, pid)
		if err != nil || len(h) != 1 || h[0].ActorID != "migration-00019" {
			t.Errorf("%s: history %+v, %v", c.id, h, err)
		}
		a, err := tokens.Authenticate(ctx, c.token)
		if c.status == domain.PersonActive {
			if err != nil || a.UserID != pid || a.Role != c.scope.Role {
				t.Errorf("%s: actor %+v, %v; want the person %s", c.id, a, err, pid)
			}
		} else if err == nil {
			t.Errorf("%s: a revoked token authenticates", c.id)
		}
	}
}

// Issue 14: a token is issued only for a role its person holds, to an
// active person, and stops with its expiry.
func TestTokensBelongToAPersonInTheirScope(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewBranches(db).EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	people, tokens := postgres.NewPeople(db), postgres.NewTokens(db)
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_admin"}
	per, err := people.Invite(ctx, admin, domain.Staff{Name: "甲", Email: "a@example.edu.tw",
		Roles: []domain.Scope{{Role: domain.RoleOriginSchool, School: "034501"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokens.Create(ctx, postgres.TokenInfo{PersonID: per.ID, Role: domain.RoleOriginSchool, School: "034502"}); err == nil {
		t.Error("a token for a school the person does not hold was issued")
	}
	tok, _, err := tokens.Create(ctx, postgres.TokenInfo{PersonID: per.ID, Role: domain.RoleOriginSchool, School: "034501"})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := tokens.Authenticate(ctx, tok); err != nil || a.UserID != per.ID || a.School != "034501" {
		t.Fatalf("actor %+v, %v", a, err)
	}
	// Expired: refused without anyone revoking it.
	if _, err := db.Exec(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE person_id = $1`, per.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Authenticate(ctx, tok); err == nil {
		t.Error("an expired token authenticates")
	}
	if _, err := people.SetStatus(ctx, admin, per.ID, domain.PersonSuspended); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tokens.Create(ctx, postgres.TokenInfo{PersonID: per.ID, Role: domain.RoleOriginSchool, School: "034501"}); err == nil {
		t.Error("a token was issued to a suspended person")
	}
}

// Issue 14 with issue 13's token cache: suspending a person, or taking a
// role away, updates their token rows in the same transaction, so that an
// update trigger on api_tokens (the cache's NOTIFY) sees every token of
// theirs and the cache cannot outlive the change.
func TestPersonChangesTouchTheirTokensForCaches(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewBranches(db).EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE touched (token_id text)`,
		`CREATE FUNCTION record_touch() RETURNS trigger AS $$ BEGIN INSERT INTO touched VALUES (OLD.id); RETURN NULL; END; $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER touch AFTER UPDATE ON api_tokens FOR EACH ROW EXECUTE FUNCTION record_touch()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	people, tokens := postgres.NewPeople(db), postgres.NewTokens(db)
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_admin"}
	p, err := people.Invite(ctx, admin, domain.Staff{Name: "乙", Roles: []domain.Scope{{Role: domain.RoleBureau}, {Role: domain.RoleCommittee}}})
	if err != nil {
		t.Fatal(err)
	}
	_, id, err := tokens.Create(ctx, postgres.TokenInfo{PersonID: p.ID, Role: domain.RoleBureau})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM touched WHERE token_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := people.SetStatus(ctx, admin, p.ID, domain.PersonSuspended); err != nil || count() != 1 {
		t.Fatalf("suspension: %v, %d touches", err, count())
	}
	if _, err := people.SetStatus(ctx, admin, p.ID, domain.PersonActive); err != nil || count() != 2 {
		t.Fatalf("reinstatement: %v, %d touches", err, count())
	}
	roles := []domain.Scope{{Role: domain.RoleCommittee}}
	if _, err := people.Change(ctx, admin, p.ID, postgres.PersonPatch{Roles: &roles}); err != nil || count() != 3 {
		t.Fatalf("a role taken away: %v, %d touches", err, count())
	}
}
