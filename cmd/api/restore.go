package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"cihui/internal/backup"
	"cihui/internal/config"
	"cihui/internal/jetstream"
)

// Restore runs `api restore DIR`: it brings a backup into a fresh system
// (a new data directory, or empty DATABASE_URL/NATS_URL services) before
// the API first starts there. It refuses if a stream exists or a table
// holds rows, checks every file against the manifest, restores the
// streams and the tables; the projector then rebuilds the read models
// from the restored log. With the master key given, it checks that the
// key opens the restored key ring.
func (m *Main) Restore(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) != 1 {
		return errors.New("restore DIR (a backup written by `api backup`)")
	}
	if _, err := backup.ReadManifest(args[0]); err != nil { // before anything starts
		return err
	}
	if up, err := m.running(); err != nil {
		return err
	} else if up {
		return fmt.Errorf("restore: an API is running on %s; restore into a fresh data directory, before the API first starts", m.DataDir)
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	if _, err := m.openNATS(); err != nil {
		return err
	}
	t0 := time.Now()
	man, err := backup.RestoreWith(ctx, m.nc, m.db, args[0], backup.Options{Replicas: m.Replicas})
	if err != nil {
		return err
	}
	fmt.Printf("restored %d events (last sequence %d) and %d tables from a backup of %s in %.1fs\n",
		man.Events(), man.Streams[0].LastSeq, len(man.Tables), man.CreatedAt.Format(time.RFC3339), time.Since(t0).Seconds())
	return m.checkMasterKey(ctx)
}

// checkMasterKey opens the restored key ring with the configured master
// key, if one is given (a development key is never created here).
func (m *Main) checkMasterKey(ctx context.Context) error {
	devFile := filepath.Join(m.DataDir, "master.key")
	_, statErr := os.Stat(devFile)
	master, err := config.MasterKey(config.MasterKeyOptions{File: m.MasterKeyFile, Dev: m.Dev && statErr == nil, DevFile: devFile})
	if err != nil {
		fmt.Println("master key not checked (none given): start the API with the master key of the system backed up")
		return nil
	}
	ring, err := jetstream.OpenKeyRing(ctx, m.nc, master, jetstream.KeyRingConfig{NoCreate: true})
	if err == nil {
		_, err = ring.Secret(ctx, jetstream.SecretBlindIndex)
	}
	if err != nil {
		return fmt.Errorf("restore: the streams and tables are restored, but the master key given does not open the key ring (use the key of the system backed up): %w", err)
	}
	fmt.Println("the master key opens the restored key ring; start the API and the projector: the read models are rebuilt from the log")
	return nil
}

// BackupOrRestore dispatches `api backup` and `api restore`.
func (m *Main) BackupOrRestore(ctx context.Context, cmd string, args []string) error {
	if cmd == "restore" {
		return m.Restore(ctx, args)
	}
	return m.Backup(ctx, args)
}
