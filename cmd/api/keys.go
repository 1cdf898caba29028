package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"cihui/internal/config"
	"cihui/internal/events"
	"cihui/internal/jetstream"
)

// Keys runs `api keys rotate`: every data key and secret in CIHUI_KEYS is
// re-wrapped under a new master key and the copies wrapped under the old
// one are deleted securely. Stop the API and the projector first.
func (m *Main) Keys(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("keys: rotate --new-master-key-file F (or CIHUI_NEW_MASTER_KEY)")
	}
	if len(args) > 1 {
		return fmt.Errorf("keys rotate: unexpected arguments %q", args[1:])
	}
	// Rotation rewrites the ring under the API's feet: refuse while the
	// API runs on this data directory (its endpoints file names a live
	// process). With NATS_URL/DATABASE_URL the operator must stop it.
	if ep, ok, err := config.RunningEndpoints(m.DataDir); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("keys rotate: the API runs on %s (pid %d); stop the API and the projector first", m.DataDir, ep.PID)
	}
	newMaster, err := newMasterKey(m.NewMasterKeyFile)
	if err != nil {
		return err
	}
	master, err := m.masterKey()
	if err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	if _, err := m.openNATS(); err != nil {
		return err
	}
	store, err := jetstream.Open(ctx, m.nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{Replicas: m.Replicas})
	if err != nil {
		return err
	}
	// Keys still in an earlier version's PostgreSQL table move first, so
	// that they are rotated too.
	k, err := openKeys(ctx, m.nc, m.db, store, master, m.Replicas, m.log)
	if err != nil {
		return err
	}
	n, err := k.ring.Rotate(ctx, newMaster)
	if err != nil {
		return fmt.Errorf("keys rotate (run it again with the same keys to finish): %w", err)
	}
	fmt.Printf("re-wrapped %d data keys and secrets under the new master key; the old copies are deleted\n", n)
	if m.Dev && os.Getenv("CIHUI_MASTER_KEY") == "" && m.MasterKeyFile == "" {
		if err := config.WriteMasterKey(filepath.Join(m.DataDir, "master.key"), newMaster); err != nil {
			return fmt.Errorf("the ring is rotated, but writing the new development key failed; start with the new key file: %w", err)
		}
		fmt.Println("development key replaced in", filepath.Join(m.DataDir, "master.key"))
		return nil
	}
	fmt.Println("start the API and the projector with the new master key, then destroy the old one:" +
		" backups taken before now open nothing once it is gone")
	return nil
}

func newMasterKey(file string) ([]byte, error) {
	if v := os.Getenv("CIHUI_NEW_MASTER_KEY"); v != "" {
		return config.DecodeMasterKey(v, "CIHUI_NEW_MASTER_KEY")
	}
	if file == "" {
		return nil, errors.New("keys rotate: give the new master key with --new-master-key-file or CIHUI_NEW_MASTER_KEY")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("keys rotate: %w", err)
	}
	return config.DecodeMasterKey(string(b), file)
}
