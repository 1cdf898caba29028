package postgres

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"cihui/internal/events"
)

// KeyRing keeps per-person data keys in PostgreSQL, wrapped (AES-256-GCM)
// with a master key that never enters the database. It implements
// events.KeyRing.
type KeyRing struct {
	db   *sqlx.DB
	kek  cipher.AEAD
	salt []byte
}

// NewKeyRing returns a key ring; master must be 32 bytes.
func NewKeyRing(db *sqlx.DB, master []byte) (*KeyRing, error) {
	if len(master) != 32 {
		return nil, errors.New("postgres: the master key must be 32 bytes")
	}
	block, err := aes.NewCipher(derive(master, "kek"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &KeyRing{db: db, kek: aead, salt: derive(master, "pepper")}, nil
}

// Pepper returns the secret used to derive pseudonymous key ids.
func (k *KeyRing) Pepper() []byte { return k.salt }

func derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("cihui/" + purpose))
	return m.Sum(nil)
}

// DataKey implements events.KeyRing.
func (k *KeyRing) DataKey(ctx context.Context, keyID string, create bool) ([]byte, error) {
	var wrapped []byte
	var destroyed sql.NullTime
	err := k.db.QueryRowContext(ctx, `SELECT wrapped, destroyed_at FROM data_keys WHERE key_id = $1`, keyID).Scan(&wrapped, &destroyed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if !create {
			return nil, events.ErrKeyDestroyed
		}
		return k.create(ctx, keyID)
	case err != nil:
		return nil, err
	case destroyed.Valid:
		return nil, events.ErrKeyDestroyed
	}
	return k.unwrap(keyID, wrapped)
}

func (k *KeyRing) create(ctx context.Context, keyID string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	nonce := make([]byte, k.kek.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	wrapped := append(nonce, k.kek.Seal(nil, nonce, key, []byte(keyID))...)
	// Two writers may create the same person's key at once: the first
	// wins and both use it.
	if _, err := k.db.ExecContext(ctx, `INSERT INTO data_keys (key_id, wrapped) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING`, keyID, wrapped); err != nil {
		return nil, err
	}
	return k.DataKey(ctx, keyID, false)
}

func (k *KeyRing) unwrap(keyID string, wrapped []byte) ([]byte, error) {
	n := k.kek.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("postgres: data key %s is corrupt", keyID)
	}
	key, err := k.kek.Open(nil, wrapped[:n], wrapped[n:], []byte(keyID))
	if err != nil {
		return nil, fmt.Errorf("postgres: data key %s does not open with this master key", keyID)
	}
	return key, nil
}

// DestroyKey implements events.KeyRing: the key is overwritten for good.
func (k *KeyRing) DestroyKey(ctx context.Context, keyID string) error {
	_, err := k.db.ExecContext(ctx, `
		INSERT INTO data_keys (key_id, wrapped, destroyed_at) VALUES ($1, NULL, now())
		ON CONFLICT (key_id) DO UPDATE SET wrapped = NULL, destroyed_at = coalesce(data_keys.destroyed_at, now())`, keyID)
	return err
}
