package jetstream_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
	"cihui/internal/jetstream"
)

// Issue 8 (master key): after a rotation the old master key opens nothing
// in the key stream, not even the old copies on disk; the new one opens
// every key and secret; data sealed before still opens; a destroyed key
// stays destroyed; running the rotation again changes nothing.
func TestKeyRingRotate(t *testing.T) {
	e := newRing(t)
	ctx := context.Background()
	blindSecret, err := e.ring.Secret(ctx, jetstream.SecretBlindIndex)
	if err != nil {
		t.Fatal(err)
	}
	requestSecret, err := e.ring.Secret(ctx, jetstream.SecretRequestHash)
	if err != nil {
		t.Fatal(err)
	}
	sealer := events.NewSealer(e.ring, blindSecret)
	var ids []string
	var sealed []events.Sealed
	for _, nid := range []string{"A123456789", "B223456789", "C123456780"} {
		kid, err := sealer.PersonKeyID(ctx, nid)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sealer.Seal(ctx, kid, "name of "+nid)
		if err != nil {
			t.Fatal(err)
		}
		ids, sealed = append(ids, kid), append(sealed, s)
	}
	if err := sealer.Erase(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	j, _ := js.New(e.nc)
	st, _ := j.Stream(ctx, jetstream.KeyRingStream)
	old, err := st.GetLastMsgForSubject(ctx, "cihui_keys.key."+ids[0])
	if err != nil {
		t.Fatal(err)
	}
	oldWrapped := old.Data

	newMaster := randomKey(t)
	n, err := e.ring.Rotate(ctx, newMaster)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 { // two living keys, two secrets
		t.Fatalf("re-wrapped %d values, want 4", n)
	}
	if n, err := e.ring.Rotate(ctx, newMaster); err != nil || n != 0 {
		t.Fatalf("rotating again: %d, %v", n, err)
	}

	withOld, err := jetstream.OpenKeyRing(ctx, e.nc, e.master, jetstream.KeyRingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kid := range ids[:2] {
		if _, err := withOld.DataKey(ctx, kid, false); err == nil {
			t.Fatalf("the old master key still opens %s", kid)
		}
	}
	if _, err := withOld.Secret(ctx, jetstream.SecretBlindIndex); err == nil {
		t.Fatal("the old master key still opens the blind-index secret")
	}

	withNew, err := jetstream.OpenKeyRing(ctx, e.nc, newMaster, jetstream.KeyRingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := withNew.Secret(ctx, jetstream.SecretBlindIndex)
	if err != nil || !bytes.Equal(b2, blindSecret) {
		t.Fatalf("blind-index secret under the new key: %v", err)
	}
	if r2, err := withNew.Secret(ctx, jetstream.SecretRequestHash); err != nil || !bytes.Equal(r2, requestSecret) {
		t.Fatalf("request-hash secret under the new key: %v", err)
	}
	sealer2 := events.NewSealer(withNew, b2)
	for i, s := range sealed[:2] {
		var got string
		if err := sealer2.Open(ctx, s, &got); err != nil || got == "" {
			t.Fatalf("sealed value %d after rotation: %q, %v", i, got, err)
		}
	}
	if kid, err := sealer2.PersonKeyID(ctx, "A123456789"); err != nil || kid != ids[0] {
		t.Fatalf("the blind index after rotation: %q, %v", kid, err)
	}
	var got string
	if err := sealer2.Open(ctx, sealed[2], &got); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("the destroyed key after rotation: %v", err)
	}

	e.nc.Close()
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	if n := scan(t, e.dir, oldWrapped); n != 0 {
		t.Fatalf("the copy wrapped under the old master key is still in %d file(s)", n)
	}
}
