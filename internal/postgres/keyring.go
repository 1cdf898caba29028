package postgres

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Earlier versions kept the wrapped data keys in the table data_keys,
// where "destroying" a key left its bytes in the heap, the WAL and every
// backup. The keys now live in the CIHUI_KEYS stream (package jetstream);
// what is here reads the old table once, so that a data directory of an
// earlier version can be migrated on start, and then drops it.

// LegacyKey is one row of the old table: a living key, unwrapped, or a
// destroyed one.
type LegacyKey struct {
	ID        string
	Key       []byte // nil when destroyed
	Destroyed bool
}

// LegacyKeys returns the keys of the old table data_keys, unwrapped with
// master, and whether the table still exists.
func LegacyKeys(ctx context.Context, db *sqlx.DB, master []byte) ([]LegacyKey, bool, error) {
	var exists bool
	if err := db.GetContext(ctx, &exists, `SELECT to_regclass('data_keys') IS NOT NULL`); err != nil || !exists {
		return nil, false, err
	}
	kek, err := legacyKEK(master)
	if err != nil {
		return nil, true, err
	}
	rows, err := db.QueryContext(ctx, `SELECT key_id, wrapped, destroyed_at IS NOT NULL FROM data_keys ORDER BY key_id`)
	if err != nil {
		return nil, true, err
	}
	defer rows.Close()
	var out []LegacyKey
	for rows.Next() {
		var k LegacyKey
		var wrapped []byte
		if err := rows.Scan(&k.ID, &wrapped, &k.Destroyed); err != nil {
			return nil, true, err
		}
		if !k.Destroyed {
			n := kek.NonceSize()
			if len(wrapped) < n {
				return nil, true, fmt.Errorf("postgres: data key %s is corrupt", k.ID)
			}
			if k.Key, err = kek.Open(nil, wrapped[:n], wrapped[n:], []byte(k.ID)); err != nil {
				return nil, true, fmt.Errorf("postgres: data key %s does not open with this master key", k.ID)
			}
		}
		out = append(out, k)
	}
	return out, true, rows.Err()
}

// LegacyPersonKeyID is the key id earlier versions derived from a
// national ID; the migration uses it to recognise which key a referral's
// student had.
func LegacyPersonKeyID(master []byte, nationalID string) string {
	m := hmac.New(sha256.New, legacyDerive(master, "pepper"))
	m.Write([]byte("person:" + nationalID))
	return "p_" + fmt.Sprintf("%x", m.Sum(nil)[:16])
}

// DropLegacyKeys drops the old table once its keys have moved: dropping
// unlinks its files (an emptied table would keep dead rows until a VACUUM
// FULL). Copies in the WAL and in old backups remain wrapped under the
// current master key: rotating the master key makes them inert.
func DropLegacyKeys(ctx context.Context, db *sqlx.DB) error {
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS data_keys`); err != nil {
		return err
	}
	// A checkpoint lets the WAL that held the rows be recycled sooner; it
	// needs superuser or pg_checkpoint, and the drop stands without it.
	_, _ = db.ExecContext(ctx, `CHECKPOINT`)
	return nil
}

func legacyKEK(master []byte) (cipher.AEAD, error) {
	if len(master) != 32 {
		return nil, errors.New("postgres: the master key must be 32 bytes")
	}
	block, err := aes.NewCipher(legacyDerive(master, "kek"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func legacyDerive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("cihui/" + purpose))
	return m.Sum(nil)
}

// LegacyWrap wraps key as earlier versions did (tests of the migration
// write an old-style table with it).
func LegacyWrap(master []byte, keyID string, key, nonce []byte) ([]byte, error) {
	kek, err := legacyKEK(master)
	if err != nil {
		return nil, err
	}
	return kek.Seal(append([]byte(nil), nonce...), nonce, key, []byte(keyID)), nil
}
