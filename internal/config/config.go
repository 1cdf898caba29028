// Package config holds what the binaries share: flags with environment
// equivalents, the data directory layout, the endpoints file through which
// a local projector finds the API's embedded services, and the master key.
package config

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Env returns the environment variable name, or def when unset.
func Env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// StringFlag defines a string flag whose default comes from env var name;
// the usage names the variable, so that --help lists both.
func StringFlag(fs *flag.FlagSet, p *string, flagName, envName, def, usage string) {
	fs.StringVar(p, flagName, Env(envName, def), usage+" (env "+envName+")")
}

// BoolFlag is StringFlag for booleans.
func BoolFlag(fs *flag.FlagSet, p *bool, flagName, envName string, def bool, usage string) {
	v := def
	if s, ok := os.LookupEnv(envName); ok {
		v = s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes")
	}
	fs.BoolVar(p, flagName, v, usage+" (env "+envName+")")
}

// Endpoints is written by the API when it runs embedded services, so that
// a local projector started without DATABASE_URL/NATS_URL finds them.
type Endpoints struct {
	DatabaseURL string `json:"database_url"`
	NATSURL     string `json:"nats_url"`
	PID         int    `json:"pid"`
}

// EndpointsFile is the file's name inside the data directory.
const EndpointsFile = "endpoints.json"

// WriteEndpoints writes the endpoints file atomically.
func WriteEndpoints(dataDir string, e Endpoints) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dataDir, EndpointsFile), b, 0o600)
}

// RemoveEndpoints removes the endpoints file at shutdown.
func RemoveEndpoints(dataDir string) { _ = os.Remove(filepath.Join(dataDir, EndpointsFile)) }

// WaitEndpoints waits for the API to write the endpoints file.
func WaitEndpoints(ctx context.Context, dataDir string, log *slog.Logger) (Endpoints, error) {
	path := filepath.Join(dataDir, EndpointsFile)
	warned := false
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			var e Endpoints
			if err := json.Unmarshal(b, &e); err != nil {
				return Endpoints{}, fmt.Errorf("config: %s: %w", path, err)
			}
			return e, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return Endpoints{}, err
		}
		if !warned {
			log.Info("waiting for the API to start its embedded services", "file", path)
			warned = true
		}
		select {
		case <-ctx.Done():
			return Endpoints{}, fmt.Errorf("config: no %s: start the API first, or set DATABASE_URL and NATS_URL", path)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// MasterKey returns the 32-byte master key that wraps the per-person data
// keys: from CIHUI_MASTER_KEY (base64) if set, else from keyFile; when
// create is true and the file does not exist, a new random key is written
// there (development only: production sets the variable from a secret
// store).
func MasterKey(keyFile string, create bool) ([]byte, error) {
	if v := os.Getenv("CIHUI_MASTER_KEY"); v != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(k) != 32 {
			return nil, errors.New("config: CIHUI_MASTER_KEY must be 32 bytes, base64-encoded")
		}
		return k, nil
	}
	b, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) && create {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(keyFile, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: master key: set CIHUI_MASTER_KEY or provide %s: %w", keyFile, err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("config: %s must hold 32 bytes, base64-encoded", keyFile)
	}
	return k, nil
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Logger returns the JSON logger every binary uses.
func Logger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
