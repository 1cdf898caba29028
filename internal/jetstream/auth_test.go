package jetstream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"cihui/internal/events"
	"cihui/internal/jetstream"
)

// violations connects as user and collects the server's permission
// violations reported to that connection.
type violations struct {
	nc   *nats.Conn
	errs chan error
}

func connectWatched(t *testing.T, srv *server.Server, authDir, user string) *violations {
	t.Helper()
	creds, err := jetstream.Credentials(authDir, user)
	if err != nil {
		t.Fatal(err)
	}
	v := &violations{errs: make(chan error, 64)}
	v.nc, err = nats.Connect(srv.ClientURL(), creds, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case v.errs <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.nc.Close)
	return v
}

// expectViolation fails the test unless the server reported a permissions
// violation naming subject.
func (v *violations) expectViolation(t *testing.T, subject string) {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case err := <-v.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), subject) {
				return
			}
		case <-timeout:
			t.Fatalf("no permissions violation reported for %s", subject)
		}
	}
}

// authServer runs a server with the event stream created by the API user
// and one event in it; it returns the server, its auth dir and the API's
// store.
func authServer(t *testing.T) (*server.Server, string, *jetstream.Store) {
	t.Helper()
	srv, auth := runServer(t, jetstream.ServerOptions{StoreDir: t.TempDir(), Port: -1})
	nc := connect(t, srv, auth, jetstream.UserAPI)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := jetstream.Open(ctx, nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	id := events.StreamID{Branch: "b1", Type: events.AggregateReferral, ID: "r1"}
	if _, err := s.Append(ctx, events.Append{Stream: id, Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}}}); err != nil {
		t.Fatal(err)
	}
	return srv, auth, s
}

func lastSeq(t *testing.T, s *jetstream.Store) uint64 {
	t.Helper()
	n, err := s.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Finding 2: the embedded server accepted a CONNECT without credentials.
// Now the connection is refused, with nats.go and at the protocol level.
func TestFinding2UnauthenticatedConnectRefused(t *testing.T) {
	srv, _, _ := authServer(t)
	if nc, err := nats.Connect(srv.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("anonymous connect: %v, want an authorization violation", err)
	}
}

// Finding 2: an anonymous client published a forged DocumentChecked
// envelope and the API showed it. Speaking the protocol by hand, the
// publish never reaches the stream.
func TestFinding2ForgedEnvelopeFromAnonymousClientImpossible(t *testing.T) {
	srv, _, s := authServer(t)
	before := lastSeq(t, s)
	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("server greeting %q", line)
	}
	forged := `{"type":"DocumentChecked","payload":{"item":1,"conforms":true}}`
	_, _ = conn.Write([]byte("CONNECT {\"verbose\":false,\"pedantic\":false}\r\n" +
		"PUB cihui.b1.referral.r1 " + itoa(len(forged)) + "\r\n" + forged + "\r\nPING\r\n"))
	var replies []string
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			replies = append(replies, strings.TrimSpace(line))
		}
		if err != nil || strings.HasPrefix(line, "PONG") {
			break
		}
	}
	if len(replies) == 0 || !strings.Contains(replies[0], "Authorization Violation") {
		t.Fatalf("server answered %q, want an authorization violation", replies)
	}
	for _, l := range replies {
		if strings.HasPrefix(l, "PONG") {
			t.Fatalf("the server kept the anonymous connection: %q", replies)
		}
	}
	if after := lastSeq(t, s); after != before {
		t.Fatalf("the stream grew from %d to %d", before, after)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// A key the server does not know, a user/password, and the right user
// name with a wrong password are all refused.
func TestNATSAuthWrongCredentialsRefused(t *testing.T) {
	srv, _, _ := authServer(t)
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	cases := map[string]nats.Option{
		"unknown nkey":   nats.Nkey(pub, kp.Sign),
		"wrong password": nats.UserInfo(jetstream.UserAPI, "not-the-password"),
		"token":          nats.Token("guess"),
	}
	for name, opt := range cases {
		if nc, err := nats.Connect(srv.ClientURL(), opt); err == nil {
			nc.Close()
			t.Errorf("%s: connected", name)
		} else if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v, want an authorization violation", name, err)
		}
	}
}

