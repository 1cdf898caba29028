package jetstream_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/events"
	"cihui/internal/jetstream"
)

type ringEnv struct {
	dir    string
	auth   string
	srv    *server.Server
	nc     *nats.Conn
	ring   *jetstream.KeyRing
	master []byte
}

func newRing(t *testing.T) *ringEnv {
	t.Helper()
	e := &ringEnv{dir: t.TempDir(), master: randomKey(t)}
	var err error
	e.srv, e.auth = runServer(t, jetstream.ServerOptions{StoreDir: e.dir, Port: -1})
	e.nc = connect(t, e.srv, e.auth, jetstream.UserAPI)
	if e.ring, err = jetstream.OpenKeyRing(context.Background(), e.nc, e.master, jetstream.KeyRingConfig{}); err != nil {
		t.Fatal(err)
	}
	return e
}

func randomKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func blindOf(t *testing.T, id string) string {
	return events.BlindIndexOf([]byte("0123456789abcdef0123456789abcdef"), id)
}

// The key ring's life cycle: a person's key is created at the first
// filing, found again by the blind index, destroyed for good, never
// re-created, and the same national ID then gets a new, unrelated key
// (finding 4).
func TestKeyRingLifecycle(t *testing.T) {
	e := newRing(t)
	ctx := context.Background()
	blind := blindOf(t, "A123456789")
	kid, err := e.ring.PersonKey(ctx, blind)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.ring.PersonKey(ctx, blind); err != nil || again != kid {
		t.Fatalf("second filing of a living person: %q, %v; want %q", again, err, kid)
	}
	key, err := e.ring.DataKey(ctx, kid, false)
	if err != nil || len(key) != 32 {
		t.Fatalf("DataKey: %d bytes, %v", len(key), err)
	}
	if key2, _ := e.ring.DataKey(ctx, kid, true); !bytes.Equal(key, key2) {
		t.Fatal("the same key id gave two keys")
	}
	if err := e.ring.DestroyKey(ctx, kid); err != nil {
		t.Fatal(err)
	}
	for _, create := range []bool{false, true} {
		if _, err := e.ring.DataKey(ctx, kid, create); !errors.Is(err, events.ErrKeyDestroyed) {
			t.Fatalf("DataKey(create=%v) after destroy: %v, want ErrKeyDestroyed", create, err)
		}
	}
	if err := e.ring.DestroyKey(ctx, kid); err != nil {
		t.Fatalf("destroying twice: %v", err)
	}
	fresh, err := e.ring.PersonKey(ctx, blind)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == kid {
		t.Fatal("an erased person's national ID found the destroyed key again")
	}
	if _, err := e.ring.DataKey(ctx, fresh, false); err != nil {
		t.Fatalf("the new person's key: %v", err)
	}
	// A key id never seen: nothing to open; created on demand.
	if _, err := e.ring.DataKey(ctx, "p_unknown", false); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("an unknown key: %v", err)
	}
	if k, err := e.ring.DataKey(ctx, "p_created", true); err != nil || len(k) != 32 {
		t.Fatalf("creating a key on demand: %v", err)
	}
}

// Two concurrent filings of the same new student end with one key id: the
// blind entry is written with an expected last subject sequence of 0.
func TestKeyRingConcurrentFilingsShareOneKey(t *testing.T) {
	e := newRing(t)
	blind := blindOf(t, "B223456789")
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = e.ring.PersonKey(context.Background(), blind)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("filing %d: %q, %v; filing 0: %q", i, ids[i], errs[i], ids[0])
		}
	}
	// The losers' keys were removed: one key message is left.
	st, err := js.New(e.nc)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := st.Stream(context.Background(), jetstream.KeyRingStream)
	info, err := s.Info(context.Background(), js.WithSubjectFilter("cihui_keys.key.>"))
	if err != nil {
		t.Fatal(err)
	}
	if len(info.State.Subjects) != 1 {
		t.Fatalf("%d key subjects left, want 1", len(info.State.Subjects))
	}
}

