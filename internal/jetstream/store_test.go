package jetstream_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"cihui/internal/events"
	"cihui/internal/events/eventstoretest"
	"cihui/internal/jetstream"
)

// runServer starts an embedded server (with its users' credentials in a
// temp dir unless o.AuthDir is set), stopped when the test ends; it returns
// the server and its auth dir.
func runServer(t *testing.T, o jetstream.ServerOptions) (*server.Server, string) {
	t.Helper()
	if o.AuthDir == "" {
		o.AuthDir = t.TempDir()
	}
	srv, err := jetstream.RunServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv, o.AuthDir
}

// connect connects to srv as user, closed when the test ends.
func connect(t *testing.T, srv *server.Server, authDir, user string) *nats.Conn {
	t.Helper()
	creds, err := jetstream.Credentials(authDir, user)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), creds, nats.Name(user))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// newStore starts an embedded JetStream server in a temp dir and returns a
// store on it.
func newStore(t *testing.T, cfg jetstream.Config) (*jetstream.Store, string) {
	t.Helper()
	dir := t.TempDir()
	srv, auth := runServer(t, jetstream.ServerOptions{StoreDir: dir, Port: -1})
	nc := connect(t, srv, auth, jetstream.UserAPI)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := jetstream.Open(ctx, nc, events.NewCodec(events.DefaultRegistry()), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) events.Store {
		s, _ := newStore(t, jetstream.Config{})
		return s
	})
}

func TestConformanceWithoutCache(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) events.Store {
		s, _ := newStore(t, jetstream.Config{CacheSize: -1})
		return s
	})
}

