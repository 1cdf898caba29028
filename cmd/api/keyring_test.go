package main

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// oneKey is a key ring holding fixed keys (to seal as an earlier version).
type oneKey map[string][]byte

func (k oneKey) DataKey(_ context.Context, id string, _ bool) ([]byte, error) {
	if key, ok := k[id]; ok {
		return key, nil
	}
	return nil, events.ErrKeyDestroyed
}
func (k oneKey) DestroyKey(context.Context, string) error { return nil }

// Issue 8: a data directory of an earlier version, with its data keys in
// the PostgreSQL table data_keys, is migrated on start: living keys move
// to CIHUI_KEYS under their ids and still open the sealed events, the
// blind index of their students is rebuilt from the ReferralOpened events
// (a new referral of a living student finds the same key), destroyed keys
// become tombstones (never re-created; the student is a new person), and
// the table is dropped. A second start finds nothing to move.
func TestLegacyKeysMigrate(t *testing.T) {
	ctx := context.Background()
	auth := t.TempDir()
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: t.TempDir(), AuthDir: auth, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	creds, err := jetstream.Credentials(auth, jetstream.UserAPI)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), creds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	store, err := jetstream.Open(ctx, nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	// The table as earlier versions had it (migration 00001).
	if _, err := db.ExecContext(ctx, `CREATE TABLE data_keys (
		key_id text PRIMARY KEY, wrapped bytea, created_at timestamptz NOT NULL DEFAULT now(),
		destroyed_at timestamptz, CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL)))`); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	living, erased := "A123456789", "B223456789"
	livingID, erasedID := postgres.LegacyPersonKeyID(master, living), postgres.LegacyPersonKeyID(master, erased)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce)
	wrapped, err := postgres.LegacyWrap(master, livingID, key, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO data_keys (key_id, wrapped) VALUES ($1, $2)`, livingID, wrapped); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO data_keys (key_id, wrapped, destroyed_at) VALUES ($1, NULL, now())`, erasedID); err != nil {
		t.Fatal(err)
	}
	old := events.NewSealer(oneKey{livingID: key}, nil)
	var sealed []events.Sealed
	for i, id := range []string{"rold1", "rold2"} { // two cases of the living student
		s, err := old.Seal(ctx, livingID, domain.Person{StudentName: "舊資料", NationalID: living})
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
		_, err = store.Append(ctx, events.Append{
			Stream: events.StreamID{Branch: domain.DefaultBranchCode, Type: events.AggregateReferral, ID: id},
			Events: []events.Event{events.ReferralOpened{ReferralID: id, PersonKey: livingID, Personal: s, Sex: "F", Grade: 7 + i}},
			Meta:   events.Metadata{OccurredAt: time.Now()},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	k, err := openKeys(ctx, nc, db, store, master, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := db.GetContext(ctx, &exists, `SELECT to_regclass('data_keys') IS NOT NULL`); err != nil || exists {
		t.Fatalf("data_keys still exists (%v)", err)
	}
	for _, s := range sealed {
		var p domain.Person
		if err := k.sealer.Open(ctx, s, &p); err != nil || p.StudentName != "舊資料" {
			t.Fatalf("a sealed event after the move: %+v, %v", p, err)
		}
	}
	if kid, err := k.sealer.PersonKeyID(ctx, living); err != nil || kid != livingID {
		t.Fatalf("a new referral of the living student: key %q, %v; want %q", kid, err, livingID)
	}
	if _, err := k.ring.DataKey(ctx, erasedID, true); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("the destroyed key after the move: %v", err)
	}
	if kid, err := k.sealer.PersonKeyID(ctx, erased); err != nil || kid == erasedID {
		t.Fatalf("a new referral of the erased student: key %q, %v", kid, err)
	}
	// Erasing the migrated student removes the rebuilt blind index too.
	if err := k.sealer.Erase(ctx, livingID); err != nil {
		t.Fatal(err)
	}
	if kid, err := k.sealer.PersonKeyID(ctx, living); err != nil || kid == livingID {
		t.Fatalf("after erasing the migrated student: key %q, %v", kid, err)
	}

	// A second start: nothing to move, nothing broken.
	if _, err := openKeys(ctx, nc, db, store, master, 1, nil); err != nil {
		t.Fatalf("second start: %v", err)
	}
}

// Issue 8, finding 2: outside --dev the API refuses to start without a
// master key, before it starts anything or writes into the data directory.
func TestAPIRefusesToStartWithoutMasterKey(t *testing.T) {
	t.Setenv("CIHUI_MASTER_KEY", "")
	t.Setenv("CIHUI_MASTER_KEY_FILE", "")
	t.Setenv("CIHUI_DEV", "")
	dir := t.TempDir()
	m := NewMain()
	if _, err := m.ParseFlags([]string{"--data-dir", dir, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1"}); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(context.Background()); !errors.Is(err, config.ErrNoMasterKey) {
		t.Fatalf("Run without a master key: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the data directory was written: %d entries", len(entries))
	}
}
