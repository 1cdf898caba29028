package jetstream

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
)

// KeyRingStream is the name of the stream that holds the data-key ring.
const KeyRingStream = "CIHUI_KEYS"

// Subjects of the key ring. One subject per person key, per blind-index
// entry and per secret; every one holds a single live message.
const (
	keySubject    = "cihui_keys.key."    // + key id: the data key, wrapped
	erasedSubject = "cihui_keys.erased." // + key id: tombstone, no secret content
	blindSubject  = "cihui_keys.blind."  // + blind index: the key id of a living person
	secretSubject = "cihui_keys.secret." // + name: a deployment secret, wrapped

	headerBlind = "Cihui-Blind" // on a key: the blind index pointing at it
	headerKEK   = "Cihui-Kek"   // on a wrapped value: which master key wraps it
)

// Secret names kept in the ring.
const (
	// SecretBlindIndex keys the HMAC of national IDs (the duplicate index).
	SecretBlindIndex = "blind-index"
	// SecretRequestHash keys the HMAC of idempotent requests.
	SecretRequestHash = "request-hash"
)

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// KeyRingConfig configures the key ring.
type KeyRingConfig struct {
	// Replicas of the CIHUI_KEYS stream: the same as the event stream.
	Replicas int
	// NoCreate binds to an existing stream instead of creating or updating
	// it (a process that only reads keys).
	NoCreate bool
}

// KeyRing keeps the per-person data keys in a JetStream stream of its own,
// wrapped (AES-256-GCM, the key id as additional data) under a key
// derived from the master key, which never enters NATS. Destroying a key
// deletes its message with SecureDeleteMsg, which overwrites the stored
// bytes on every replica, and leaves a tombstone so that the key is never
// created again. It implements events.KeyRing and events.BlindIndex.
type KeyRing struct {
	js     js.JetStream
	stream js.Stream
	kek    cipher.AEAD
	kekID  string
}

