package projections

import (
	"context"
	"strings"
	"testing"

	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// Issue 13: a database role that may not ask for a checkpoint (neither
// superuser nor pg_checkpoint) still rebuilds: the checkpoint before the
// switch is left to PostgreSQL's schedule, and any other error fails.
func TestCheckpointShadowWithoutThePrivilege(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	admin, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if done, err := checkpointShadow(ctx, admin); err != nil || !done {
		t.Fatalf("as superuser: done %v, err %v; want a checkpoint", done, err)
	}
	const role = "rebuild_without_checkpoint"
	if _, err := admin.ExecContext(ctx, `CREATE ROLE `+role+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), `DROP ROLE `+role) })
	if !strings.Contains(dsn, "user=postgres") {
		t.Fatalf("the test database's DSN names no user=postgres: cannot connect as %s", role)
	}
	plain, err := postgres.Open(ctx, strings.Replace(dsn, "user=postgres", "user="+role, 1))
	if err != nil {
		t.Fatal(err)
	}
	if done, err := checkpointShadow(ctx, plain); err != nil || done {
		t.Fatalf("as a plain role: done %v, err %v; want no checkpoint and no error", done, err)
	}
	plain.Close()
	if _, err := checkpointShadow(ctx, plain); err == nil {
		t.Fatal("a closed pool: no error; want one (only the missing privilege is let through)")
	}
}
