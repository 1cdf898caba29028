package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"cihui/internal/events"
	"cihui/internal/jetstream"
)

// clusterNode is one server of a three-node JetStream cluster on
// loopback, run as a separate process (this test binary, see TestMain) so
// that it can be killed with SIGKILL mid-write.
type clusterNode struct {
	name        string
	dir         string
	clientPort  int
	clusterPort int
	cmd         *exec.Cmd
	stdin       io.WriteCloser
	statePort   int // the child's HTTP endpoint reporting its local stream state
}

type testCluster struct {
	t     *testing.T
	auth  string
	nodes []*clusterNode
}

// freePort returns a free port below the kernel's ephemeral range (from
// 32768), so that no outgoing connection takes it while its node is down,
// and never one it returned before: the ports are only bound when the
// nodes start, so a free port could otherwise be handed to two of them.
func freePort(t *testing.T) int {
	t.Helper()
	usedPorts.Lock()
	defer usedPorts.Unlock()
	for range 100 {
		port := 20000 + rand.IntN(12000)
		if usedPorts.m[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = l.Close()
			usedPorts.m[port] = true
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

var usedPorts = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// newTestCluster starts three nodes. A port taken by another process
// between freePort and a node's start fails that node at once; the
// cluster then starts again on new ports, up to three times.
func newTestCluster(t *testing.T) *testCluster {
	c := &testCluster{t: t, auth: t.TempDir()}
	t.Cleanup(c.stopAll)
	for attempt := 1; ; attempt++ {
		c.nodes = nil
		for i := range 3 {
			c.nodes = append(c.nodes, &clusterNode{
				name: fmt.Sprintf("n%d", i), dir: t.TempDir(),
				clientPort: freePort(t), clusterPort: freePort(t),
			})
		}
		var err error
		for _, n := range c.nodes {
			if err = c.tryStart(n); err != nil {
				break
			}
		}
		if err == nil {
			return c
		}
		c.stopAll()
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("starting the cluster again on other ports: %v", err)
	}
}

// stopAll shuts down every running node.
func (c *testCluster) stopAll() {
	for _, n := range c.nodes {
		if n.cmd != nil {
			_ = n.stdin.Close() // the child shuts its server down
			_ = n.cmd.Wait()
			n.cmd = nil
		}
	}
}

// nodeEnv carries a child node's options.
const nodeEnv = "CIHUI_TEST_NATS_NODE"

// TestMain runs a cluster node instead of the tests when started as one.
func TestMain(m *testing.M) {
	if o := os.Getenv(nodeEnv); o != "" {
		runNode(o)
		return
	}
	os.Exit(m.Run())
}

// nodeState is a node's own view of the event stream.
type nodeState struct {
	Current bool   `json:"current"`
	Msgs    uint64 `json:"msgs"`
	LastSeq uint64 `json:"last_seq"`
	Found   bool   `json:"found"`
}

// runNode is a child process: it runs one embedded server, reports its
// local stream state over HTTP, prints "ready <http port>" and serves
// until its stdin closes (the test ended or the parent died).
func runNode(opts string) {
	var o jetstream.ServerOptions
	if err := json.Unmarshal([]byte(opts), &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv, err := jetstream.RunServer(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			var st nodeState
			if info, err := srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true}); err == nil {
				for _, a := range info.AccountDetails {
					for _, s := range a.Streams {
						if s.Name == jetstream.StreamEvents {
							st = nodeState{Found: true, Msgs: s.State.Msgs, LastSeq: s.State.LastSeq}
						}
					}
				}
			}
			st.Current = st.Found && srv.JetStreamIsStreamCurrent("$G", jetstream.StreamEvents)
			_ = json.NewEncoder(w).Encode(st)
		}))
	}()
	fmt.Printf("ready %d\n", l.Addr().(*net.TCPAddr).Port)
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Shutdown()
	srv.WaitForShutdown()
}