// OpenKeyRing ensures the CIHUI_KEYS stream and returns the ring over it;
// master must be 32 bytes.
func OpenKeyRing(ctx context.Context, nc *nats.Conn, master []byte, cfg KeyRingConfig) (*KeyRing, error) {
	kek, kekID, err := newKEK(master)
	if err != nil {
		return nil, err
	}
	j, err := js.New(nc)
	if err != nil {
		return nil, err
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	var st js.Stream
	if cfg.NoCreate {
		st, err = j.Stream(ctx, KeyRingStream)
	} else {
		st, err = j.CreateOrUpdateStream(ctx, js.StreamConfig{
			Name:        KeyRingStream,
			Description: "Cihui data-key ring: wrapped per-person keys, blind index, tombstones; deleted securely",
			Subjects:    []string{"cihui_keys.>"},
			Storage:     js.FileStorage,
			Retention:   js.LimitsPolicy,
			Replicas:    cfg.Replicas,
			// Old copies are removed explicitly with SecureDeleteMsg: a
			// per-subject limit would drop them without overwriting.
			MaxMsgsPerSubject: -1,
			AllowDirect:       true,
			DenyDelete:        false,
			DenyPurge:         true,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: key ring stream %s: %w", KeyRingStream, err)
	}
	return &KeyRing{js: j, stream: st, kek: kek, kekID: kekID}, nil
}

// newKEK derives the key-encryption key and its public id from master.
func newKEK(master []byte) (cipher.AEAD, string, error) {
	if len(master) != 32 {
		return nil, "", errors.New("jetstream: the master key must be 32 bytes")
	}
	block, err := aes.NewCipher(derive(master, "cihui/keyring/kek"))
	if err != nil {
		return nil, "", err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, "", err
	}
	return aead, hex.EncodeToString(derive(master, "cihui/keyring/kek-id")[:8]), nil
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// DataKey implements events.KeyRing.
func (k *KeyRing) DataKey(ctx context.Context, keyID string, create bool) ([]byte, error) {
	if !tokenRe.MatchString(keyID) {
		return nil, fmt.Errorf("jetstream: bad key id")
	}
	for attempt := 0; attempt < 3; attempt++ {
		// The key and its tombstone: a key with a tombstone (an erasure
		// that stopped halfway) is destroyed. An erasure writes the
		// tombstone before it deletes the key, so when the tombstone's
		// get finds none, the key had not been deleted at that moment:
		// the read took place then, whichever get the server answered
		// first (and a key created for a person found with neither is
		// checked against the tombstone again by create). Two direct gets
		// on the connection's shared reply subscription, in flight
		// together (one round trip): one batched get of both, subscribed
		// anew each time with a channel of the connection's sync queue
		// length (32 kB at the API's 4,096 slots), was a quarter of the
		// API's allocations under the read load at 10,000 cases (issue
		// 13).
		type tomb struct {
			erased bool
			err    error
		}
		tc := make(chan tomb, 1)
		go func() {
			erased, err := k.exists(ctx, erasedSubject+keyID)
			tc <- tomb{erased, err}
		}()
		m, err := k.last(ctx, keySubject+keyID)
		t := <-tc
		if err != nil {
			return nil, err
		}
		erased, err := t.erased, t.err
		if err != nil {
			return nil, err
		}
		if erased {
			return nil, events.ErrKeyDestroyed
		}
		if m != nil {
			return k.unwrap(keyID, m)
		}
		if !create {
			return nil, events.ErrKeyDestroyed
		}
		key, err := k.create(ctx, keyID, "")
		if errors.Is(err, errLostRace) {
			continue
		}
		return key, err
	}
	return nil, fmt.Errorf("jetstream: data key: too much contention")
}

var errLostRace = errors.New("jetstream: lost a race")

// create writes a new random data key under keyID, unless one exists.
func (k *KeyRing) create(ctx context.Context, keyID, blind string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	msg := nats.NewMsg(keySubject + keyID)
	msg.Data = k.wrap(key, []byte(keyID))
	msg.Header.Set(headerKEK, k.kekID)
	if blind != "" {
		msg.Header.Set(headerBlind, blind)
	}
	ack, err := k.js.PublishMsg(ctx, msg, js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(0))
	if isWrongLastSeq(err) {
		return nil, errLostRace
	}
	if err != nil {
		return nil, unavailable(err)
	}
	// A concurrent DestroyKey may have laid the tombstone between our check
	// and the write: then the new key must not survive.
	if erased, err := k.exists(ctx, erasedSubject+keyID); err != nil || erased {
		_ = k.stream.SecureDeleteMsg(ctx, ack.Sequence)
		if err != nil {
			return nil, err
		}
		return nil, events.ErrKeyDestroyed
	}
	return key, nil
}

// DestroyKey implements events.KeyRing: a tombstone is written first (so a
// crash halfway still reads as destroyed and a retry completes), then
// every copy of the wrapped key and the person's blind-index entry are
// deleted securely.
func (k *KeyRing) DestroyKey(ctx context.Context, keyID string) error {
	if !tokenRe.MatchString(keyID) {
		return fmt.Errorf("jetstream: bad key id")
	}
	if err := k.tombstone(ctx, keyID); err != nil {
		return err
	}
	var blinds []string
	if err := k.eraseSubject(ctx, keySubject+keyID, func(m *js.RawStreamMsg) {
		if b := m.Header.Get(headerBlind); b != "" {
			blinds = append(blinds, b)
		}
	}); err != nil {
		return err
	}
	for _, b := range blinds {
		if err := k.eraseBlind(ctx, b, keyID); err != nil {
			return err
		}
	}
	return nil
}

func (k *KeyRing) tombstone(ctx context.Context, keyID string) error {
	_, err := k.js.PublishMsg(ctx, &nats.Msg{Subject: erasedSubject + keyID},
		js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(0))
	if err != nil && !isWrongLastSeq(err) { // already there
		return unavailable(err)
	}
	return nil
}

// eraseBlind deletes the blind-index entry b if it points at keyID.
func (k *KeyRing) eraseBlind(ctx context.Context, b, keyID string) error {
	if !tokenRe.MatchString(b) {
		return nil
	}
	m, err := k.last(ctx, blindSubject+b)
	if err != nil || m == nil || string(m.Data) != keyID {
		return err
	}
	return k.eraseSubject(ctx, blindSubject+b, nil)
}

// PersonKey implements events.BlindIndex: the key id of the living person
// whose blind index is blind, or a new random key id (with its key) when
// there is none, because the person was never filed or was erased. Two
// concurrent filings of one new person end with one key id: the blind
// entry is written with an expected last subject sequence of 0, so the
// first wins and the other reads it.
func (k *KeyRing) PersonKey(ctx context.Context, blind string) (string, error) {
	if !tokenRe.MatchString(blind) {
		return "", fmt.Errorf("jetstream: bad blind index")
	}
	for attempt := 0; attempt < 5; attempt++ {
		m, err := k.last(ctx, blindSubject+blind)
		if err != nil {
			return "", err
		}
		if m != nil {
			keyID := string(m.Data)
			erased, err := k.exists(ctx, erasedSubject+keyID)
			if err != nil {
				return "", err
			}
			if !erased {
				return keyID, nil
			}
			// An erasure stopped before removing the entry: finish it.
			if err := k.eraseSubject(ctx, blindSubject+blind, nil); err != nil {
				return "", err
			}
		}
		keyID := events.NewKeyID()
		if _, err := k.create(ctx, keyID, blind); err != nil {
			return "", err
		}
		_, err = k.js.PublishMsg(ctx, &nats.Msg{Subject: blindSubject + blind, Data: []byte(keyID)},
			js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(0))
		if err == nil {
			return keyID, nil
		}
		// Another filing of the same person won: drop our unused key.
		if err := k.eraseSubject(ctx, keySubject+keyID, nil); err != nil {
			return "", err
		}
		if !isWrongLastSeq(err) {
			return "", unavailable(err)
		}
	}
	return "", fmt.Errorf("jetstream: blind index: too much contention")
}

// Secret returns the deployment secret name (32 random bytes), creating it
// on first use. Secrets are independent of the master key, which only
// wraps them, so rotating the master key changes no HMAC.
func (k *KeyRing) Secret(ctx context.Context, name string) ([]byte, error) {
	if !tokenRe.MatchString(name) {
		return nil, fmt.Errorf("jetstream: bad secret name")
	}
	aad := []byte("secret:" + name)
	for attempt := 0; attempt < 3; attempt++ {
		m, err := k.last(ctx, secretSubject+name)
		if err != nil {
			return nil, err
		}
		if m != nil {
			return k.open(aad, m)
		}
		s := make([]byte, 32)
		if _, err := rand.Read(s); err != nil {
			return nil, err
		}
		msg := nats.NewMsg(secretSubject + name)
		msg.Data = k.wrap(s, aad)
		msg.Header.Set(headerKEK, k.kekID)
		_, err = k.js.PublishMsg(ctx, msg, js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(0))
		if err == nil {
			return s, nil
		}
		if !isWrongLastSeq(err) {
			return nil, unavailable(err)
		}
	}
	return nil, fmt.Errorf("jetstream: secret %s: too much contention", name)
}

// ImportKey stores an existing data key under keyID (migration from an
// earlier key store); a key already there is kept.
func (k *KeyRing) ImportKey(ctx context.Context, keyID string, key []byte) error {
	if !tokenRe.MatchString(keyID) || len(key) != 32 {
		return fmt.Errorf("jetstream: bad key to import")
	}
	msg := nats.NewMsg(keySubject + keyID)
	msg.Data = k.wrap(key, []byte(keyID))
	msg.Header.Set(headerKEK, k.kekID)
	_, err := k.js.PublishMsg(ctx, msg, js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(0))
	if err != nil && !isWrongLastSeq(err) {
		return unavailable(err)
	}
	return nil
}

// Tombstone records keyID as destroyed (migration of a key destroyed in an
// earlier key store).
func (k *KeyRing) Tombstone(ctx context.Context, keyID string) error {
	if !tokenRe.MatchString(keyID) {
		return fmt.Errorf("jetstream: bad key id")
	}
	return k.tombstone(ctx, keyID)
}

// IndexPerson points blind at the living key keyID unless blind already
// has an entry (migration), and records blind on the key so that
// DestroyKey removes the entry too.
func (k *KeyRing) IndexPerson(ctx context.Context, blind, keyID string) error {
	if !tokenRe.MatchString(blind) || !tokenRe.MatchString(keyID) {
		return fmt.Errorf("jetstream: bad blind index")
	}
	m, err := k.last(ctx, keySubject+keyID)
	if err != nil || m == nil {
		return err
	}
	if m.Header.Get(headerBlind) != blind {
		key, err := k.unwrap(keyID, m)
		if err != nil {
			return err
		}
		nm := nats.NewMsg(keySubject + keyID)
		nm.Data = k.wrap(key, []byte(keyID))
		nm.Header.Set(headerKEK, k.kekID)
		nm.Header.Set(headerBlind, blind)
		if _, err := k.js.PublishMsg(ctx, nm, js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(m.Sequence)); err != nil {
			return unavailable(err)
		}
		if err := k.stream.SecureDeleteMsg(ctx, m.Sequence); err != nil {
			return unavailable(err)
		}
	}
	_, err = k.js.PublishMsg(ctx, &nats.Msg{Subject: blindSubject + blind, Data: []byte(keyID)},
		js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(0))
	if err != nil && !isWrongLastSeq(err) {
		return unavailable(err)
	}
	return nil
}

// last returns the last message on subject, or nil if there is none.
func (k *KeyRing) last(ctx context.Context, subject string) (*js.RawStreamMsg, error) {
	m, err := k.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, js.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return m, nil
}

func (k *KeyRing) exists(ctx context.Context, subject string) (bool, error) {
	m, err := k.last(ctx, subject)
	return m != nil, err
}

// eraseSubject securely deletes every message on subject, calling seen
// with each first.
func (k *KeyRing) eraseSubject(ctx context.Context, subject string, seen func(*js.RawStreamMsg)) error {
	return k.eraseSubjectExcept(ctx, subject, 0, seen)
}

// eraseSubjectExcept securely deletes every message on subject but the one
// at sequence keep.
func (k *KeyRing) eraseSubjectExcept(ctx context.Context, subject string, keep uint64, seen ...func(*js.RawStreamMsg)) error {
	for seq := uint64(1); ; {
		m, err := k.stream.GetMsg(ctx, seq, js.WithGetMsgSubject(subject))
		if errors.Is(err, js.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return unavailable(err)
		}
		seq = m.Sequence + 1
		if m.Sequence == keep {
			continue
		}
		for _, f := range seen {
			if f != nil {
				f(m)
			}
		}
		if err := k.stream.SecureDeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, js.ErrMsgNotFound) {
			return unavailable(err)
		}
	}
}

func (k *KeyRing) wrap(secret, aad []byte) []byte {
	return wrapWith(k.kek, secret, aad)
}

func wrapWith(kek cipher.AEAD, secret, aad []byte) []byte {
	nonce := make([]byte, kek.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return kek.Seal(nonce, nonce, secret, aad)
}

func unwrapWith(kek cipher.AEAD, wrapped, aad []byte) ([]byte, error) {
	n := kek.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("jetstream: wrapped value is corrupt")
	}
	return kek.Open(nil, wrapped[:n], wrapped[n:], aad)
}

func (k *KeyRing) unwrap(keyID string, m *js.RawStreamMsg) ([]byte, error) {
	return k.open([]byte(keyID), m)
}

func (k *KeyRing) open(aad []byte, m *js.RawStreamMsg) ([]byte, error) {
	v, err := unwrapWith(k.kek, m.Data, aad)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %s does not open with this master key (wrapped under master key %s, this one is %s)",
			m.Subject, m.Header.Get(headerKEK), k.kekID)
	}
	return v, nil
}

func isWrongLastSeq(err error) bool {
	var apiErr *js.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == js.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == js.JSErrCodeStreamWrongLastSequenceConstant)
}
