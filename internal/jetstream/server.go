// Package jetstream is the event store on NATS JetStream, and the embedded
// NATS server the system runs by default.
package jetstream

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
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
	// AuthDir holds the users' nkey seeds (see Users): created with mode
	// 0600 on first start, reused afterwards. Default: <StoreDir>/auth.
	// The server always requires credentials; clients connect with
	// Credentials(AuthDir, user).
	AuthDir string
	// Name is the server's name, unique within a cluster; default
	// "cihui-embedded".
	Name string
	// Cluster, when set, joins a JetStream cluster (routes between the
	// servers); nil runs a single server.
	Cluster *ClusterOptions
	// ReadyTimeout bounds the wait for the server to accept connections
	// (recovering a large store takes a while); default one minute.
	ReadyTimeout time.Duration
}

// ClusterOptions join the embedded server to a JetStream cluster.
type ClusterOptions struct {
	// Name of the cluster, the same on every server.
	Name string
	// Host and Port where routes are accepted; Port -1 picks a free port
	// (read it back with ClusterAddr).
	Host string
	Port int
	// Routes are the other servers' route URLs, nats://host:port.
	Routes []string
}

// RunServer starts an in-process NATS server with JetStream file storage
// that syncs every write to disk before acknowledging it (SyncAlways), so
// an acknowledged event is never lost. Only the system's users connect,
// each with its own nkey and permissions (Permissions): an anonymous
// client is refused.
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
	if o.AuthDir == "" {
		o.AuthDir = filepath.Join(dir, "auth")
	}
	users, err := ensureUsers(o.AuthDir)
	if err != nil {
		return nil, fmt.Errorf("jetstream: credentials: %w", err)
	}
	if o.Name == "" {
		o.Name = "cihui-embedded"
	}
	opts := &server.Options{
		ServerName: o.Name,
		Nkeys:      users,
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
	if c := o.Cluster; c != nil {
		if c.Host == "" {
			c.Host = o.Host
		}
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: c.Host, Port: c.Port}
		for _, r := range c.Routes {
			u, err := url.Parse(r)
			if err != nil {
				return nil, fmt.Errorf("jetstream: route %q: %w", r, err)
			}
			opts.Routes = append(opts.Routes, u)
		}
	}
	// A port in use is reported at once, not after the ready timeout.
	for _, port := range []int{opts.Port, opts.Cluster.Port} {
		if port > 0 {
			l, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(port)))
			if err != nil {
				return nil, fmt.Errorf("jetstream: embedded server: %w", err)
			}
			_ = l.Close()
		}
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = time.Minute
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: embedded server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(o.ReadyTimeout) {
		s.Shutdown()
		return nil, fmt.Errorf("jetstream: embedded server %s did not become ready in %s", o.Name, o.ReadyTimeout)
	}
	return s, nil
}
