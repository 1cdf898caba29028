package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"

	"cihui/internal/config"
	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/keycache"
	"cihui/internal/postgres"
)

// keys is what the key ring gives the API.
type keys struct {
	ring   *jetstream.KeyRing
	sealer *events.Sealer // over a cache of ring, with ring as its blind index
	// requestSecret keys the HMAC of idempotent requests (request_hash).
	requestSecret []byte
}

// masterKey reads the master key: CIHUI_MASTER_KEY, --master-key-file, or
// in development only <data-dir>/master.key.
func (m *Main) masterKey() ([]byte, error) {
	return config.MasterKey(config.MasterKeyOptions{
		File: m.MasterKeyFile, Dev: m.Dev, DevFile: filepath.Join(m.DataDir, "master.key"),
	})
}

// openKeys opens the key ring in CIHUI_KEYS under master, moves the keys
// of an earlier version's PostgreSQL table into it, and reads the
// deployment secrets (created on first start).
func openKeys(ctx context.Context, nc *nats.Conn, db *sqlx.DB, store *jetstream.Store, master []byte, replicas int, log *slog.Logger) (keys, error) {
	ring, err := jetstream.OpenKeyRing(ctx, nc, master, jetstream.KeyRingConfig{Replicas: replicas})
	if err != nil {
		return keys{}, err
	}
	blind, err := ring.Secret(ctx, jetstream.SecretBlindIndex)
	if err != nil {
		return keys{}, fmt.Errorf("opening the key ring (is this the right master key?): %w", err)
	}
	request, err := ring.Secret(ctx, jetstream.SecretRequestHash)
	if err != nil {
		return keys{}, err
	}
	// Reads open personal data with keys cached in memory, bounded and for
	// at most keycache.DefaultTTL: a person erased by another API instance
	// stops opening here within that time; erased by this one, at once.
	cache := keycache.New(ring, keycache.DefaultSize, keycache.DefaultTTL)
	k := keys{ring: ring, sealer: events.NewSealer(cache, blind).WithBlindIndex(ring), requestSecret: request}
	if err := migrateLegacyKeys(ctx, db, store, ring, k.sealer, master, blind, log); err != nil {
		return keys{}, fmt.Errorf("moving data keys from PostgreSQL to %s: %w", jetstream.KeyRingStream, err)
	}
	return k, nil
}

// migrateLegacyKeys moves the keys of the PostgreSQL table data_keys
// (earlier versions) into the key ring, ids kept: living keys are
// re-wrapped, destroyed ones become tombstones. The blind index of each
// living person is rebuilt from their ReferralOpened events, opened with
// the moved key. Then the table is dropped. Every step is idempotent, so
// a start interrupted halfway redoes it.
func migrateLegacyKeys(ctx context.Context, db *sqlx.DB, store *jetstream.Store, ring *jetstream.KeyRing,
	sealer *events.Sealer, master, blindSecret []byte, log *slog.Logger) error {
	legacy, exists, err := postgres.LegacyKeys(ctx, db, master)
	if err != nil || !exists {
		return err
	}
	living := map[string]bool{}
	destroyed := 0
	for _, k := range legacy {
		if k.Destroyed {
			destroyed++
			err = ring.Tombstone(ctx, k.ID)
		} else {
			living[k.ID] = true
			err = ring.ImportKey(ctx, k.ID, k.Key)
		}
		if err != nil {
			return err
		}
	}
	indexed := 0
	if len(living) > 0 {
		filter := "cihui.*." + events.AggregateReferral + ".*"
		err = store.EachEvent(ctx, filter, events.ReferralOpened{}.EventType(), func(env events.Envelope) error {
			e, ok := env.Payload.(events.ReferralOpened)
			if !ok || !living[e.PersonKey] {
				return nil
			}
			var p struct {
				NationalID string `json:"national_id"`
			}
			if err := sealer.Open(ctx, e.Personal, &p); err != nil {
				if errors.Is(err, events.ErrKeyDestroyed) {
					return nil
				}
				return fmt.Errorf("event %d: %w", env.Position, err)
			}
			indexed++
			return ring.IndexPerson(ctx, events.BlindIndexOf(blindSecret, p.NationalID), e.PersonKey)
		})
		if err != nil {
			return err
		}
	}
	if err := postgres.DropLegacyKeys(ctx, db); err != nil {
		return err
	}
	if log != nil {
		log.Info("data keys moved from PostgreSQL to the key ring; table data_keys dropped",
			"living", len(living), "destroyed", destroyed, "referrals_indexed", indexed,
			"next", "rotate the master key (api keys rotate) so that old WAL and backups holding the table become inert")
	}
	return nil
}