// The projector reads (direct get, ordered consumer, stream info) but can
// publish nothing into the log and can neither create nor delete streams.
func TestNATSAuthProjectorOnlyReads(t *testing.T) {
	srv, auth, s := authServer(t)
	before := lastSeq(t, s)
	p := connectWatched(t, srv, auth, jetstream.UserProjector)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ps, err := jetstream.Attach(ctx, p.nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := ps.Load(ctx, events.StreamID{Branch: "b1", Type: events.AggregateReferral, ID: "r1"})
	if err != nil || loaded.Version != 1 {
		t.Fatalf("projector's direct get: version %d, %v", loaded.Version, err)
	}
	cons, err := ps.JetStream().OrderedConsumer(ctx, jetstream.StreamEvents, js.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := cons.Next(js.FetchMaxWait(5 * time.Second)); err != nil || m.Subject() != "cihui.b1.referral.r1" {
		t.Fatalf("projector's ordered consumer: %v", err)
	}

	// Publishing into the log: a plain publish and a JetStream publish.
	if err := p.nc.Publish("cihui.b1.referral.r1", []byte(`{"type":"DocumentChecked"}`)); err != nil {
		t.Fatal(err)
	}
	p.expectViolation(t, "cihui.b1.referral.r1")
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	if _, err := ps.JetStream().Publish(pctx, "cihui.b1.referral.r2", []byte("{}")); err == nil {
		t.Error("the projector's JetStream publish was acknowledged")
	}
	pcancel()
	actx, acancel := context.WithTimeout(ctx, time.Second)
	defer acancel()
	if _, err := ps.Append(actx, events.Append{
		Stream: events.StreamID{Branch: "b1", Type: events.AggregateReferral, ID: "r3"},
		Events: []events.Event{events.DocumentSubmitted{Item: 1, Pages: 1}, events.DocumentSubmitted{Item: 2, Pages: 1}},
	}); err == nil {
		t.Error("the projector's atomic batch was acknowledged")
	}

	// Creating, deleting and purging streams.
	sctx, scancel := context.WithTimeout(ctx, time.Second)
	if _, err := ps.JetStream().CreateStream(sctx, js.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err == nil {
		t.Error("the projector created a stream")
	}
	scancel()
	p.expectViolation(t, "$JS.API.STREAM.CREATE.OTHER")
	// The projector holds no key and reads none: the read models hold
	// personal data sealed (issue 8).
	for _, subj := range []string{"$JS.API.STREAM.DELETE.CIHUI", "$JS.API.STREAM.PURGE.CIHUI", "$JS.API.STREAM.UPDATE.CIHUI", "$JS.API.STREAM.MSG.DELETE.CIHUI",
		"$JS.API.STREAM.INFO.CIHUI_KEYS", "$JS.API.DIRECT.GET.CIHUI_KEYS", "$JS.API.DIRECT.GET.CIHUI_KEYS.cihui_keys.k1",
		// Backup and restore are the API user's (issue 12).
		"$JS.API.STREAM.SNAPSHOT.CIHUI", "$JS.API.STREAM.RESTORE.CIHUI", "$JS.SNAPSHOT.ACK.CIHUI.x", "$JS.SNAPSHOT.RESTORE.CIHUI.x"} {
		if _, err := p.nc.Request(subj, []byte(`{"seq":1}`), 300*time.Millisecond); err == nil {
			t.Errorf("%s answered", subj)
		}
		p.expectViolation(t, subj)
	}
	if after := lastSeq(t, s); after != before {
		t.Fatalf("the stream went from %d to %d events", before, after)
	}
}

// No user may delete or purge the event stream or delete one of its
// events; the API may delete a single message of the data-key ring
// (erasure destroys a key), and nothing else.
func TestNATSAuthNoUserDeletesOrPurgesTheLog(t *testing.T) {
	srv, auth, s := authServer(t)
	before := lastSeq(t, s)
	a := connectWatched(t, srv, auth, jetstream.UserAPI)
	for _, subj := range []string{
		"$JS.API.STREAM.DELETE.CIHUI", "$JS.API.STREAM.PURGE.CIHUI", "$JS.API.STREAM.MSG.DELETE.CIHUI",
		"$JS.API.STREAM.DELETE.CIHUI_ACCESS", "$JS.API.STREAM.PURGE.CIHUI_KEYS", "$JS.API.STREAM.MSG.DELETE.CIHUI_ACCESS",
	} {
		if _, err := a.nc.Request(subj, []byte(`{"seq":1}`), 300*time.Millisecond); err == nil {
			t.Errorf("%s answered", subj)
		}
		a.expectViolation(t, subj)
	}
	// The API may restore a stream (issue 12), but the server restores
	// only one that does not exist: the log cannot be replaced.
	cfg, _ := json.Marshal(map[string]any{"config": map[string]any{"name": jetstream.StreamEvents, "subjects": []string{"cihui.>"}, "storage": "file"}})
	if m, err := a.nc.Request("$JS.API.STREAM.RESTORE."+jetstream.StreamEvents, cfg, 2*time.Second); err != nil || !strings.Contains(string(m.Data), `"error"`) {
		t.Errorf("restoring over the event log was not refused: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := js.New(a.nc)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := j.CreateOrUpdateStream(ctx, js.StreamConfig{Name: jetstream.StreamKeys, Subjects: []string{"cihui_keys.>"}, Storage: js.FileStorage})
	if err != nil {
		t.Fatalf("the API ensuring the key ring: %v", err)
	}
	ack, err := j.Publish(ctx, "cihui_keys.k1", []byte("wrapped"))
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.SecureDeleteMsg(ctx, ack.Sequence); err != nil {
		t.Fatalf("the API destroying a data key: %v", err)
	}
	if after := lastSeq(t, s); after != before {
		t.Fatalf("the stream went from %d to %d events", before, after)
	}
	st, err := j.Stream(ctx, jetstream.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.Msgs != before {
		t.Fatalf("the stream holds %d events, want %d (%v)", info.State.Msgs, before, err)
	}
}

// The seeds are created on first start, mode 0600 in a 0700 directory,
// and reused: a restarted server accepts the same credentials. A seed
// readable by others is refused.
func TestNATSAuthCredentialsCreatedOnceAndReused(t *testing.T) {
	store, auth := t.TempDir(), filepath.Join(t.TempDir(), "nats-auth")
	srv, _ := runServer(t, jetstream.ServerOptions{StoreDir: store, AuthDir: auth, Port: -1})
	first := map[string][]byte{}
	for _, u := range jetstream.Users {
		fi, err := os.Stat(jetstream.SeedFile(auth, u))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", u, fi.Mode().Perm())
		}
		first[u], _ = os.ReadFile(jetstream.SeedFile(auth, u))
	}
	if fi, _ := os.Stat(auth); fi.Mode().Perm() != 0o700 {
		t.Errorf("auth dir mode %v, want 0700", fi.Mode().Perm())
	}
	srv.Shutdown()
	srv.WaitForShutdown()

	srv2, _ := runServer(t, jetstream.ServerOptions{StoreDir: store, AuthDir: auth, Port: -1})
	for _, u := range jetstream.Users {
		if b, _ := os.ReadFile(jetstream.SeedFile(auth, u)); string(b) != string(first[u]) {
			t.Errorf("%s: the seed changed on restart", u)
		}
		connect(t, srv2, auth, u)
	}
	srv2.Shutdown()
	srv2.WaitForShutdown()

	if err := os.Chmod(jetstream.SeedFile(auth, jetstream.UserAPI), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: store, AuthDir: auth, Port: -1}); err == nil {
		s.Shutdown()
		t.Fatal("a world-readable seed was used")
	}
}
