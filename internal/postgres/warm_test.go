package postgres_test

import (
	"context"
	"testing"

	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// Issue 13: before the API serves, every connection of the pool is open
// and idle, so the first burst of reads waits for no new server process.
func TestWarmOpensThePoolIdle(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st := db.Stats(); st.OpenConnections >= postgres.MaxConns {
		t.Fatalf("before Warm: %d connections open already", st.OpenConnections)
	}
	postgres.Warm(ctx, db)
	if st := db.Stats(); st.OpenConnections != postgres.MaxConns || st.Idle != postgres.MaxConns {
		t.Fatalf("after Warm: %d open, %d idle; want %d of each", st.OpenConnections, st.Idle, postgres.MaxConns)
	}
}