// start (re)starts node n as a child process on its own store dir and
// ports, with routes to the other two.
func (c *testCluster) start(n *clusterNode) {
	c.t.Helper()
	if err := c.tryStart(n); err != nil {
		c.t.Fatal(err)
	}
}

// tryStart starts node n; an error if the child exits before it is
// ready (its ports taken, say) or is not ready within 90 seconds.
func (c *testCluster) tryStart(n *clusterNode) error {
	var routes []string
	for _, o := range c.nodes {
		if o != n {
			routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", o.clusterPort))
		}
	}
	opts, _ := json.Marshal(jetstream.ServerOptions{
		StoreDir: n.dir, AuthDir: c.auth, Name: n.name, Port: n.clientPort,
		Cluster: &jetstream.ClusterOptions{Name: "cihui-test", Port: n.clusterPort, Routes: routes},
	})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"="+string(opts))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// The child's stdout ends when it exits: before "ready", that is a
	// failed start.
	ready, exited := make(chan int, 1), make(chan struct{})
	go func() {
		var port int
		if _, err := fmt.Fscanf(stdout, "ready %d\n", &port); err == nil {
			ready <- port
		} else {
			close(exited)
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case n.statePort = <-ready:
	case <-exited:
		_ = cmd.Process.Kill() // if it is still running after all
		_ = cmd.Wait()
		return fmt.Errorf("node %s exited before it was ready (ports %d, %d)", n.name, n.clientPort, n.clusterPort)
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("node %s did not start", n.name)
	}
	n.cmd, n.stdin = cmd, stdin
	return nil
}

// kill kills node n with SIGKILL: no shutdown, no flush; what it
// acknowledged must already be on disk (SyncAlways).
func (c *testCluster) kill(n *clusterNode) {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
	_ = n.stdin.Close()
	n.cmd = nil
}

