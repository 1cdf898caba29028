package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"cihui/internal/jetstream"
)

// NATSAuthDir is where the embedded NATS server keeps its users' nkey
// seeds, inside the data directory: <data-dir>/nats-auth/<user>.nk.
const NATSAuthDir = "nats-auth"

// NATSAuth is how a binary authenticates to NATS. The first that is set
// wins: a credentials file (a NATS .creds file with a user JWT, or a bare
// nkey seed), an nkey seed file, a user and password; otherwise the
// user's seed under <data-dir>/nats-auth (written by the API's embedded
// server).
type NATSAuth struct {
	CredsFile    string // --nats-creds, NATS_CREDS
	NkeySeedFile string // NATS_NKEY_SEED_FILE
	User         string // NATS_USER
	Password     string // NATS_PASSWORD
}

// Flags registers --nats-creds and reads the other settings from the
// environment only (a password never goes on a command line).
func (a *NATSAuth) Flags(fs *flag.FlagSet) {
	StringFlag(fs, &a.CredsFile, "nats-creds", "NATS_CREDS", "", "NATS credentials file (.creds with a user JWT, or an nkey seed); also NATS_NKEY_SEED_FILE, or NATS_USER and NATS_PASSWORD")
	a.NkeySeedFile = os.Getenv("NATS_NKEY_SEED_FILE")
	a.User = os.Getenv("NATS_USER")
	a.Password = os.Getenv("NATS_PASSWORD")
}

// Options returns the connect options authenticating as user (the
// embedded server's user name, for the seed under dataDir). With nothing
// configured and no seed there it returns none, and a server that
// requires authentication refuses the connection.
func (a NATSAuth) Options(dataDir, user string) ([]nats.Option, error) {
	switch {
	case a.CredsFile != "":
		b, err := os.ReadFile(a.CredsFile)
		if err != nil {
			return nil, fmt.Errorf("config: NATS credentials: %w", err)
		}
		if bytes.Contains(b, []byte("BEGIN NATS USER JWT")) {
			return []nats.Option{nats.UserCredentials(a.CredsFile)}, nil
		}
		return seedOption(a.CredsFile)
	case a.NkeySeedFile != "":
		return seedOption(a.NkeySeedFile)
	case a.User != "":
		return []nats.Option{nats.UserInfo(a.User, a.Password)}, nil
	}
	seed := jetstream.SeedFile(filepath.Join(dataDir, NATSAuthDir), user)
	if _, err := os.Stat(seed); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return seedOption(seed)
}

func seedOption(file string) ([]nats.Option, error) {
	opt, err := nats.NkeyOptionFromSeed(file)
	if err != nil {
		return nil, fmt.Errorf("config: NATS nkey seed %s: %w", file, err)
	}
	return []nats.Option{opt}, nil
}
