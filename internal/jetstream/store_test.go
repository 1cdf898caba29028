package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"cihui/internal/events"
	"cihui/internal/events/eventstoretest"
	"cihui/internal/jetstream"
)

// newStore starts an embedded JetStream server in a temp dir and returns a
// store on it.
func newStore(t *testing.T, cfg jetstream.Config) (*jetstream.Store, string) {
	t.Helper()
	dir := t.TempDir()
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
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
