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

// AEADRing is a KeyRing that also hands out the AES-256-GCM cipher of an
// existing key, set up once (a cache of keys: keycache). Open uses it when
// the ring has it.
type AEADRing interface {
	// AEAD returns the cipher of the existing key keyID, or
	// ErrKeyDestroyed.
	AEAD(ctx context.Context, keyID string) (cipher.AEAD, error)
}

// BlindIndex finds the data key of a living person by a keyed hash of
// their national ID, kept with the person's key and destroyed with it.
type BlindIndex interface {
	// PersonKey returns the key id of the living person with blind index
	// blind, or a new random key id when there is none (never filed, or
	// erased). Concurrent calls for one new person return one key id.
	PersonKey(ctx context.Context, blind string) (string, error)
}

// Sealer seals and opens personal data with keys from a KeyRing.
type Sealer struct {
	keys  KeyRing
	index BlindIndex
	blind []byte
}

// NewSealer returns a sealer over keys. blindSecret keys the blind index
// of national IDs (an HMAC): a deployment secret, independent of the
// master key, that must stay stable for the life of the data. If keys is
// also a BlindIndex it serves PersonKeyID; a ring wrapped in something
// else (a cache) names its index with WithBlindIndex.
func NewSealer(keys KeyRing, blindSecret []byte) *Sealer {
	s := &Sealer{keys: keys, blind: blindSecret}
	s.index, _ = keys.(BlindIndex)
	return s
}

// WithBlindIndex sets the blind index PersonKeyID uses and returns s.
func (s *Sealer) WithBlindIndex(index BlindIndex) *Sealer {
	s.index = index
	return s
}

// NewKeyID returns a new random data-key id: it is derived from nothing,
// so it reveals nothing about the person.
func NewKeyID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "p_" + hex.EncodeToString(b[:])
}

// BlindIndexOf returns the keyed hash of a normalised national ID under
// secret: without the secret it cannot be brute-forced.
func BlindIndexOf(secret []byte, nationalID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("national-id:" + nationalID))
	return hex.EncodeToString(m.Sum(nil))
}

// PersonKeyID returns the id of the data key of the person with the given
// (normalised) national ID: the key of the living person if one was filed
// before, so that every case of one student shares one key, else a new
// random key. After an erasure the same national ID gets a new key and
// nothing links it to the past.
func (s *Sealer) PersonKeyID(ctx context.Context, nationalID string) (string, error) {
	if s.index == nil {
		return "", errors.New("events: the sealer has no blind index: it cannot choose person keys")
	}
	if len(s.blind) < 16 {
		return "", errors.New("events: the blind-index secret is missing")
	}
	return s.index.PersonKey(ctx, BlindIndexOf(s.blind, nationalID))
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
	var aead cipher.AEAD
	if r, ok := s.keys.(AEADRing); ok {
		a, err := r.AEAD(ctx, sealed.KeyID)
		if err != nil {
			return err
		}
		aead = a
	} else {
		key, err := s.keys.DataKey(ctx, sealed.KeyID, false)
		if err != nil {
			return err
		}
		if aead, err = newAEAD(key); err != nil {
			return err
		}
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
