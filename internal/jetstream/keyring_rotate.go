package jetstream

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
)

// Rotate re-wraps every data key and secret of the ring under newMaster
// and securely deletes every copy wrapped under the old master key. Once
// the old master key is destroyed, copies of the ring in backups taken
// before the rotation open nothing. It returns how many values were
// re-wrapped. An interrupted rotation is finished by running it again
// with the same two keys: values already under newMaster are kept, and
// stale copies are deleted. Run it while no API writes to the ring.
func (k *KeyRing) Rotate(ctx context.Context, newMaster []byte) (int, error) {
	newKEK, newID, err := newKEK(newMaster)
	if err != nil {
		return 0, err
	}
	if newID == k.kekID {
		return 0, errors.New("jetstream: the new master key is the current one")
	}
	info, err := k.stream.Info(ctx, js.WithSubjectFilter("cihui_keys.>"))
	if err != nil {
		return 0, unavailable(err)
	}
	subjects := make([]string, 0, len(info.State.Subjects))
	for s := range info.State.Subjects {
		if strings.HasPrefix(s, keySubject) || strings.HasPrefix(s, secretSubject) {
			subjects = append(subjects, s)
		}
	}
	sort.Strings(subjects)
	n := 0
	for _, subject := range subjects {
		done, err := k.rewrap(ctx, subject, newKEK, newID)
		if err != nil {
			return n, fmt.Errorf("jetstream: rotating %s: %w", subject, err)
		}
		if done {
			n++
		}
	}
	return n, nil
}

// rewrap re-wraps the value on subject under newKEK, then deletes every
// older copy securely. It reports whether it wrote a new copy.
func (k *KeyRing) rewrap(ctx context.Context, subject string, newKEK cipher.AEAD, newID string) (bool, error) {
	aad := []byte(strings.TrimPrefix(subject, keySubject))
	if strings.HasPrefix(subject, secretSubject) {
		aad = []byte("secret:" + strings.TrimPrefix(subject, secretSubject))
	}
	m, err := k.last(ctx, subject)
	if err != nil || m == nil {
		return false, err // destroyed meanwhile
	}
	wrote := false
	keep := m.Sequence
	if m.Header.Get(headerKEK) != newID {
		plain, err := k.open(aad, m)
		if err != nil {
			return false, err
		}
		nm := nats.NewMsg(subject)
		nm.Data = wrapWith(newKEK, plain, aad)
		nm.Header.Set(headerKEK, newID)
		if b := m.Header.Get(headerBlind); b != "" {
			nm.Header.Set(headerBlind, b)
		}
		ack, err := k.js.PublishMsg(ctx, nm, js.WithExpectStream(KeyRingStream), js.WithExpectLastSequencePerSubject(m.Sequence))
		if isWrongLastSeq(err) {
			return false, nil // destroyed or changed meanwhile: nothing of ours to keep
		}
		if err != nil {
			return false, unavailable(err)
		}
		keep, wrote = ack.Sequence, true
	}
	return wrote, k.eraseSubjectExcept(ctx, subject, keep)
}
