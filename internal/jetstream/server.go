// Package jetstream is the event store on NATS JetStream, and the embedded
// NATS server the system runs by default.
package jetstream

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure the embedded NATS server.
type ServerOptions struct {
	// StoreDir holds JetStream's file storage.
	StoreDir string
	// Host and Port to listen on; Port -1 picks a free port. The embedded
	// server listens on loopback so that the projector can connect.
	Host string
	Port int
}

// RunServer starts an in-process NATS server with JetStream file storage
// that syncs every write to disk before acknowledging it (SyncAlways), so
// an acknowledged event is never lost.
func RunServer(o ServerOptions) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("jetstream: StoreDir is required")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	dir, err := filepath.Abs(o.StoreDir)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "cihui-embedded",
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
		// Leave room for large atomic batches (admissions at a meeting).
		MaxPayload: 4 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("jetstream: embedded server did not become ready")
	}
	return s, nil
}