// Two stores on one stream (two API processes): each one's cache sees the
// other's writes, because every load checks the server for newer events.
func TestCacheSeesOtherWriters(t *testing.T) {
	a, _ := newStore(t, jetstream.Config{})
	ctx := context.Background()
	b, err := jetstream.Open(ctx, a.JetStream().Conn(), events.NewCodec(events.DefaultRegistry()), jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	id := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "c1"}
	envs, err := a.Append(ctx, events.Append{Stream: id, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := b.Load(ctx, id); l.Version != 1 { // b caches version 1
		t.Fatalf("b sees %d events", l.Version)
	}
	if _, err := a.Append(ctx, events.Append{Stream: id, ExpectedSeq: envs[0].Position, ExpectedVersion: 1, Events: []events.Event{events.DocumentSubmitted{Item: 2, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	l, err := b.Load(ctx, id)
	if err != nil || l.Version != 2 || l.Events[1].Payload.(events.DocumentSubmitted).Item != 2 {
		t.Fatalf("b after a's second write: version %d, %v", l.Version, err)
	}
}

// Issue 13: a cached load is freshened by one direct get of the subject's
// last message. One missing event is taken from it; several missing are
// fetched in a batch. Either way the load equals an uncached one, event
// for event, positions included.
func TestCacheFreshenMatchesUncachedLoad(t *testing.T) {
	a, _ := newStore(t, jetstream.Config{})
	ctx := context.Background()
	nc := a.JetStream().Conn()
	codec := events.NewCodec(events.DefaultRegistry())
	b, err := jetstream.Open(ctx, nc, codec, jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cold, err := jetstream.Open(ctx, nc, codec, jetstream.Config{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	id := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "c1"}
	var seq, ver uint64
	appendN := func(n int) {
		for range n {
			envs, err := a.Append(ctx, events.Append{Stream: id, ExpectedSeq: seq, ExpectedVersion: ver,
				Events: []events.Event{events.DocumentSubmitted{Item: int(ver%12) + 1, Pages: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			seq, ver = envs[0].Position, envs[0].Version
			// Another subject between, so positions and versions differ.
			other := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "o" + strconv.FormatUint(ver, 10)}
			if _, err := a.Append(ctx, events.Append{Stream: other, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(step string) {
		t.Helper()
		got, err := b.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cold.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != ver || got.LastSeq != seq || got.Version != want.Version || got.LastSeq != want.LastSeq {
			t.Fatalf("%s: cached load at version %d seq %d, uncached %d/%d, appended %d/%d", step, got.Version, got.LastSeq, want.Version, want.LastSeq, ver, seq)
		}
		for i := range want.Events {
			g, w := got.Events[i], want.Events[i]
			if g.ID != w.ID || g.Position != w.Position || g.Version != w.Version || g.Payload != w.Payload {
				t.Fatalf("%s: event %d differs: %+v vs %+v", step, i, g, w)
			}
		}
	}
	appendN(1)
	check("first load")
	check("nothing new")
	appendN(1)
	check("one event missing")
	appendN(3)
	check("three events missing")
}

// Issue 13: this process's own appends extend the cache, so a command's
// next LoadCached needs no round trip and equals an uncached load, event
// for event: a first append on an empty stream, a single event, and an
// atomic batch over two streams. Another store's write is not seen by
// LoadCached (checked false), and an append decided on that stale state
// conflicts: nothing is lost.
func TestOwnAppendsExtendTheCache(t *testing.T) {
	a, _ := newStore(t, jetstream.Config{})
	ctx := context.Background()
	nc := a.JetStream().Conn()
	codec := events.NewCodec(events.DefaultRegistry())
	cold, err := jetstream.Open(ctx, nc, codec, jetstream.Config{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	id := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "c1"}
	id2 := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "c2"}
	same := func(step string, s events.StreamID, wantChecked bool) events.Loaded {
		t.Helper()
		got, checked, err := a.LoadCached(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cold.Load(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if checked != wantChecked || got.Version != want.Version || got.LastSeq != want.LastSeq || len(got.Events) != len(want.Events) {
			t.Fatalf("%s: cached %d/%d (checked %v), uncached %d/%d", step, got.Version, got.LastSeq, checked, want.Version, want.LastSeq)
		}
		for i := range want.Events {
			g, w := got.Events[i], want.Events[i]
			if g.ID != w.ID || g.Position != w.Position || g.Version != w.Version || g.Payload != w.Payload || !g.RecordedAt.Equal(w.RecordedAt) {
				t.Fatalf("%s: event %d differs: %+v vs %+v", step, i, g, w)
			}
		}
		return got
	}
	if _, err := a.Append(ctx, events.Append{Stream: id, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	l := same("new stream", id, false)
	if _, err := a.Append(ctx, events.Append{Stream: id, ExpectedSeq: l.LastSeq, ExpectedVersion: l.Version, Events: []events.Event{events.DocumentSubmitted{Item: 2, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	l = same("one event", id, false)
	if _, err := a.Append(ctx,
		events.Append{Stream: id, ExpectedSeq: l.LastSeq, ExpectedVersion: l.Version, Events: []events.Event{events.DocumentSubmitted{Item: 3, Pages: 1}, events.DocumentSubmitted{Item: 4, Pages: 2}}},
		events.Append{Stream: id2, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	l = same("batch", id, false)
	same("batch, second stream", id2, false)

	// Another process writes: this store's cache does not know.
	b, err := jetstream.Open(ctx, nc, codec, jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, events.Append{Stream: id, ExpectedSeq: l.LastSeq, ExpectedVersion: l.Version, Events: []events.Event{events.DocumentSubmitted{Item: 5, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	stale, checked, err := a.LoadCached(ctx, id)
	if err != nil || checked || stale.LastSeq != l.LastSeq {
		t.Fatalf("LoadCached after another store's write: seq %d (cached %d), checked %v, %v", stale.LastSeq, l.LastSeq, checked, err)
	}
	_, err = a.Append(ctx, events.Append{Stream: id, ExpectedSeq: stale.LastSeq, ExpectedVersion: stale.Version, Events: []events.Event{events.DocumentSubmitted{Item: 6, Pages: 1}}})
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("an append on the stale cache: %v, want a conflict", err)
	}
	// Load asks the server, and the cache follows.
	if fresh, err := a.Load(ctx, id); err != nil || fresh.Version != l.Version+1 {
		t.Fatalf("Load after another store's write: version %d, %v", fresh.Version, err)
	}
	same("after Load", id, false)
	// Nothing cached: LoadCached loads.
	id3 := events.StreamID{Branch: "x", Type: events.AggregateReferral, ID: "c3"}
	if _, err := b.Append(ctx, events.Append{Stream: id3, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	same("not cached", id3, true)
}