// state asks node n for its own view of the stream.
func (c *testCluster) state(n *clusterNode) (nodeState, error) {
	var st nodeState
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", n.statePort))
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (c *testCluster) urls() string {
	var u []string
	for _, n := range c.nodes {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", n.clientPort))
	}
	return strings.Join(u, ",")
}

// connect connects as the API user to url (one node or all of them).
func (c *testCluster) connect(url string, opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	creds, err := jetstream.Credentials(c.auth, jetstream.UserAPI)
	if err != nil {
		c.t.Fatal(err)
	}
	nc, err := nats.Connect(url, append([]nats.Option{creds}, opts...)...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// leader returns the node leading the event stream.
func (c *testCluster) leader(ctx context.Context, s *jetstream.Store) *clusterNode {
	c.t.Helper()
	for ctx.Err() == nil {
		st, err := s.JetStream().Stream(ctx, jetstream.StreamEvents)
		if err == nil {
			if info, err := st.Info(ctx); err == nil && info.Cluster != nil {
				for _, n := range c.nodes {
					if n.name == info.Cluster.Leader && n.cmd != nil {
						return n
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("no stream leader")
	return nil
}

// writer appends to its own aggregate through the event store, one or two
// events at a time (a single publish, or an atomic batch), as a client
// does: an append without an acknowledgement is retried with the same
// idempotency key, after reloading the aggregate to see whether it was
// recorded after all.
type writer struct {
	id    events.StreamID
	store *jetstream.Store
	acked []string // idempotency key of each acknowledged event, in order
	tries int
	// recognized counts appends whose acknowledgement was lost, found
	// recorded on a reload.
	recognized int
}

func (w *writer) run(ctx context.Context, stop *atomic.Bool, acks *atomic.Int64) error {
	var version, seq uint64
	for n := 0; !stop.Load(); n++ {
		key := fmt.Sprintf("%s-%d", w.id.ID, n)
		evs := []events.Event{events.DocumentSubmitted{Item: n%12 + 1, Pages: 1}}
		if n%4 == 3 {
			evs = append(evs, events.DocumentSubmitted{Item: (n+1)%12 + 1, Pages: 2})
		}
		for {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: append %s never acknowledged", w.id.ID, key)
			}
			w.tries++
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			envs, err := w.store.Append(actx, events.Append{
				Stream: w.id, ExpectedSeq: seq, ExpectedVersion: version, Events: evs,
				Meta: events.Metadata{IdempotencyKey: key, Actor: events.Actor{Role: events.RoleCommittee}, OccurredAt: time.Now()},
			})
			cancel()
			if err == nil {
				version, seq = envs[len(envs)-1].Version, envs[len(envs)-1].Position
				break
			}
			// Not acknowledged: was it recorded?
			lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			l, lerr := w.store.Load(lctx, w.id)
			cancel()
			if lerr != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			switch {
			case recorded(l, key, len(evs)) && l.Version == version+uint64(len(evs)):
				version, seq = l.Version, l.LastSeq
				w.recognized++
			case l.Version > version:
				return fmt.Errorf("%s: aggregate at version %d, the writer at %d, without %s", w.id.ID, l.Version, version, key)
			default:
				// Not recorded, or read from a replica that is behind: the
				// retry is safe, the leader checks the expected sequence.
				time.Sleep(50 * time.Millisecond)
				continue
			}
			break
		}
		for range evs {
			w.acked = append(w.acked, key)
		}
		acks.Add(int64(len(evs)))
	}
	return nil
}

// recorded reports whether the last n events of l carry key.
func recorded(l events.Loaded, key string, n int) bool {
	if len(l.Events) < n {
		return false
	}
	for _, e := range l.Events[len(l.Events)-n:] {
		if e.IdempotencyKey != key {
			return false
		}
	}
	return true
}

// readNode reads every event of the stream from node n alone: a
// connection to that node only, direct gets (served by the local replica),
// after the node reports its replica current.
func (c *testCluster) readNode(ctx context.Context, n *clusterNode, codec *events.Codec, want uint64) map[string][]events.Envelope {
	c.t.Helper()
	for {
		st, err := c.state(n)
		if err == nil && st.Current && st.LastSeq == want {
			if st.Msgs != want {
				c.t.Fatalf("%s holds %d messages up to %d", n.name, st.Msgs, st.LastSeq)
			}
			break
		}
		if ctx.Err() != nil {
			c.t.Fatalf("%s did not catch up: local state %+v, %v", n.name, st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	nc := c.connect(fmt.Sprintf("nats://127.0.0.1:%d", n.clientPort), nats.NoReconnect())
	defer nc.Close()
	s, err := jetstream.Attach(ctx, nc, codec, jetstream.Config{})
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string][]events.Envelope{}
	next := uint64(1)
	for next <= want {
		msgs, err := jetstreamext.GetBatch(ctx, s.JetStream(), jetstream.StreamEvents, 256, jetstreamext.GetBatchSeq(next))
		if err != nil {
			c.t.Fatal(err)
		}
		got := 0
		for m, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				break
			}
			if err != nil {
				c.t.Fatalf("%s: %v", n.name, err)
			}
			env, err := codec.Decode(m.Data)
			if err != nil {
				c.t.Fatal(err)
			}
			env.Position = m.Sequence
			out[env.ID] = append(out[env.ID], env)
			next = m.Sequence + 1
			got++
		}
		if got == 0 {
			c.t.Fatalf("%s: no message at %d of %d", n.name, next, want)
		}
	}
	return out
}

// A three-node cluster (three processes), the stream with three replicas:
// several writers append through the event store while the stream leader
// is killed with SIGKILL and restarted, then a node at random; every
// acknowledged event is then present exactly once on every node, the
// rejoined ones included, and each aggregate's versions run without a gap.
func TestClusterAcknowledgedEventsSurviveKilledLeader(t *testing.T) {
	start := time.Now()
	c := newTestCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	codec := events.NewCodec(events.DefaultRegistry())
	var admin *jetstream.Store
	nc := c.connect(c.urls(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	for {
		var err error
		octx, ocancel := context.WithTimeout(ctx, 2*time.Second)
		admin, err = jetstream.Open(octx, nc, codec, jetstream.Config{Replicas: 3})
		ocancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("creating the replicated stream: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	const nWriters = 4
	var stop atomic.Bool
	var acks atomic.Int64
	writers := make([]*writer, nWriters)
	errs := make(chan error, nWriters)
	var wg sync.WaitGroup
	for i := range writers {
		wnc := c.connect(c.urls(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		s, err := jetstream.Open(ctx, wnc, codec, jetstream.Config{Replicas: 3})
		if err != nil {
			t.Fatal(err)
		}
		writers[i] = &writer{id: events.StreamID{Branch: "b1", Type: events.AggregateReferral, ID: fmt.Sprintf("w%d", i)}, store: s}
		wg.Add(1)
		go func() { defer wg.Done(); errs <- writers[i].run(ctx, &stop, &acks) }()
	}
	waitAcks := func(more int64) {
		t.Helper()
		target := acks.Load() + more
		for acks.Load() < target {
			if ctx.Err() != nil {
				t.Fatalf("writes stalled at %d acknowledgements (want %d)", acks.Load(), target)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	kills := 0
	waitAcks(40)
	// SIGKILL the stream leader mid-write; the writers go on on a new leader.
	old := c.leader(ctx, admin)
	c.kill(old)
	kills++
	waitAcks(40)
	c.start(old)
	waitAcks(40)
	// Kill a node again (the leader or a follower at random), restart it.
	victim := c.leader(ctx, admin)
	if rand.IntN(2) == 0 {
		for _, n := range c.nodes {
			if n != victim {
				victim = n
				break
			}
		}
	}
	c.kill(victim)
	kills++
	t.Logf("killed %s (leader), then %s", old.name, victim.name)
	waitAcks(40)
	c.start(victim)
	waitAcks(40)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	acked := map[string]int{} // idempotency key → events acknowledged
	var total, tries, recognizedAppends int
	for _, w := range writers {
		recognizedAppends += w.recognized
		for _, k := range w.acked {
			acked[k]++
		}
		total += len(w.acked)
		tries += w.tries
	}
	last, err := admin.LastPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last != uint64(total) {
		t.Errorf("the stream ends at %d, %d events were acknowledged", last, total)
	}
	for _, n := range c.nodes {
		found := c.readNode(ctx, n, codec, uint64(total))
		byKey := map[string]int{}
		versions := map[string][]uint64{}
		for id, envs := range found {
			if len(envs) != 1 {
				t.Errorf("%s: event %s stored %d times", n.name, id, len(envs))
			}
			for _, e := range envs {
				byKey[e.IdempotencyKey]++
				versions[e.AggregateID] = append(versions[e.AggregateID], e.Version)
			}
		}
		for k, want := range acked {
			if byKey[k] != want {
				t.Errorf("%s: append %s acknowledged with %d events, %d found", n.name, k, want, byKey[k])
			}
		}
		if len(byKey) != len(acked) {
			t.Errorf("%s: %d appends found, %d acknowledged", n.name, len(byKey), len(acked))
		}
		for agg, vs := range versions {
			seen := map[uint64]bool{}
			for _, v := range vs {
				seen[v] = true
			}
			for v := uint64(1); v <= uint64(len(vs)); v++ {
				if !seen[v] {
					t.Errorf("%s: %s has no version %d of %d", n.name, agg, v, len(vs))
				}
			}
		}
		t.Logf("node %s: %d events found", n.name, len(found))
	}
	t.Logf("figures: writers=%d kills=%d (leader first) acknowledged=%d appends=%d attempts=%d recognized_on_retry=%d last_position=%d time=%s",
		nWriters, kills, total, len(acked), tries, recognizedAppends, last, time.Since(start).Round(time.Millisecond))
}
