package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"cihui/internal/backup"
	"cihui/internal/config"
)

// Backup runs `api backup DIR`: a consistent backup of what cannot be
// rebuilt (the event log, the access log and the key ring as JetStream
// snapshots; tokens and branches as JSON lines) with a manifest of
// checksums, written into DIR.tmp and renamed to DIR. It connects to the
// running system (DATABASE_URL/NATS_URL, or the endpoints file of the API
// running on the data directory); with neither it starts the local
// services of the data directory and stops them afterwards. The master key
// is not in the backup.
func (m *Main) Backup(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) != 1 {
		return errors.New("backup DIR (a directory that does not exist yet)")
	}
	if _, err := m.running(); err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	if _, err := m.openNATS(); err != nil {
		return err
	}
	t0 := time.Now()
	man, err := backup.Backup(ctx, m.nc, m.db, args[0])
	if err != nil {
		return err
	}
	fmt.Printf("backup written to %s: %d events (last sequence %d), %d bytes, %.1fs\n",
		args[0], man.Events(), man.Streams[0].LastSeq, man.Size(args[0]), time.Since(t0).Seconds())
	fmt.Println("the master key is not in the backup: keep it apart, as long as the backup is kept")
	return nil
}

// running points the configuration at the API running on the data
// directory, if one is (its endpoints file names its PostgreSQL and NATS,
// and its process is alive), unless DATABASE_URL and NATS_URL are set.
// It reports whether one is running.
func (m *Main) running() (bool, error) {
	if m.DatabaseURL != "" && m.NATSURL != "" {
		return false, nil
	}
	b, err := os.ReadFile(filepath.Join(m.DataDir, config.EndpointsFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var ep config.Endpoints
	if err := json.Unmarshal(b, &ep); err != nil {
		return false, fmt.Errorf("%s: %w", config.EndpointsFile, err)
	}
	if ep.PID <= 0 || syscall.Kill(ep.PID, 0) != nil {
		return false, nil // left by an API that is gone
	}
	if m.DatabaseURL == "" {
		m.DatabaseURL = ep.DatabaseURL
	}
	if m.NATSURL == "" {
		m.NATSURL = ep.NATSURL
	}
	return true, nil
}
