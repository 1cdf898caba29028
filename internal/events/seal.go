package events

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Sealed is personal data encrypted with the data key of one person
// (AES-256-GCM). The key lives outside the event log, in a KeyRing;
// destroying it erases the person from the immutable log while the case's
// timeline stays (crypto-shredding).
type Sealed struct {
	KeyID      string `json:"kid"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ct"`
}

// IsZero reports whether s holds nothing.
func (s Sealed) IsZero() bool { return s.KeyID == "" && len(s.Ciphertext) == 0 }

// ErrKeyDestroyed is returned when the data key of a sealed value has been
// destroyed: the data is erased for good.
var ErrKeyDestroyed = errors.New("events: personal data erased (data key destroyed)")

// KeyRing keeps the per-person data keys outside the event log.
type KeyRing interface {
	// DataKey returns the 32-byte data key with id keyID, creating a new
	// random key if create is true and none exists. A destroyed key yields
	// ErrKeyDestroyed and is never re-created.
	DataKey(ctx context.Context, keyID string, create bool) ([]byte, error)
	// DestroyKey destroys the key for good.
	DestroyKey(ctx context.Context, keyID string) error
}

// Sealer seals and opens personal data with keys from a KeyRing.
type Sealer struct {
	keys   KeyRing
	pepper []byte
}

// NewSealer returns a sealer over keys. pepper is a secret used to derive
// pseudonymous key ids from national ID numbers; it must stay stable for
// the life of the data.
func NewSealer(keys KeyRing, pepper []byte) *Sealer {
	return &Sealer{keys: keys, pepper: pepper}
}

// PersonKeyID derives the pseudonymous id of the data key of the person
// with the given (normalised) national ID. The same person always gets the
// same id, so that every case of one student shares one key; without the
// pepper the id reveals nothing.
func (s *Sealer) PersonKeyID(nationalID string) string {
	m := hmac.New(sha256.New, s.pepper)
	m.Write([]byte("person:" + nationalID))
	return "p_" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Seal marshals v as JSON and encrypts it with the data key keyID,
// creating the key if needed.
func (s *Sealer) Seal(ctx context.Context, keyID string, v any) (Sealed, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return Sealed{}, fmt.Errorf("events: sealing: %w", err)
	}
	key, err := s.keys.DataKey(ctx, keyID, true)
	if err != nil {
		return Sealed{}, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: keyID, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plain, []byte(keyID))}, nil
}

// Open decrypts sealed into v. It returns ErrKeyDestroyed when the person
// has been erased.
func (s *Sealer) Open(ctx context.Context, sealed Sealed, v any) error {
	key, err := s.keys.DataKey(ctx, sealed.KeyID, false)
	if err != nil {
		return err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	plain, err := aead.Open(nil, sealed.Nonce, sealed.Ciphertext, []byte(sealed.KeyID))
	if err != nil {
		return errors.New("events: sealed data failed authentication")
	}
	return json.Unmarshal(plain, v)
}

// Erase destroys the data key keyID: every value sealed with it becomes
// unreadable everywhere, including in the immutable log.
func (s *Sealer) Erase(ctx context.Context, keyID string) error {
	return s.keys.DestroyKey(ctx, keyID)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("events: data key: %w", err)
	}
	return cipher.NewGCM(block)
}
