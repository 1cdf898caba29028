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
	"syscall"
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
	// APIURL is where the API serves HTTP, as bound: with --addr on
	// port 0, the port it was given.
	APIURL string `json:"api_url,omitempty"`
	PID    int    `json:"pid"`
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

// AddrFile is what the API's --addr-file holds while it serves: the URLs
// it listens on, once both listeners are bound. A script that starts the
// API with --addr (or --pprof-addr) on port 0 reads the ports it got
// here, with no window in which another process could take a port it
// picked beforehand; unlike Endpoints, it is written with external
// services too.
type AddrFile struct {
	APIURL   string `json:"api_url"`
	PprofURL string `json:"pprof_url,omitempty"`
	PID      int    `json:"pid"`
}

// WriteAddrFile writes a to path atomically: a reader never sees half of it.
func WriteAddrFile(path string, a AddrFile) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}

// ReadAddrFile reads an address file; an error wrapping os.ErrNotExist
// while the API has not written it yet.
func ReadAddrFile(path string) (AddrFile, error) {
	var a AddrFile
	b, err := os.ReadFile(path)
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("config: %s: %w", path, err)
	}
	return a, nil
}

// RunningEndpoints returns the endpoints of the API running on dataDir:
// the endpoints file, if it names a live process. ok is false when no
// file is there or its process has exited (a crash leaves the file
// behind); then nothing runs, and a command may start what it needs.
func RunningEndpoints(dataDir string) (e Endpoints, ok bool, err error) {
	path := filepath.Join(dataDir, EndpointsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Endpoints{}, false, nil
	}
	if err != nil {
		return Endpoints{}, false, err
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return Endpoints{}, false, fmt.Errorf("config: %s: %w", path, err)
	}
	return e, e.PID > 0 && processAlive(e.PID), nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// WaitEndpoints waits for the API to write the endpoints file, naming a
// live process: a file left by an API that crashed is waited past.
func WaitEndpoints(ctx context.Context, dataDir string, log *slog.Logger) (Endpoints, error) {
	path := filepath.Join(dataDir, EndpointsFile)
	warned := false
	for {
		e, ok, err := RunningEndpoints(dataDir)
		if err != nil {
			return Endpoints{}, err
		}
		if ok {
			return e, nil
		}
		if !warned {
			log.Info("waiting for the API to start its embedded services", "file", path)
			warned = true
		}
		select {
		case <-ctx.Done():
			return Endpoints{}, fmt.Errorf("config: no %s naming a running API: start the API first, or set DATABASE_URL and NATS_URL", path)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// MasterKeyOptions say where the master key comes from.
type MasterKeyOptions struct {
	// File is a key file outside the data directory (--master-key-file,
	// CIHUI_MASTER_KEY_FILE).
	File string
	// Dev allows DevFile, created when missing. Only development does:
	// a key kept beside the data it protects protects nothing.
	Dev bool
	// DevFile is <data-dir>/master.key.
	DevFile string
}

// ErrNoMasterKey is returned when no master key is configured.
var ErrNoMasterKey = errors.New("config: no master key: set CIHUI_MASTER_KEY (32 bytes, base64) or --master-key-file / CIHUI_MASTER_KEY_FILE; only --dev creates one")

// MasterKey returns the 32-byte master key that wraps the per-person data
// keys: from CIHUI_MASTER_KEY (base64) if set, else from o.File; in
// development only, from o.DevFile, created with a new random key when
// missing. Without any of these it fails: the key is never looked for in
// the data directory outside development.
func MasterKey(o MasterKeyOptions) ([]byte, error) {
	if v := os.Getenv("CIHUI_MASTER_KEY"); v != "" {
		return decodeKey(v, "CIHUI_MASTER_KEY")
	}
	if o.File != "" {
		b, err := os.ReadFile(o.File)
		if err != nil {
			return nil, fmt.Errorf("config: master key file: %w", err)
		}
		return decodeKey(string(b), o.File)
	}
	if !o.Dev || o.DevFile == "" {
		if o.DevFile != "" {
			if _, err := os.Stat(o.DevFile); err == nil {
				return nil, fmt.Errorf("%w (found %s from development or an earlier version: move it out of the data directory, "+
					"to a secret store or a file of its own, and pass --master-key-file)", ErrNoMasterKey, o.DevFile)
			}
		}
		return nil, ErrNoMasterKey
	}
	b, err := os.ReadFile(o.DevFile)
	if errors.Is(err, os.ErrNotExist) {
		k, err := NewMasterKey()
		if err != nil {
			return nil, err
		}
		if err := WriteMasterKey(o.DevFile, k); err != nil {
			return nil, err
		}
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeKey(string(b), o.DevFile)
}

// NewMasterKey returns a new random master key.
func NewMasterKey() ([]byte, error) {
	k := make([]byte, 32)
	_, err := rand.Read(k)
	return k, err
}

// WriteMasterKey writes k, base64-encoded, to path (mode 0600), atomically.
func WriteMasterKey(path string, k []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // the data directory: the key file itself is 0600
		return err
	}
	return writeFileAtomic(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600)
}

// DecodeMasterKey decodes a base64 32-byte key; what names its source in
// errors (never the value).
func DecodeMasterKey(v, what string) ([]byte, error) { return decodeKey(v, what) }

func decodeKey(v, what string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("config: %s must hold 32 bytes, base64-encoded", what)
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
