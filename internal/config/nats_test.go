package config_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go"

	"cihui/internal/config"
	"cihui/internal/jetstream"
)

// How a binary authenticates: an explicit creds file or seed file first,
// then user/password, else the user's seed under the data directory (the
// embedded server's); with none of them the server refuses it.
func TestNATSAuthOptionsFindCredentials(t *testing.T) {
	dataDir := t.TempDir()
	authDir := filepath.Join(dataDir, config.NATSAuthDir)
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: t.TempDir(), AuthDir: authDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	seed := jetstream.SeedFile(authDir, jetstream.UserProjector)
	cases := []struct {
		name    string
		auth    config.NATSAuth
		dataDir string
		ok      bool
	}{
		{"seed under the data dir", config.NATSAuth{}, dataDir, true},
		{"nothing configured", config.NATSAuth{}, t.TempDir(), false},
		{"NATS_NKEY_SEED_FILE", config.NATSAuth{NkeySeedFile: seed}, t.TempDir(), true},
		{"NATS_CREDS with a bare seed", config.NATSAuth{CredsFile: seed}, t.TempDir(), true},
		{"NATS_USER and a wrong NATS_PASSWORD", config.NATSAuth{User: jetstream.UserAPI, Password: "guess"}, dataDir, false},
	}
	for _, c := range cases {
		opts, err := c.auth.Options(c.dataDir, jetstream.UserProjector)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		nc, err := nats.Connect(srv.ClientURL(), opts...)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v, want an authorization violation", c.name, err)
		}
		if nc != nil {
			nc.Close()
		}
	}
	if _, err := (config.NATSAuth{CredsFile: filepath.Join(dataDir, "missing.creds")}).Options(dataDir, jetstream.UserAPI); err == nil {
		t.Error("a missing creds file was accepted")
	}
}