// A key ring opened with another master key opens nothing.
func TestKeyRingWrongMasterKeyOpensNothing(t *testing.T) {
	e := newRing(t)
	ctx := context.Background()
	kid, err := e.ring.PersonKey(ctx, blindOf(t, "A123456789"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ring.Secret(ctx, jetstream.SecretBlindIndex); err != nil {
		t.Fatal(err)
	}
	other, err := jetstream.OpenKeyRing(ctx, e.nc, randomKey(t), jetstream.KeyRingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.DataKey(ctx, kid, false); err == nil || errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("DataKey under another master key: %v", err)
	}
	if _, err := other.Secret(ctx, jetstream.SecretBlindIndex); err == nil {
		t.Fatal("a secret opened under another master key")
	}
}

// Finding 1 (the key part): after DestroyKey, neither the wrapped key nor
// the blind index of the person is anywhere in the files of the NATS
// store. The scan first finds both while the key lives, so it can fail.
func TestKeyRingDestroyOverwritesStoredBytes(t *testing.T) {
	e := newRing(t)
	ctx := context.Background()
	// Neighbours in the same block, before and after, so that the erased
	// record is overwritten in place rather than its block dropped.
	for _, id := range []string{"C123456780", "D123456781"} {
		if _, err := e.ring.PersonKey(ctx, blindOf(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	blind := blindOf(t, "A123456789")
	kid, err := e.ring.PersonKey(ctx, blind)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ring.PersonKey(ctx, blindOf(t, "E123456782")); err != nil {
		t.Fatal(err)
	}
	j, _ := js.New(e.nc)
	s, err := j.Stream(ctx, jetstream.KeyRingStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(ctx, "cihui_keys.key."+kid)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := m.Data
	if n := scan(t, e.dir, wrapped); n == 0 {
		t.Fatal("the wrapped key is not in the store before destroy: the scan cannot see it")
	}
	if n := scan(t, e.dir, []byte(blind)); n == 0 {
		t.Fatal("the blind index is not in the store before destroy")
	}
	if err := e.ring.DestroyKey(ctx, kid); err != nil {
		t.Fatal(err)
	}
	e.nc.Close()
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	if n := scan(t, e.dir, wrapped); n != 0 {
		t.Fatalf("the destroyed wrapped key is still in %d file(s) of the store", n)
	}
	if n := scan(t, e.dir, []byte(blind)); n != 0 {
		t.Fatalf("the erased person's blind index is still in %d file(s) of the store", n)
	}

	// Restarted, the ring still reports the key destroyed (tombstone).
	srv, _ := runServer(t, jetstream.ServerOptions{StoreDir: e.dir, AuthDir: e.auth, Port: -1})
	nc := connect(t, srv, e.auth, jetstream.UserAPI)
	ring, err := jetstream.OpenKeyRing(ctx, nc, e.master, jetstream.KeyRingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.DataKey(ctx, kid, true); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("after restart: %v, want ErrKeyDestroyed", err)
	}
}

// scan counts the files under dir that contain needle.
func scan(t *testing.T, dir string, needle []byte) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The key ring is the API's alone (cross-team contract): the projector's
// credentials read no key from it.
func TestKeyRingNotReadableByProjector(t *testing.T) {
	e := newRing(t)
	ctx := context.Background()
	kid, err := e.ring.PersonKey(ctx, blindOf(t, "A123456789"))
	if err != nil {
		t.Fatal(err)
	}
	nc := connect(t, e.srv, e.auth, jetstream.UserProjector)
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ring, err := jetstream.OpenKeyRing(cctx, nc, e.master, jetstream.KeyRingConfig{NoCreate: true})
	if err == nil {
		if _, err := ring.DataKey(cctx, kid, false); err == nil {
			t.Fatal("the projector read a data key")
		}
	}
}

// An erasure that stopped halfway, its tombstone written and the key not
// yet deleted, leaves the key destroyed: DataKey reads the key, then the
// tombstone, and refuses it (issue 13 split the one batched get in two).
func TestKeyRingTombstoneBeforeDeleteDestroysTheKey(t *testing.T) {
	e := newRing(t)
	ctx := context.Background()
	kid, err := e.ring.PersonKey(ctx, blindOf(t, "A123456789"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ring.DataKey(ctx, kid, false); err != nil {
		t.Fatalf("before the tombstone: %v", err)
	}
	j, _ := js.New(e.nc)
	if _, err := j.Publish(ctx, "cihui_keys.erased."+kid, nil); err != nil {
		t.Fatal(err)
	}
	for _, create := range []bool{false, true} {
		if _, err := e.ring.DataKey(ctx, kid, create); !errors.Is(err, events.ErrKeyDestroyed) {
			t.Errorf("DataKey(create=%v) with a tombstone beside the key: %v, want ErrKeyDestroyed", create, err)
		}
	}
}
